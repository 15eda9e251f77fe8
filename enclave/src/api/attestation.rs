//! `GET /v1/attestation?nonce=HEX`: fresh evidence binding this enclave's TLS key, signing key,
//! release address and configuration, for the caller's nonce. What `aip-attest fetch` checks.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ErrorCode};
use super::state::ApiState;

/// The nonce limit of the attestation devices.
const MAX_NONCE_BYTES: usize = 512;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationQuery {
    pub nonce: String,
}

pub async fn attest(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<AttestationQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("query: {e}")))?;
    let nonce = hex::decode(&query.nonce)
        .ok()
        .filter(|n| !n.is_empty() && n.len() <= MAX_NONCE_BYTES)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadRequest,
                format!("nonce must be 1..{MAX_NONCE_BYTES} bytes of hex"),
            )
        })?;
    let attestation = state.attestation.clone();
    let evidence = tokio::task::spawn_blocking(move || {
        attestation.producer.produce(&attestation.keys, &nonce)
    })
    .await
    .map_err(|_| ApiError::new(ErrorCode::Internal, "the attestation task failed"))?
    .map_err(|e| ApiError::new(ErrorCode::Unavailable, format!("producing evidence: {e}")))?;
    let keys = &state.attestation.keys;
    Ok(Json(json!({
        "evidence": serde_json::from_str::<Value>(&evidence.to_json()).unwrap_or(Value::Null),
        "boundKeys": {
            "tlsSpkiDer": base64::engine::general_purpose::STANDARD.encode(&keys.tls_spki_der),
            "signingPublicKey": hex::encode(keys.signing_public_key),
            "releaseAddress": format!("0x{}", hex::encode(keys.release_address)),
            "configSha256": hex::encode(keys.config_sha256),
        },
    })))
}
