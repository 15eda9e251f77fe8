//! Solana JSON-RPC 2.0 over HTTP, in the shapes real clusters answer with.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use solana_address::Address;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;

use super::chain::{Chain, ChainError};

/// JSON-RPC error codes used by Solana's RPC.
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const SEND_TRANSACTION_PREFLIGHT_FAILURE: i64 = -32002;
const INTERNAL_ERROR: i64 = -32603;
const BLOCK_NOT_AVAILABLE: i64 = -32004;

/// Largest request body: a few transactions' worth, as a guard against memory abuse.
const MAX_BODY_BYTES: usize = 256 * 1024;

pub type SharedChain = Arc<Mutex<Chain>>;

pub fn router(chain: SharedChain) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(chain)
}

async fn handle(State(chain): State<SharedChain>, body: axum::body::Bytes) -> Json<Value> {
    let response = tokio::task::spawn_blocking(move || respond(&chain, &body))
        .await
        .unwrap_or_else(|_| {
            error_response(
                Value::Null,
                INTERNAL_ERROR,
                "request handler failed".into(),
                None,
            )
        });
    Json(response)
}

fn respond(chain: &SharedChain, body: &[u8]) -> Value {
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return error_response(Value::Null, -32700, format!("parse error: {e}"), None),
    };
    match request {
        Value::Array(batch) => {
            Value::Array(batch.into_iter().map(|r| respond_one(chain, r)).collect())
        }
        single => respond_one(chain, single),
    }
}

fn respond_one(chain: &SharedChain, request: Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return error_response(id, INVALID_REQUEST, "missing method".into(), None);
    };
    let params = request
        .get("params")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let Ok(mut chain) = chain.lock() else {
        return error_response(id, INTERNAL_ERROR, "chain state poisoned".into(), None);
    };
    match dispatch(&mut chain, method, &params) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(RpcError {
            code,
            message,
            data,
        }) => error_response(id, code, message, data),
    }
}

fn error_response(id: Value, code: i64, message: String, data: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let (Some(data), Some(object)) = (data, error.as_object_mut()) {
        object.insert("data".into(), data);
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError {
        code: INVALID_PARAMS,
        message: message.into(),
        data: None,
    }
}

impl From<ChainError> for RpcError {
    fn from(error: ChainError) -> Self {
        match error {
            ChainError::Simulation { err, logs } => RpcError {
                code: SEND_TRANSACTION_PREFLIGHT_FAILURE,
                message: format!("Transaction simulation failed: {err}"),
                data: Some(json!({"err": err, "logs": logs})),
            },
            ChainError::NotTokenAccount(address) => {
                invalid(format!("Invalid param: {address} is not a Token account"))
            }
            other => RpcError {
                code: INTERNAL_ERROR,
                message: other.to_string(),
                data: None,
            },
        }
    }
}

fn param<'a>(params: &'a Value, index: usize, name: &str) -> Result<&'a Value, RpcError> {
    params
        .get(index)
        .ok_or_else(|| invalid(format!("missing parameter {index} ({name})")))
}

fn address_param(params: &Value, index: usize) -> Result<Address, RpcError> {
    let text = param(params, index, "address")?
        .as_str()
        .ok_or_else(|| invalid("address must be a base58 string"))?;
    Address::from_str(text).map_err(|e| invalid(format!("Invalid param: {text}: {e}")))
}

fn u64_param(params: &Value, index: usize, name: &str) -> Result<u64, RpcError> {
    param(params, index, name)?
        .as_u64()
        .ok_or_else(|| invalid(format!("{name} must be an unsigned integer")))
}

fn config(params: &Value, index: usize) -> Value {
    params.get(index).cloned().unwrap_or(Value::Null)
}

fn transaction_param(params: &Value) -> Result<VersionedTransaction, RpcError> {
    let text = param(params, 0, "transaction")?
        .as_str()
        .ok_or_else(|| invalid("transaction must be a string"))?;
    let encoding = config(params, 1)
        .get("encoding")
        .and_then(Value::as_str)
        .unwrap_or("base58")
        .to_string();
    let bytes = match encoding.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| invalid(format!("invalid base64: {e}")))?,
        "base58" => bs58::decode(text)
            .into_vec()
            .map_err(|e| invalid(format!("invalid base58: {e}")))?,
        other => return Err(invalid(format!("unsupported encoding {other}"))),
    };
    bincode::deserialize(&bytes)
        .map_err(|e| invalid(format!("failed to deserialize transaction: {e}")))
}

fn with_context(chain: &Chain, value: Value) -> Value {
    json!({"context": {"slot": chain.slot(), "apiVersion": "4.2.0"}, "value": value})
}

fn dispatch(chain: &mut Chain, method: &str, params: &Value) -> Result<Value, RpcError> {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": "4.2.0-aip-devnet", "feature-set": 0})),
        "getSlot" => Ok(json!(chain.slot())),
        "getBlockHeight" => Ok(json!(chain.block_height())),
        "getBlockTime" => {
            // The devnet produces a block per request: the current slot's time is now, and
            // older slots have the time of the transactions processed in them.
            let slot = u64_param(params, 0, "slot")?;
            if slot == chain.slot() {
                Ok(json!(std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())))
            } else {
                chain
                    .block_time_of(slot)
                    .map(|t| json!(t))
                    .ok_or_else(|| RpcError {
                        code: BLOCK_NOT_AVAILABLE,
                        message: format!("Block not available for slot {slot}"),
                        data: None,
                    })
            }
        }
        "getLatestBlockhash" => {
            let (blockhash, last_valid) = chain.latest_blockhash();
            Ok(with_context(
                chain,
                json!({"blockhash": blockhash.to_string(), "lastValidBlockHeight": last_valid}),
            ))
        }
        "getMinimumBalanceForRentExemption" => {
            let len = usize::try_from(u64_param(params, 0, "data length")?)
                .map_err(|_| invalid("data length too large"))?;
            Ok(json!(chain.minimum_balance_for_rent_exemption(len)))
        }
        "getBalance" => {
            let address = address_param(params, 0)?;
            Ok(with_context(chain, json!(chain.balance(&address))))
        }
        "getAccountInfo" => {
            let address = address_param(params, 0)?;
            let encoding = config(params, 1)
                .get("encoding")
                .and_then(Value::as_str)
                .unwrap_or("base64")
                .to_string();
            if encoding != "base64" {
                return Err(invalid(format!(
                    "unsupported encoding {encoding}; use base64"
                )));
            }
            let value = chain.account(&address).map(|account| {
                json!({
                    "data": [base64::engine::general_purpose::STANDARD.encode(&account.data), "base64"],
                    "executable": account.executable,
                    "lamports": account.lamports,
                    "owner": account.owner.to_string(),
                    "rentEpoch": account.rent_epoch,
                    "space": account.data.len(),
                })
            });
            Ok(with_context(chain, value.unwrap_or(Value::Null)))
        }
        "getTokenAccountBalance" => {
            let address = address_param(params, 0)?;
            let balance = chain.token_balance(&address)?;
            let ui = ui_amount(balance.amount, balance.decimals);
            Ok(with_context(
                chain,
                json!({
                    "amount": balance.amount.to_string(),
                    "decimals": balance.decimals,
                    "uiAmount": ui.parse::<f64>().ok(),
                    "uiAmountString": ui,
                }),
            ))
        }
        "getSignatureStatuses" => {
            let signatures = param(params, 0, "signatures")?
                .as_array()
                .ok_or_else(|| invalid("signatures must be an array"))?;
            if signatures.len() > 256 {
                return Err(invalid("at most 256 signatures"));
            }
            let mut statuses = Vec::with_capacity(signatures.len());
            for text in signatures {
                let text = text
                    .as_str()
                    .ok_or_else(|| invalid("signature must be a string"))?;
                let signature = Signature::from_str(text)
                    .map_err(|e| invalid(format!("Invalid param: {text}: {e}")))?;
                statuses.push(chain.status(&signature).map_or(Value::Null, |status| {
                    let err = status.err.map_or(Value::Null, Value::String);
                    json!({
                        "slot": status.slot,
                        "confirmations": Value::Null,
                        "err": err,
                        "status": if err.is_null() { json!({"Ok": null}) } else { json!({"Err": err}) },
                        "confirmationStatus": "finalized",
                    })
                }));
            }
            Ok(with_context(chain, Value::Array(statuses)))
        }
        "sendTransaction" => {
            let tx = transaction_param(params)?;
            let preflight = !config(params, 1)
                .get("skipPreflight")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Ok(json!(chain.send(tx, preflight)?.to_string()))
        }
        "simulateTransaction" => {
            let tx = transaction_param(params)?;
            let verify = config(params, 1)
                .get("sigVerify")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let simulation = chain.simulate(tx, verify);
            let value = json!({
                "err": simulation.err,
                "logs": simulation.logs,
                "unitsConsumed": simulation.units_consumed,
                "accounts": null,
            });
            Ok(with_context(chain, value))
        }
        "getSignaturesForAddress" => {
            let address = address_param(params, 0)?;
            let options = config(params, 1);
            let limit = options
                .get("limit")
                .and_then(Value::as_u64)
                .unwrap_or(1000)
                .min(1000) as usize;
            let cursor = |name: &str| -> Result<Option<Signature>, RpcError> {
                options
                    .get(name)
                    .and_then(Value::as_str)
                    .map(|text| {
                        Signature::from_str(text)
                            .map_err(|_| invalid(format!("{name} is not a signature")))
                    })
                    .transpose()
            };
            let (before, until) = (cursor("before")?, cursor("until")?);
            let list: Vec<Value> = chain
                .signatures_for_address(&address, limit, before.as_ref(), until.as_ref())
                .into_iter()
                .map(|(signature, tx)| {
                    json!({
                        "signature": signature.to_string(),
                        "slot": tx.slot,
                        "blockTime": tx.block_time,
                        "err": tx.err,
                        "memo": null,
                        "confirmationStatus": "finalized",
                    })
                })
                .collect();
            Ok(Value::Array(list))
        }
        "getTransaction" => {
            let text = param(params, 0, "signature")?
                .as_str()
                .ok_or_else(|| invalid("signature must be a string"))?;
            let signature = Signature::from_str(text)
                .map_err(|e| invalid(format!("Invalid param: {text}: {e}")))?;
            let encoding = config(params, 1)
                .get("encoding")
                .and_then(Value::as_str)
                .unwrap_or("json")
                .to_string();
            if encoding != "base64" {
                return Err(invalid(format!(
                    "unsupported encoding {encoding}; use base64"
                )));
            }
            let balances = |list: &[crate::solana::chain::TokenBalanceEntry]| -> Vec<Value> {
                list.iter()
                    .map(|b| {
                        json!({
                            "accountIndex": b.account_index,
                            "mint": b.mint.to_string(),
                            "owner": b.owner.to_string(),
                            "programId": spl_token_interface::ID.to_string(),
                            "uiTokenAmount": {
                                "amount": b.amount.to_string(),
                                "decimals": b.decimals,
                                "uiAmountString": ui_amount(b.amount, b.decimals),
                            },
                        })
                    })
                    .collect()
            };
            Ok(chain.transaction(&signature).map_or(Value::Null, |tx| {
                json!({
                    "slot": tx.slot,
                    "blockTime": tx.block_time,
                    "transaction": [base64::engine::general_purpose::STANDARD.encode(&tx.wire), "base64"],
                    "meta": {
                        "err": tx.err,
                        "preTokenBalances": balances(&tx.pre_token_balances),
                        "postTokenBalances": balances(&tx.post_token_balances),
                    },
                })
            }))
        }
        "requestAirdrop" => {
            let address = address_param(params, 0)?;
            let lamports = u64_param(params, 1, "lamports")?;
            Ok(json!(chain.airdrop(&address, lamports)?.to_string()))
        }
        // Devnet-only: mint USDC into the owner's associated token account.
        "devnet_requestUsdc" => {
            let owner = address_param(params, 0)?;
            let amount = u64_param(params, 1, "amount")?;
            let (account, signature) = chain.usdc_airdrop(&owner, amount)?;
            Ok(json!({"account": account.to_string(), "signature": signature.to_string()}))
        }
        // Devnet-only: the USDC balance (base units) of the owner's associated token account.
        "devnet_usdcBalance" => {
            let owner = address_param(params, 0)?;
            Ok(json!(chain.usdc_balance(&owner)))
        }
        // Devnet-only: expire the current blockhash; returns the new block height.
        "devnet_expireBlockhash" => Ok(json!(chain.expire_blockhash())),
        other => Err(RpcError {
            code: METHOD_NOT_FOUND,
            message: format!("Method not found: {other}"),
            data: None,
        }),
    }
}

/// `amount / 10^decimals` as an exact decimal string.
fn ui_amount(amount: u64, decimals: u8) -> String {
    let digits = amount.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::ui_amount;

    #[test]
    fn ui_amounts_are_exact() {
        assert_eq!(ui_amount(5_000_000, 6), "5");
        assert_eq!(ui_amount(1_500_000, 6), "1.5");
        assert_eq!(ui_amount(1, 6), "0.000001");
        assert_eq!(ui_amount(0, 6), "0");
        assert_eq!(ui_amount(42, 0), "42");
    }
}
