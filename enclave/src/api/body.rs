//! Request bodies: read up to the configured cap, then parsed strictly (unknown fields are
//! refused by the request types). Both failures are JSON errors and change nothing.

use axum::body::Body;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};

pub async fn read_json<T: DeserializeOwned>(body: Body, cap: usize) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, cap).await.map_err(|_| {
        ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the request body exceeds {cap} bytes"),
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("the request body: {e}")))
}
