//! One Lit node: handshake and decryption-share signing.

use std::sync::Arc;

use aip_lit::conditions::{check_each, Conditions, EvmBasicCondition, Item, UnifiedCondition};
use aip_lit::node::NodeKeyShare;
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

use super::attested::{AttestedRelease, Challenges};
use super::faults::NodeFaults;

/// Requests are small JSON documents.
const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub struct NodeState {
    index: usize,
    share: NodeKeyShare,
    network_key: NetworkKey,
    verification_key: VerificationKeyShare,
    always_true_conditions: bool,
    faults: NodeFaults,
    attested: Option<Arc<AttestedRelease>>,
    challenges: Challenges,
}

impl NodeState {
    pub fn new(
        index: usize,
        share: NodeKeyShare,
        network_key: NetworkKey,
        always_true_conditions: bool,
        faults: NodeFaults,
        attested: Option<Arc<AttestedRelease>>,
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
            attested,
            challenges: Challenges::default(),
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
    // The latest "blockhash" doubles as this node's challenge for attested release.
    let mut blockhash = [0u8; 32];
    OsRng.fill_bytes(&mut blockhash);
    node.challenges
        .issue(blockhash)
        .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, "RateLimit", e))?;
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
    let seal_to = match attested_release_condition(&conditions) {
        Some(condition) => {
            let attested = node.attested.as_ref().ok_or_else(|| {
                unauthorized(
                    "this network evaluates no Lit Action: start it with --attested-release-policy"
                        .into(),
                )
            })?;
            let recipient = attested
                .check(condition, request.js_params.as_ref(), &node.challenges)
                .map_err(unauthorized)?;
            Some(recipient)
        }
        None => {
            evaluate(&conditions, node.always_true_conditions).map_err(unauthorized)?;
            None
        }
    };
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
        sealed = seal_to.is_some(),
        "signed a decryption share"
    );
    let (signature_share, sealed_share) = match seal_to {
        Some(recipient) => {
            let sealed = aip_lit::sealed::seal(&recipient, identity.as_bytes(), &share)
                .map_err(|e| refuse(StatusCode::BAD_REQUEST, "Validation", e.to_string()))?;
            (Value::Null, Some(sealed))
        }
        None => (
            serde_json::from_str(&share.to_v2_json()).unwrap_or(Value::Null),
            None,
        ),
    };
    Ok(Json(EncryptionSignResponse {
        result: "success".into(),
        signature_share,
        sealed_share,
        share_index: node.index,
    }))
}

/// The attested-release condition, when the request carries it. It must stand alone: mixing
/// it with other conditions or operators is refused by `evaluate` (fail closed).
fn attested_release_condition(conditions: &Conditions) -> Option<&EvmBasicCondition> {
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
