//! The routes served now, the authorization every protected route goes through, and the
//! ledger head on every response.

use std::sync::Arc;

use aip_wire::ledger::LedgerHead;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error::{ApiError, ErrorCode};
use super::payments;
use super::scope::Scope;
use super::state::ApiState;

pub const LEDGER_HEAD_HEADER: &str = "x-ledger-head";

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
            Some(Ok(seen))
                if seen.seq > head.seq || (seen.seq == head.seq && seen.hash != head.hash) =>
            {
                let message = if seen.seq > head.seq {
                    format!(
                        "the client has seen ledger entry {} but this enclave's ledger ends at {}: its state was rolled back",
                        seen.seq, head.seq
                    )
                } else {
                    format!("the client's ledger entry {} differs from this enclave's: its state was replaced", seen.seq)
                };
                // Refused before routing: counted under route "*".
                let code = ErrorCode::RollbackDetected;
                state
                    .metrics
                    .count_request("*", code.status().as_u16(), code.as_str());
                return with_head(ApiError::new(code, message).into_response(), &head);
            }
            Some(Ok(_)) => {}
            _ => {
                let error = ApiError::new(
                    ErrorCode::BadRequest,
                    "X-Ledger-Head is not SEQ:HASH:SIGNATURE",
                );
                state.metrics.count_request("*", 400, error.code.as_str());
                return with_head(error.into_response(), &head);
            }
        }
    }
    let response = next.run(request).await;
    // The head after the request: what the client should remember.
    match state.head() {
        Ok(after) => with_head(response, &after),
        Err(error) => error.into_response(),
    }
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
        "platform": state.attestation.producer.platform().to_string(),
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

async fn not_found(State(state): State<Arc<ApiState>>) -> ApiError {
    let error = ApiError::new(ErrorCode::NotFound, "no such endpoint");
    // Unmatched paths are counted under one label: raw paths would be unbounded.
    state.metrics.count_request(
        "unmatched",
        error.code.status().as_u16(),
        error.code.as_str(),
    );
    error
}

/// Counts each answered request by route pattern, status and error code.
async fn count_requests(
    State(state): State<Arc<ApiState>>,
    route: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let route = route.as_str().to_owned();
    let response = next.run(request).await;
    let code = response
        .extensions()
        .get::<ErrorCode>()
        .map_or("", |c| c.as_str());
    state
        .metrics
        .count_request(&route, response.status().as_u16(), code);
    response
}

/// The router over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/ledger/head", get(ledger_head))
        .route("/v1/ledger", get(super::ledger_export::export))
        .route("/v1/attestation", get(super::attestation::attest))
        .route("/v1/agent-keys", post(super::agent_keys::create))
        .route("/v1/service", get(payments::service))
        .route(
            "/v1/session-keys/encryption-target",
            get(payments::encryption_target),
        )
        .route("/v1/session-keys/device-bound", post(payments::register))
        .route("/v1/session-keys/{id}", get(payments::session_key))
        .route(
            "/v1/session-keys/{id}/enable-autonomy",
            post(payments::enable_autonomy),
        )
        .route("/v1/session-keys/{id}/revoke", post(payments::revoke))
        .route(
            "/v1/sessions",
            post(payments::create_session).get(payments::list_sessions),
        )
        .route("/v1/smart-payment", post(payments::smart_payment))
        .route("/v1/x402/pay", post(payments::x402_pay))
        .route("/v1/pricing/suggest", post(super::pricing::suggest))
        .route("/v1/payment-intents", post(payments::create_intent))
        .route("/v1/payment-intents/{id}", get(payments::get_intent))
        .route(
            "/v1/payment-intents/{id}/confirm",
            post(payments::confirm_intent),
        )
        .route(
            "/v1/payment-intents/{id}/cancel",
            post(payments::cancel_intent),
        )
        .route("/v1/payments/{id}", get(payments::get_payment))
        .route(
            "/v1/payments/{id}/submit-signed",
            post(payments::submit_signed),
        )
        .route("/v1/payments/{id}/approve", post(payments::approve))
        .route("/v1/analytics/agents", get(payments::agents))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            count_requests,
        ))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            ledger_head_layer,
        ))
        .with_state(state)
}
