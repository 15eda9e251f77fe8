//! A small Solana JSON-RPC client over [`crate::egress_json`] for one endpoint: only the calls
//! payments need. The enclave asks a quorum of them (`super::quorum`), never one alone.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use solana_hash::Hash;

use crate::egress_json::{post_json, Egress, EgressJsonError};

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("Solana RPC unreachable")]
    Transport(#[source] EgressJsonError),
    #[error("Solana RPC {method}: {agreeing} of the endpoints agree, the quorum is {quorum} ({answered} answered)")]
    NoQuorum {
        method: &'static str,
        answered: usize,
        agreeing: usize,
        quorum: usize,
    },
    #[error("Solana RPC {method} refused ({code}): {message}")]
    Refused {
        method: &'static str,
        code: i64,
        message: String,
    },
    #[error("Solana RPC {method} served a transaction that cannot be taken")]
    Served {
        method: &'static str,
        #[source]
        source: super::landed::ServedTransactionError,
    },
    #[error("Solana RPC {method} answered something unexpected: {what}")]
    Malformed {
        method: &'static str,
        what: &'static str,
    },
}

/// Where a signature stands on the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LandedStatus {
    /// Unknown to the chain.
    Absent,
    /// Included; `err` is the runtime's error if the transaction failed (fees were still paid).
    Landed { slot: u64, err: Option<String> },
}

/// One entry of an address's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    pub signature: String,
    pub block_time: Option<i64>,
    /// The transaction failed (it moved nothing but its fee).
    pub failed: bool,
}

/// JSON-RPC to one cluster endpoint through egress.
#[derive(Debug, Clone)]
pub struct SolanaRpc {
    pub egress: Egress,
    pub host: String,
    pub port: u16,
    pub timeout: Duration,
}

impl SolanaRpc {
    async fn call(&self, method: &'static str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut answer = post_json(
            &self.egress,
            &self.host,
            self.port,
            "/",
            &body,
            self.timeout,
        )
        .await
        .map_err(RpcError::Transport)?;
        if let Some(error) = answer.get("error") {
            return Err(RpcError::Refused {
                method,
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"]
                    .as_str()
                    .unwrap_or("no message")
                    .chars()
                    .take(300)
                    .collect(),
            });
        }
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(RpcError::Malformed {
                method,
                what: "no result",
            }),
        }
    }

    /// A recent blockhash and the last block height at which a transaction using it can land.
    pub async fn latest_blockhash(&self) -> Result<(Hash, u64), RpcError> {
        const METHOD: &str = "getLatestBlockhash";
        let result = self
            .call(METHOD, json!([{"commitment": "confirmed"}]))
            .await?;
        let value = &result["value"];
        let hash = value["blockhash"]
            .as_str()
            .and_then(|text| text.parse::<Hash>().ok())
            .ok_or(RpcError::Malformed {
                method: METHOD,
                what: "blockhash",
            })?;
        let last_valid = value["lastValidBlockHeight"]
            .as_u64()
            .ok_or(RpcError::Malformed {
                method: METHOD,
                what: "lastValidBlockHeight",
            })?;
        Ok((hash, last_valid))
    }

    /// The block time (Unix seconds) of the newest confirmed slot: the cluster's clock.
    pub async fn block_time(&self) -> Result<i64, RpcError> {
        let slot = self
            .call("getSlot", json!([{"commitment": "confirmed"}]))
            .await?
            .as_u64()
            .ok_or(RpcError::Malformed {
                method: "getSlot",
                what: "slot",
            })?;
        self.call("getBlockTime", json!([slot]))
            .await?
            .as_i64()
            .ok_or(RpcError::Malformed {
                method: "getBlockTime",
                what: "block time",
            })
    }

    pub async fn block_height(&self) -> Result<u64, RpcError> {
        const METHOD: &str = "getBlockHeight";
        self.call(METHOD, json!([{"commitment": "confirmed"}]))
            .await?
            .as_u64()
            .ok_or(RpcError::Malformed {
                method: METHOD,
                what: "block height",
            })
    }

    /// The lamports `address` holds at the confirmed commitment.
    pub async fn balance(&self, address: &str) -> Result<u64, RpcError> {
        const METHOD: &str = "getBalance";
        self.call(METHOD, json!([address, {"commitment": "confirmed"}]))
            .await?["value"]
            .as_u64()
            .ok_or(RpcError::Malformed {
                method: METHOD,
                what: "balance",
            })
    }

    /// Whether an account exists (holds lamports) at the confirmed commitment.
    pub async fn account_exists(&self, address: &str) -> Result<bool, RpcError> {
        const METHOD: &str = "getAccountInfo";
        let result = self
            .call(
                METHOD,
                json!([address, {"encoding": "base64", "commitment": "confirmed"}]),
            )
            .await?;
        match &result["value"] {
            serde_json::Value::Null => Ok(false),
            serde_json::Value::Object(_) => Ok(true),
            _ => Err(RpcError::Malformed {
                method: METHOD,
                what: "value",
            }),
        }
    }

    /// Sends a signed transaction (with preflight); the cluster's signature for it.
    pub async fn send(&self, transaction: &[u8]) -> Result<String, RpcError> {
        const METHOD: &str = "sendTransaction";
        let encoded = base64::engine::general_purpose::STANDARD.encode(transaction);
        self.call(
            METHOD,
            json!([encoded, {"encoding": "base64", "preflightCommitment": "confirmed"}]),
        )
        .await?
        .as_str()
        .map(str::to_owned)
        .ok_or(RpcError::Malformed {
            method: METHOD,
            what: "signature",
        })
    }

    /// Up to `limit` transactions naming `address`, newest first: older than `before` and
    /// newer than `until` where given (one page of the address's history).
    pub async fn signatures_for_address(
        &self,
        address: &str,
        limit: usize,
        before: Option<&str>,
        until: Option<&str>,
    ) -> Result<Vec<SignatureInfo>, RpcError> {
        const METHOD: &str = "getSignaturesForAddress";
        let mut options = json!({"limit": limit, "commitment": "confirmed"});
        if let Some(before) = before {
            options["before"] = json!(before);
        }
        if let Some(until) = until {
            options["until"] = json!(until);
        }
        let result = self.call(METHOD, json!([address, options])).await?;
        let list = result.as_array().ok_or(RpcError::Malformed {
            method: METHOD,
            what: "not a list",
        })?;
        list.iter()
            .map(|entry| {
                Ok(SignatureInfo {
                    signature: entry["signature"]
                        .as_str()
                        .ok_or(RpcError::Malformed {
                            method: METHOD,
                            what: "signature",
                        })?
                        .to_owned(),
                    block_time: entry["blockTime"].as_i64(),
                    failed: !entry["err"].is_null(),
                })
            })
            .collect()
    }

    /// The landed transaction `signature` as this endpoint serves it: every signature it
    /// carries, whether it failed, and how many base units of `mints` the token accounts owned
    /// by `owner` lost in it (from its pre- and post-token balances); `None` if the cluster
    /// does not know it.
    pub async fn landed_transaction(
        &self,
        signature: &str,
        owner: &str,
        mints: &[String],
    ) -> Result<Option<super::LandedTransaction>, RpcError> {
        const METHOD: &str = "getTransaction";
        let result = self
            .call(
                METHOD,
                json!([signature, {"encoding": "base64", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
            )
            .await?;
        super::landed::read(&result, signature, owner, mints).map_err(|source| RpcError::Served {
            method: METHOD,
            source,
        })
    }

    /// Where `signature` stands.
    pub async fn status(&self, signature: &str) -> Result<LandedStatus, RpcError> {
        const METHOD: &str = "getSignatureStatuses";
        let result = self
            .call(
                METHOD,
                json!([[signature], {"searchTransactionHistory": true}]),
            )
            .await?;
        let entry = result["value"].get(0).ok_or(RpcError::Malformed {
            method: METHOD,
            what: "no status entry",
        })?;
        if entry.is_null() {
            return Ok(LandedStatus::Absent);
        }
        let slot = entry["slot"].as_u64().ok_or(RpcError::Malformed {
            method: METHOD,
            what: "slot",
        })?;
        let err = match &entry["err"] {
            Value::Null => None,
            other => Some(other.to_string()),
        };
        Ok(LandedStatus::Landed { slot, err })
    }
}
