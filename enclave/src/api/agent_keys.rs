//! `POST /v1/agent-keys`: create a scoped API key; the key is in the answer once and nowhere
//! else.
//!
//! Who may create what: a key with `full` any scopes; a key with `manage_delegates` only
//! agent scopes (`create_payments`, `read_analytics`), so a delegate manager cannot mint a key
//! stronger than itself. There is no bootstrap request: the first key is the operator's root
//! key, pinned by its SHA-256 in the measured configuration, so hiding the key records from a
//! booting enclave lets nobody mint one (docs/threat-model.md).
//!
//! The sealed key record is stored and the creation is in the ledger before the answer.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::read_json;
use super::error::{ApiError, ErrorCode};
use super::keys::issue;
use super::rate::RateLimit;
use super::scope::Scope;
use super::state::{internal, ApiState};
use crate::state::host_store::Written;
use crate::state::sealed::seal;

/// Prefix of the sealed key records in the host's store.
pub const KEY_RECORD_PREFIX: &str = "keys/";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub label: String,
    pub scopes: BTreeSet<Scope>,
    #[serde(default)]
    pub rate: Option<RateLimit>,
    /// The tenant the new key acts for (a `full` creator only; see `payments::actor`).
    /// Without it: a `full` creator's key is its own tenant, a delegate manager's key is in
    /// the manager's tenant.
    #[serde(default)]
    pub tenant: Option<String>,
}

const AGENT_SCOPES: [Scope; 2] = [Scope::CreatePayments, Scope::ReadAnalytics];

pub async fn create(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: CreateKey = read_json(body, state.max_body_bytes).await?;
    if request.label.is_empty() || request.label.len() > 128 {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "label must be 1..128 characters",
        ));
    }
    let creator = state.authorize(&headers, Scope::ManageDelegates)?;
    let full = creator.scopes.contains(&Scope::Full);
    if let Some(scope) = request
        .scopes
        .iter()
        .find(|s| !full && !AGENT_SCOPES.contains(s))
    {
        return Err(ApiError::new(
            ErrorCode::ScopeMissing,
            format!(
                "a manage_delegates key may grant only create_payments and read_analytics, not {}",
                scope.as_str()
            ),
        ));
    }
    let tenant = match (full, request.tenant) {
        (true, tenant) => tenant,
        (false, None) => Some(creator.tenant().to_owned()),
        (false, Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::ScopeMissing,
                "only a full key may name a tenant; a manage_delegates key's keys join its own",
            ))
        }
    };
    if let Some(tenant) = &tenant {
        if tenant.is_empty() || tenant.len() > 128 || !tenant.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "tenant must be 1..128 printable ASCII characters",
            ));
        }
    }
    let (issued, record) = issue(
        &request.label,
        request.scopes.clone(),
        request.rate.unwrap_or(RateLimit::DEFAULT),
        tenant,
        state.now_ms(),
    )
    .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;

    // Persist before answering: the sealed record, then the ledger entry.
    let name = format!("{KEY_RECORD_PREFIX}{}", record.id);
    let bytes = serde_json::to_vec(&record).map_err(|_| internal("serializing the key record"))?;
    let sealed =
        seal(&state.state_key, &name, 1, &bytes).map_err(|_| internal("sealing the key record"))?;
    match state.store.put(&name, None, 1, sealed).await {
        Ok(Written::Stored { .. }) => {}
        Ok(Written::Conflict { .. }) => return Err(internal("a key record with this id exists")),
        Err(e) => {
            tracing::error!(error = %e, "storing a key record failed");
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "the key could not be stored; nothing was created",
            ));
        }
    }
    let scopes: Vec<&str> = record.scopes.iter().map(|s| s.as_str()).collect();
    state
        .record(
            "api_key_created",
            &json!({ "id": record.id, "label": record.label, "scopes": scopes, "tenant": record.tenant(), "created_by": creator.id }),
        )
        .await?;
    state
        .keys
        .lock()
        .map_err(|_| internal("the key ring is unavailable"))?
        .insert(record.clone());
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "key": issued.secret.as_str(),
            "scopes": scopes,
            "label": record.label,
            "tenant": record.tenant(),
            "rate": { "burst": record.rate.burst, "per_minute": record.rate.per_minute },
        })),
    ))
}
