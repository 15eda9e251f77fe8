//! A small Solana JSON-RPC client for tests.

use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use solana_address::Address;
use solana_hash::Hash;

/// An error answer from the node (or a transport failure, code 0).
#[derive(Debug, Clone, thiserror::Error)]
#[error("rpc error {code}: {message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Value,
}

fn transport_error(error: &dyn std::fmt::Display) -> RpcError {
    RpcError {
        code: 0,
        message: error.to_string(),
        data: Value::Null,
    }
}

#[derive(Debug, Clone)]
pub struct Rpc {
    url: String,
    agent: ureq::Agent,
}

impl Rpc {
    pub fn new(url: String) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        Self { url, agent }
    }

    /// With a configured client (the devnet CA's, for HTTPS).
    pub fn with_agent(url: String, agent: ureq::Agent) -> Self {
        Self { url, agent }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response: Value = self
            .agent
            .post(&self.url)
            .send_json(body)
            .map_err(|e| transport_error(&e))?
            .into_json()
            .map_err(|e| transport_error(&e))?;
        if let Some(error) = response.get("error") {
            return Err(RpcError {
                code: error["code"].as_i64().unwrap_or_default(),
                message: error["message"].as_str().unwrap_or_default().to_string(),
                data: error.get("data").cloned().unwrap_or(Value::Null),
            });
        }
        Ok(response["result"].clone())
    }

    /// The latest blockhash and its last valid block height.
    pub fn latest_blockhash(&self) -> Result<(Hash, u64), RpcError> {
        let value = self.call("getLatestBlockhash", json!([]))?["value"].clone();
        let hash = value["blockhash"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|_| RpcError {
                code: 0,
                message: "bad blockhash".into(),
                data: value.clone(),
            })?;
        Ok((
            hash,
            value["lastValidBlockHeight"].as_u64().unwrap_or_default(),
        ))
    }

    pub fn balance(&self, address: &Address) -> Result<u64, RpcError> {
        Ok(
            self.call("getBalance", json!([address.to_string()]))?["value"]
                .as_u64()
                .unwrap_or_default(),
        )
    }

    /// Token balance in base units; `None` when the account does not exist.
    pub fn token_balance(&self, account: &Address) -> Result<Option<u64>, RpcError> {
        match self.call("getTokenAccountBalance", json!([account.to_string()])) {
            Ok(value) => Ok(value["value"]["amount"]
                .as_str()
                .and_then(|a| a.parse().ok())),
            Err(e) if e.code == -32602 => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn airdrop(&self, address: &Address, lamports: u64) -> Result<(), RpcError> {
        self.call("requestAirdrop", json!([address.to_string(), lamports]))
            .map(|_| ())
    }

    /// Devnet faucet: USDC into the owner's associated token account.
    pub fn usdc_airdrop(&self, owner: &Address, amount: u64) -> Result<(), RpcError> {
        self.call("devnet_requestUsdc", json!([owner.to_string(), amount]))
            .map(|_| ())
    }

    /// Sends wire bytes (base64); returns the signature.
    pub fn send(&self, wire: &[u8]) -> Result<String, RpcError> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(wire);
        let result = self.call("sendTransaction", json!([encoded, {"encoding": "base64"}]))?;
        Ok(result.as_str().unwrap_or_default().to_string())
    }

    /// Simulation error, if any.
    pub fn simulate(&self, wire: &[u8]) -> Result<Option<String>, RpcError> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(wire);
        let value = self.call(
            "simulateTransaction",
            json!([encoded, {"encoding": "base64"}]),
        )?["value"]
            .clone();
        Ok(value["err"].as_str().map(str::to_string))
    }

    /// `Some(err)` once landed (`err` is `None` on success), `None` when unknown to the chain.
    pub fn signature_status(&self, signature: &str) -> Result<Option<Option<String>>, RpcError> {
        let value = self.call("getSignatureStatuses", json!([[signature]]))?["value"][0].clone();
        if value.is_null() {
            return Ok(None);
        }
        Ok(Some(value["err"].as_str().map(str::to_string)))
    }

    /// The wire bytes of a landed transaction, if the chain has it.
    pub fn transaction(&self, signature: &str) -> Result<Option<Vec<u8>>, RpcError> {
        let answer = self.call("getTransaction", json!([signature, {"encoding": "base64"}]))?;
        Ok(answer["transaction"][0]
            .as_str()
            .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok()))
    }

    pub fn block_height(&self) -> Result<u64, RpcError> {
        Ok(self
            .call("getBlockHeight", json!([]))?
            .as_u64()
            .unwrap_or_default())
    }

    pub fn expire_blockhash(&self) -> Result<u64, RpcError> {
        Ok(self
            .call("devnet_expireBlockhash", json!([]))?
            .as_u64()
            .unwrap_or_default())
    }
}
