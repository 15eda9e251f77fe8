//! The payment endpoints: session keys, sessions, smart payments and the device's part in
//! them, x402 payments, analytics. Each handler authorizes, reads its body strictly, and hands over to
//! [`crate::payments`]; the answer codes are that module's.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::read_json;
use super::error::{ApiError, ErrorCode};
use super::keys::KeyRecord;
use super::scope::Scope;
use super::state::ApiState;
use crate::payments::{device, dry_run, flow, intents, keys, sessions, x402};
use aip_wire::payments::{PaymentAnswer, PaymentStatus};

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

fn actor(caller: &KeyRecord) -> device::Actor<'_> {
    device::Actor {
        key_id: &caller.id,
        tenant: caller.tenant(),
        full: caller.scopes.contains(&Scope::Full),
    }
}

fn ok<T: serde::Serialize>(status: StatusCode, value: &T) -> Answer {
    serde_json::to_value(value)
        .map(|v| (status, Json(v)))
        .map_err(|_| ApiError::new(ErrorCode::Internal, "serializing the answer"))
}

/// 200 once signed; 202 while the device or the user must act.
fn payment(answer: &PaymentAnswer) -> Answer {
    let status = match answer.status {
        PaymentStatus::RequiresSignature | PaymentStatus::ApprovalRequired => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    ok(status, answer)
}

pub async fn encryption_target(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Answer {
    state.authorize(&headers, Scope::ManageSessions)?;
    ok(StatusCode::OK, &keys::encryption_target(&state.payments)?)
}

pub async fn register(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::ManageSessions)?;
    let request = read_json(body, state.max_body_bytes).await?;
    ok(
        StatusCode::CREATED,
        &keys::register(&state.payments, actor(&caller), request).await?,
    )
}

pub async fn session_key(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let caller = state.authorize(&headers, Scope::ManageSessions)?;
    let account = actor(&caller).account(&state.payments, &id).await?;
    ok(StatusCode::OK, &account.view())
}

pub async fn enable_autonomy(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::ManageSessions)?;
    let request = read_json(body, state.max_body_bytes).await?;
    ok(
        StatusCode::OK,
        &keys::enable_autonomy(&state.payments, actor(&caller), &id, request).await?,
    )
}

pub async fn revoke(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let caller = state.authorize(&headers, Scope::ManageSessions)?;
    ok(
        StatusCode::OK,
        &keys::revoke(&state.payments, actor(&caller), &id).await?,
    )
}

pub async fn create_session(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::ManageSessions)?;
    let request = read_json(body, state.max_body_bytes).await?;
    ok(
        StatusCode::CREATED,
        &sessions::create(&state.payments, actor(&caller), request).await?,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    #[serde(default)]
    pub session_key_id: Option<String>,
}

pub async fn list_sessions(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    query: Result<Query<SessionsQuery>, QueryRejection>,
) -> Answer {
    let Query(query) =
        query.map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("query: {e}")))?;
    let caller = state.authorize(&headers, Scope::ReadAnalytics)?;
    let list = sessions::list(
        &state.payments,
        actor(&caller),
        query.session_key_id.as_deref(),
    )
    .await?;
    ok(StatusCode::OK, &json!({ "sessions": list }))
}

pub async fn smart_payment(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    let request: aip_wire::payments::SmartPayment = read_json(body, state.max_body_bytes).await?;
    if request.dry_run {
        return ok(
            StatusCode::OK,
            &dry_run::decide(&state.payments, actor(&caller), &request).await?,
        );
    }
    payment(&flow::smart_payment(&state.payments, actor(&caller), request).await?)
}

/// `POST /v1/payment-intents`: 201 with the client secret (shown only here).
pub async fn create_intent(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    let request = read_json(body, state.max_body_bytes).await?;
    ok(
        StatusCode::CREATED,
        &intents::create(&state.payments, actor(&caller), request).await?,
    )
}

pub async fn get_intent(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    ok(
        StatusCode::OK,
        &intents::get(&state.payments, actor(&caller), &id).await?,
    )
}

pub async fn confirm_intent(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    let request = read_json(body, state.max_body_bytes).await?;
    ok(
        StatusCode::OK,
        &intents::confirm(&state.payments, actor(&caller), &id, request).await?,
    )
}

pub async fn cancel_intent(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    ok(
        StatusCode::OK,
        &intents::cancel(&state.payments, actor(&caller), &id).await?,
    )
}

/// `POST /v1/x402/pay`: 200 with the payment payload, or the refusal's code.
pub async fn x402_pay(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    let request = read_json(body, state.max_body_bytes).await?;
    ok(
        StatusCode::OK,
        &x402::pay(&state.payments, actor(&caller), request).await?,
    )
}

pub async fn submit_signed(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    let request = read_json(body, state.max_body_bytes).await?;
    payment(&device::submit_signed(&state.payments, actor(&caller), &id, request).await?)
}

pub async fn approve(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    let request = read_json(body, state.max_body_bytes).await?;
    payment(&device::approve(&state.payments, actor(&caller), &id, request).await?)
}

pub async fn get_payment(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let caller = state.authorize(&headers, Scope::CreatePayments)?;
    payment(&device::status(&state.payments, actor(&caller), &id).await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// The last N UTC days, today included (1 to 3650); all time if absent.
    #[serde(default)]
    pub period_days: Option<u32>,
}

pub async fn agents(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    query: Result<Query<AnalyticsQuery>, QueryRejection>,
) -> Answer {
    let Query(query) =
        query.map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("query: {e}")))?;
    let caller = state.authorize(&headers, Scope::ReadAnalytics)?;
    if query.period_days.is_some_and(|n| !(1..=3650).contains(&n)) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "period_days must be 1 to 3650",
        ));
    }
    let now_ms = u64::try_from(state.payments.now().0)
        .unwrap_or_default()
        .saturating_mul(1000);
    let report = state
        .payments
        .analytics
        .lock()
        .map_err(|_| ApiError::new(ErrorCode::Internal, "analytics are unavailable"))?
        .report(actor(&caller), query.period_days, now_ms);
    ok(StatusCode::OK, &report)
}

/// The service's fee payer and the mints it pays in.
pub async fn service(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Answer {
    state.authorize(&headers, Scope::ReadAnalytics)?;
    let payer = state.payments.payer()?;
    let mints: Vec<String> = payer.usdc_mints.iter().map(ToString::to_string).collect();
    ok(
        StatusCode::OK,
        &json!({ "fee_payer": payer.fee_payer.address().to_string(), "usdc_mints": mints }),
    )
}
