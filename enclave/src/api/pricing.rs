//! `POST /v1/pricing/suggest`: AIP-1's PPP pricing helper (`crate::pricing`, pure). It signs
//! nothing and stores nothing; the answer is what the data file and the request make of it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::Value;

use super::body::read_json;
use super::error::{ApiError, ErrorCode};
use super::scope::Scope;
use super::state::ApiState;
use crate::pricing::{suggest as suggest_price, PricingRequest};

pub async fn suggest(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.authorize(&headers, Scope::CreatePayments)?;
    let request: PricingRequest = read_json(body, state.max_body_bytes).await?;
    let suggestion =
        suggest_price(&request).map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
    let value = serde_json::to_value(&suggestion)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "serializing the answer"))?;
    Ok((StatusCode::OK, Json(value)))
}
