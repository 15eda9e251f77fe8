//! JSON over HTTP/1.1 through the host's egress proxy: Lit nodes and Solana JSON-RPC.
//!
//! The host only connects the bytes (its allowlist decides where); the request and answer are
//! read here. Devnet nodes and the devnet RPC speak plain HTTP on loopback. Answers are capped
//! in size and in time.

use std::time::Duration;

use aip_wire::egress::connect_via_host;
use aip_wire::https::{self, ExchangeError};
use aip_wire::Endpoint;
use serde_json::Value;

/// Largest node answer read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum EgressJsonError {
    #[error("the host refused egress to {target}: {reason}")]
    Refused { target: String, reason: String },
    #[error("egress to {target}")]
    Egress {
        target: String,
        #[source]
        source: aip_wire::WireError,
    },
    #[error("HTTP with {target}")]
    Exchange {
        target: String,
        #[source]
        source: ExchangeError,
    },
    #[error("{target} answered {status}: {body}")]
    Status {
        target: String,
        status: u16,
        body: String,
    },
    #[error("{target} answered something that is not JSON")]
    NotJson { target: String },
    #[error("{target} did not answer within {0:?}", .timeout)]
    Timeout { target: String, timeout: Duration },
}

/// POSTs `body` to `http://host:port/path` through the egress proxy; the JSON answer of a 2xx.
pub async fn post_json(
    egress: &Endpoint,
    host: &str,
    port: u16,
    path: &str,
    body: &Value,
    timeout: Duration,
) -> Result<Value, EgressJsonError> {
    let target = format!("{host}:{port}");
    tokio::time::timeout(timeout, exchange(egress, host, port, path, body, &target))
        .await
        .map_err(|_| EgressJsonError::Timeout {
            target: target.clone(),
            timeout,
        })?
}

async fn exchange(
    egress: &Endpoint,
    host: &str,
    port: u16,
    path: &str,
    body: &Value,
    target: &str,
) -> Result<Value, EgressJsonError> {
    let stream = connect_via_host(egress, host, port)
        .await
        .map_err(|source| EgressJsonError::Egress {
            target: target.to_owned(),
            source,
        })?
        .map_err(|reason| EgressJsonError::Refused {
            target: target.to_owned(),
            reason,
        })?;
    let headers = [("content-type", "application/json")];
    let response = https::exchange(
        stream,
        target,
        "POST",
        path,
        &headers,
        body.to_string().into_bytes(),
        MAX_ANSWER_BYTES,
    )
    .await
    .map_err(|source| EgressJsonError::Exchange {
        target: target.to_owned(),
        source,
    })?;
    if !(200..300).contains(&response.status) {
        return Err(EgressJsonError::Status {
            target: target.to_owned(),
            status: response.status,
            body: String::from_utf8_lossy(&response.body)
                .chars()
                .take(300)
                .collect(),
        });
    }
    serde_json::from_slice(&response.body).map_err(|_| EgressJsonError::NotJson {
        target: target.to_owned(),
    })
}
