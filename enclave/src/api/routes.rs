//! The routes served now, the authorization every protected route goes through, and the
//! ledger head on every response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aip_wire::ledger::LedgerHead;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::error::{ApiError, ErrorCode};
use super::keys::{KeyError, KeyRecord, KeyRing};
use super::rate::TokenBucket;
use super::scope::Scope;

pub const LEDGER_HEAD_HEADER: &str = "x-ledger-head";

/// What the handlers share.
#[derive(Debug)]
pub struct ApiState {
    pub keys: Mutex<KeyRing>,
    pub buckets: Mutex<HashMap<String, TokenBucket>>,
    pub ledger_head: Mutex<LedgerHead>,
    pub started: Instant,
    /// The platform the evidence came from (nitro, sev-snp, dev), for health.
    pub platform: String,
}

impl ApiState {
    /// Milliseconds of the enclave's monotonic clock.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn head(&self) -> Result<LedgerHead, ApiError> {
        self.ledger_head
            .lock()
            .map(|head| *head)
            .map_err(|_| ApiError::new(ErrorCode::Internal, "the ledger state is unavailable"))
    }

    /// The API key's record, if the request carries a valid key with `needed` and the key's
    /// rate limit has room.
    pub fn authorize(&self, headers: &HeaderMap, needed: Scope) -> Result<KeyRecord, ApiError> {
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "missing Authorization: Bearer zai_... header",
                )
            })?;
        let record = {
            let mut keys = self
                .keys
                .lock()
                .map_err(|_| ApiError::new(ErrorCode::Internal, "the key ring is unavailable"))?;
            keys.authenticate(presented, needed)
                .map_err(|e| match e {
                    KeyError::MissingScope { .. } => {
                        ApiError::new(ErrorCode::ScopeMissing, e.to_string())
                    }
                    _ => ApiError::new(ErrorCode::Unauthorized, e.to_string()),
                })?
                .clone()
        };
        let now = self.now_ms();
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| ApiError::new(ErrorCode::Internal, "the rate limiter is unavailable"))?;
        let bucket = buckets
            .entry(record.id.clone())
            .or_insert_with(|| TokenBucket::new(record.rate, now));
        if !bucket.try_take(now) {
            let mut error = ApiError::new(
                ErrorCode::RateLimited,
                format!("key {} is over its rate limit", record.id),
            );
            error.retry_after = Some(bucket.wait_ms().div_ceil(1000));
            return Err(error);
        }
        Ok(record)
    }
}

/// Refuses a request whose client has seen a later ledger head than ours (the host rolled our
/// state back), and puts our signed head on every response.
async fn ledger_head_layer(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let head = match state.head() {
        Ok(head) => head,
        Err(error) => return error.into_response(),
    };
    if let Some(seen) = request.headers().get(LEDGER_HEAD_HEADER) {
        let seen = seen.to_str().ok().map(LedgerHead::from_header);
        match seen {
            Some(Ok(seen)) if seen.seq > head.seq => {
                let message = format!(
                    "the client has seen ledger entry {} but this enclave's ledger ends at {}: its state was rolled back",
                    seen.seq, head.seq
                );
                return with_head(
                    ApiError::new(ErrorCode::RollbackDetected, message).into_response(),
                    &head,
                );
            }
            Some(Ok(_)) => {}
            _ => {
                let error = ApiError::new(
                    ErrorCode::BadRequest,
                    "X-Ledger-Head is not SEQ:HASH:SIGNATURE",
                );
                return with_head(error.into_response(), &head);
            }
        }
    }
    with_head(next.run(request).await, &head)
}

fn with_head(mut response: Response, head: &LedgerHead) -> Response {
    if let Ok(value) = HeaderValue::from_str(&head.to_header()) {
        response.headers_mut().insert(LEDGER_HEAD_HEADER, value);
    }
    response
}

async fn health(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "serving",
        "platform": state.platform,
        "uptime_ms": state.now_ms(),
    }))
}

async fn ledger_head(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.authorize(&headers, Scope::ReadAnalytics)?;
    let head = state.head()?;
    Ok(Json(json!({
        "seq": head.seq,
        "hash": hex::encode(head.hash),
        "signature": hex::encode(head.signature),
    })))
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint")
}

/// The router over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/ledger/head", get(ledger_head))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            ledger_head_layer,
        ))
        .with_state(state)
}
