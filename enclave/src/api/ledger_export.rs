//! `GET /v1/ledger?from=SEQ&limit=N`: ledger entries for auditors, with the signed head.
//! `aipctl ledger verify` checks the chain and the head signature.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ErrorCode};
use super::scope::Scope;
use super::state::ApiState;

const MAX_LIMIT: u64 = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    #[serde(default = "first")]
    pub from: u64,
    #[serde(default = "max_limit")]
    pub limit: u64,
}

fn first() -> u64 {
    1
}

fn max_limit() -> u64 {
    MAX_LIMIT
}

pub async fn export(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("query: {e}")))?;
    state.authorize(&headers, Scope::ReadAnalytics)?;
    if query.from == 0 || query.limit == 0 || query.limit > MAX_LIMIT {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("from starts at 1; limit is 1..{MAX_LIMIT}"),
        ));
    }
    let entries = state
        .ledger
        .export(query.from, query.limit)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, aip_wire::process::error_chain(&e)))?;
    let head = state.head()?;
    Ok(Json(json!({
        "entries": entries,
        "head": head.to_header(),
        "signingPublicKey": hex::encode(state.ledger.public_key()),
    })))
}
