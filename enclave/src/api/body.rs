//! Request bodies: read up to the configured cap, then parsed strictly (unknown fields are
//! refused by the request types). Both failures are JSON errors and change nothing.

use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};

/// How much of an oversized body is read and dropped before answering 413, and for how long.
/// A server that answers and closes with request bytes still unread makes the kernel reset
/// the connection, and the client may lose the answer with it; reading a bounded rest lets a
/// client that sent a little too much see `body_too_large`. Nothing beyond the cap is kept.
const DRAIN_BYTES: usize = 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

pub async fn read_json<T: DeserializeOwned>(mut body: Body, cap: usize) -> Result<T, ApiError> {
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    let too_large = loop {
        match body.frame().await {
            None => break false,
            Some(Err(_)) => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "the request body could not be read",
                ))
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    seen = seen.saturating_add(data.len());
                    if seen > cap {
                        break true;
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    };
    if too_large {
        let drain = async {
            while seen <= DRAIN_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        seen = seen.saturating_add(frame.data_ref().map_or(0, |d| d.len()));
                    }
                    _ => break,
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
        return Err(ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the request body exceeds {cap} bytes"),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("the request body: {e}")))
}
