//! One Lit node: handshake and decryption-share signing.

use std::sync::Arc;

use aip_lit::conditions::{check_each, Conditions, EvmBasicCondition, Item, UnifiedCondition};
use aip_lit::node::NodeKeyShare;
use aip_lit::siwe::AuthSig;
use aip_lit::wire::{
    EncryptionSignRequest, EncryptionSignResponse, HandshakeRequest, HandshakeResponse, NodeError,
    VerificationKeyShare,
};
use aip_lit::NetworkKey;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use rand_core::{OsRng, RngCore};
use serde_json::Value;

use super::faults::NodeFaults;
use super::lit_action::LitActions;

/// Requests are JSON documents; a sign-in carrying a Nitro attestation and the allowed sets
/// as `litParam` resources is some tens of kilobytes.
const MAX_BODY_BYTES: usize = 256 * 1024;
/// How far ahead of this node's clock a sign-in may have been issued.
const SIGN_IN_SKEW_S: i64 = 60;

#[derive(Debug)]
pub struct NodeState {
    index: usize,
    share: NodeKeyShare,
    network_key: NetworkKey,
    verification_key: VerificationKeyShare,
    always_true_conditions: bool,
    faults: NodeFaults,
    lit_actions: Option<Arc<LitActions>>,
}

impl NodeState {
    pub fn new(
        index: usize,
        share: NodeKeyShare,
        network_key: NetworkKey,
        always_true_conditions: bool,
        faults: NodeFaults,
        lit_actions: Option<Arc<LitActions>>,
    ) -> Result<Self, aip_lit::LitError> {
        let key = share.verification_key()?;
        Ok(Self {
            index,
            verification_key: VerificationKeyShare {
                identifier: key.identifier_le_hex(),
                value: key.value_hex(),
            },
            share,
            network_key,
            always_true_conditions,
            faults,
            lit_actions,
        })
    }
}

pub fn router(state: Arc<NodeState>) -> Router {
    Router::new()
        .route("/web/handshake", post(handshake))
        .route("/web/encryption/sign", post(encryption_sign))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

type Refusal = (StatusCode, Json<NodeError>);

fn refuse(status: StatusCode, kind: &str, message: impl Into<String>) -> Refusal {
    (
        status,
        Json(NodeError {
            error_kind: kind.into(),
            message: message.into(),
        }),
    )
}

async fn handshake(
    State(node): State<Arc<NodeState>>,
    body: axum::body::Bytes,
) -> Result<Json<HandshakeResponse>, Refusal> {
    let _request: HandshakeRequest = serde_json::from_slice(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "Validation",
            format!("handshake: {e}"),
        )
    })?;
    let mut blockhash = [0u8; 32];
    OsRng.fill_bytes(&mut blockhash);
    let key = node.network_key.to_hex();
    Ok(Json(HandshakeResponse {
        server_public_key: node.verification_key.value.clone(),
        subnet_public_key: key.clone(),
        network_public_key: key.clone(),
        network_public_key_set: key,
        latest_blockhash: hex::encode(blockhash),
        node_version: concat!("aip-devnet/", env!("CARGO_PKG_VERSION")).into(),
        epoch: 1,
        verification_key_share: Some(node.verification_key.clone()),
    }))
}

async fn encryption_sign(
    State(node): State<Arc<NodeState>>,
    body: axum::body::Bytes,
) -> Result<Json<EncryptionSignResponse>, Refusal> {
    let request: EncryptionSignRequest = serde_json::from_slice(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "Validation",
            format!("request: {e}"),
        )
    })?;
    let data_hash = request.data_to_encrypt_hash.to_ascii_lowercase();
    if data_hash.len() != 64 || !data_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Validation",
            "dataToEncryptHash is not 32 bytes of hex",
        ));
    }
    let as_value = serde_json::to_value(&request).unwrap_or(Value::Null);
    let conditions = Conditions::from_request(&as_value)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, "Validation", e.to_string()))?;
    let unauthorized = |message: String| refuse(StatusCode::UNAUTHORIZED, "Unauthorized", message);
    match lit_action_condition(&conditions) {
        Some(condition) => {
            let actions = node.lit_actions.as_ref().ok_or_else(|| {
                unauthorized("this network runs no Lit Actions: start it with --lit-actions".into())
            })?;
            // What a Lit node checks of a wallet signature before it evaluates anything.
            let auth: AuthSig = serde_json::from_value(request.auth_sig.clone())
                .map_err(|e| unauthorized(format!("authSig: {e}")))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            let message = auth
                .verify(now, SIGN_IN_SKEW_S)
                .map_err(|e| unauthorized(format!("authSig: {e}")))?;
            actions
                .check(condition, &auth, &message)
                .await
                .map_err(unauthorized)?;
        }
        None => evaluate(&conditions, node.always_true_conditions).map_err(unauthorized)?,
    }
    let identity = conditions.identity(&data_hash);

    if let Some(delay) = node.faults.delay() {
        tokio::time::sleep(delay).await;
    }
    let message = if node.faults.wrong_share {
        format!("{identity}#wrong")
    } else {
        identity.clone()
    };
    let share = node
        .share
        .sign(message.as_bytes())
        .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()))?;
    tracing::info!(
        node = node.index,
        field = conditions.field(),
        "signed a decryption share"
    );
    Ok(Json(EncryptionSignResponse {
        result: "success".into(),
        signature_share: serde_json::from_str(&share.to_v2_json()).unwrap_or(Value::Null),
        share_index: node.index,
    }))
}

/// The Lit Action condition, when the request carries one. It must stand alone: mixing it with
/// other conditions or operators is refused by `evaluate` (fail closed).
fn lit_action_condition(conditions: &Conditions) -> Option<&EvmBasicCondition> {
    match conditions {
        Conditions::AccessControl(items) => match items.as_slice() {
            [Item::Condition(c)] if c.standard_contract_type == "LitAction" => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// Every condition must be decidable here; anything that needs a chain holds only when the
/// network was started with `--always-true-conditions`. Fail closed otherwise.
fn evaluate(conditions: &Conditions, always_true: bool) -> Result<(), String> {
    fn basic(c: &EvmBasicCondition, always_true: bool) -> Result<(), String> {
        if c.standard_contract_type == "LitAction" {
            return Err(format!(
                "the Lit Action condition ({}) must stand alone in accessControlConditions",
                c.contract_address
            ));
        }
        chain(always_true, &c.chain)
    }
    fn chain(always_true: bool, name: &str) -> Result<(), String> {
        if always_true {
            Ok(())
        } else {
            Err(format!(
                "evaluating a {name} condition needs chain access, which the devnet does not have (start it with --always-true-conditions for tests)"
            ))
        }
    }
    let field = conditions.field();
    match conditions {
        Conditions::AccessControl(items) => {
            check_each(field, items, &mut |_, c| basic(c, always_true))
        }
        Conditions::EvmContract(items) => {
            check_each(field, items, &mut |_, c| chain(always_true, &c.chain))
        }
        Conditions::SolRpc(items) => {
            check_each(field, items, &mut |_, c| chain(always_true, &c.chain))
        }
        Conditions::Unified(items) => check_each(field, items, &mut |_, c| match c {
            UnifiedCondition::EvmBasic(c) => basic(c, always_true),
            UnifiedCondition::SolRpc(c) => chain(always_true, &c.chain),
            UnifiedCondition::EvmContract(c) => chain(always_true, &c.chain),
        }),
    }
}
