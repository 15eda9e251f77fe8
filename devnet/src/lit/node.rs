//! One Lit node in Naga's dialect: the handshake and the end-to-end encrypted decryption-share
//! request (lit-peer `endpoints/versions/v2.rs::encryption_sign`, `web_client.rs`).
//!
//! In the order the node does it: open the request with this node's identity key (an answer
//! in the clear if it does not open), one condition field and its hash, the session signature
//! (its Ed25519 signature, the resource asked for, issue and expiry, this node's address, a
//! wallet capability with a ReCap for the identity), the epoch, then the condition, evaluated
//! with the wallet's sign-in; only then the share. Every answer after opening is sealed back
//! to the requester's key. Payment is not charged here (docs/lit.md).

use std::sync::Arc;

use aip_lit::conditions::{check_each, Conditions, EvmBasicCondition, Item, UnifiedCondition};
use aip_lit::e2ee::{BoxKey, EncryptedPayload};
use aip_lit::node::NodeKeyShare;
use aip_lit::wire::{
    EncryptionSignRequest, EncryptionSignResponse, GenericResponse, HandshakeData, HandshakeRequest,
};
use aip_lit::NetworkKey;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rand_core::{OsRng, RngCore};
use serde_json::Value;

use super::faults::NodeFaults;
use super::lit_action::LitActions;
use super::session_check::{self, Requested, SignedIn};

/// Requests are JSON documents; a sign-in carrying a Nitro attestation and the allowed sets
/// as `litParam` resources, sealed and hex-encoded, is some tens of kilobytes.
const MAX_BODY_BYTES: usize = 256 * 1024;
/// The one epoch of this network (a request may name it, or 0 for the current one).
const EPOCH: u64 = 1;

#[derive(Debug)]
pub struct NodeState {
    setup: NodeSetup,
    /// This node's X25519 identity key, made at start as Lit's nodes do.
    identity: BoxKey,
}

/// How one node runs.
#[derive(Debug)]
pub struct NodeSetup {
    pub index: usize,
    pub share: NodeKeyShare,
    pub network_key: NetworkKey,
    /// `127.0.0.1:<port>`, what session signatures must name.
    pub address: String,
    pub always_true_conditions: bool,
    pub faults: NodeFaults,
    pub lit_actions: Option<Arc<LitActions>>,
}

impl NodeState {
    pub fn new(setup: NodeSetup) -> Self {
        Self {
            setup,
            identity: BoxKey::generate(),
        }
    }
}

pub fn router(state: Arc<NodeState>) -> Router {
    let routes = Router::new()
        .route("/web/handshake", post(handshake))
        .route("/web/encryption/sign/v2", post(encryption_sign))
        .route("/web/encryption/sign", post(deprecated))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    // Lit's Rust SDK asks for `//web/encryption/sign/v2` (it joins a `/`-prefixed path to the
    // address with another `/`); Rocket routes on the non-empty segments, so Lit's nodes answer
    // it, and so does this one.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::map_request(collapse_slashes))
}

async fn collapse_slashes(mut request: Request) -> Request {
    let path = request.uri().path();
    if path.contains("//") {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut rebuilt = format!("/{}", segments.join("/"));
        if let Some(query) = request.uri().query() {
            rebuilt = format!("{rebuilt}?{query}");
        }
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}

fn plain(status: StatusCode, error: &str, details: impl Into<String>) -> Response {
    (
        status,
        Json(GenericResponse::<Value>::err(error, details.into())),
    )
        .into_response()
}

/// lit-peer answers the Datil endpoint on a Naga node with a deprecation error.
async fn deprecated() -> Response {
    plain(
        StatusCode::BAD_REQUEST,
        "deprecated endpoint",
        "use /web/encryption/sign/v2 with an end-to-end encrypted payload",
    )
}

async fn handshake(State(node): State<Arc<NodeState>>, body: axum::body::Bytes) -> Response {
    let request: HandshakeRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return plain(StatusCode::BAD_REQUEST, "handshake", e.to_string()),
    };
    if request.challenge.is_none() {
        return plain(
            StatusCode::BAD_REQUEST,
            "",
            "the handshake has no challenge",
        );
    }
    let mut blockhash = [0u8; 32];
    OsRng.fill_bytes(&mut blockhash);
    let key = node.setup.network_key.to_hex();
    Json(GenericResponse::ok(HandshakeData {
        server_public_key: String::new(),
        subnet_public_key: key.clone(),
        network_public_key: key.clone(),
        network_public_key_set: key,
        client_sdk_version: String::new(),
        hd_root_pubkeys: Vec::new(),
        attestation: None,
        latest_blockhash: format!("0x{}", hex::encode(blockhash)),
        node_version: concat!("aip-devnet/", env!("CARGO_PKG_VERSION")).into(),
        node_identity_key: hex::encode(node.identity.public_key()),
        epoch: EPOCH,
        git_commit_hash: String::new(),
    }))
    .into_response()
}

/// A refusal after the request opened: status, Lit's message, the reason.
type Refusal = (StatusCode, &'static str, String);

async fn encryption_sign(State(node): State<Arc<NodeState>>, body: axum::body::Bytes) -> Response {
    let opened = serde_json::from_slice::<EncryptedPayload>(&body)
        .map_err(|e| e.to_string())
        .and_then(|sealed| node.identity.open(&sealed).map_err(|e| e.to_string()));
    let (request, requester) = match opened {
        Ok(opened) => opened,
        Err(reason) => return plain(StatusCode::BAD_REQUEST, "can't decrypt", reason),
    };
    let (status, answer) = match sign(&node, &request).await {
        Ok(share) => (StatusCode::OK, GenericResponse::ok(share)),
        Err((status, error, details)) => {
            tracing::info!(node = node.setup.index, %status, error, %details, "refused a share");
            (status, GenericResponse::err(error, details))
        }
    };
    let answer = serde_json::to_vec(&answer).unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sealed = if node.setup.faults.foreign_seal {
        BoxKey::generate().seal(&requester.peer(), &answer, now)
    } else {
        requester.seal(&answer, now)
    };
    match sealed {
        Ok(sealed) => (status, Json(sealed)).into_response(),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, "sealing", e.to_string()),
    }
}

async fn sign(node: &NodeState, body: &[u8]) -> Result<EncryptionSignResponse, Refusal> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, "validation", message);
    let request: EncryptionSignRequest =
        serde_json::from_slice(body).map_err(|e| bad(format!("request: {e}")))?;
    let data_hash = request.data_to_encrypt_hash.to_ascii_lowercase();
    if data_hash.len() != 64 || !data_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("dataToEncryptHash is not 32 bytes of hex".into()));
    }
    let as_value = serde_json::to_value(&request).unwrap_or(Value::Null);
    let conditions = Conditions::from_request(&as_value).map_err(|e| bad(e.to_string()))?;
    let identity = conditions.identity(&data_hash);
    let unauthorized = |message: String| {
        (
            StatusCode::UNAUTHORIZED,
            "couldn't validate user address",
            message,
        )
    };
    let signed_in = session_check::validate(
        &request.auth_sig,
        Requested {
            identity: &identity,
            node_address: &node.setup.address,
            now: time::OffsetDateTime::now_utc(),
        },
    )
    .await
    .map_err(unauthorized)?;
    if request.epoch != 0 && request.epoch != EPOCH {
        return Err(bad(format!(
            "epoch {} is not this network's (current {EPOCH})",
            request.epoch
        )));
    }
    check_conditions(node, &conditions, &signed_in)
        .await
        .map_err(|message| {
            (
                StatusCode::UNAUTHORIZED,
                "failed access control conditions",
                message,
            )
        })?;

    if let Some(delay) = node.setup.faults.delay() {
        tokio::time::sleep(delay).await;
    }
    let message = if node.setup.faults.wrong_share {
        format!("{identity}#wrong")
    } else {
        identity
    };
    let share = node.setup.share.sign(message.as_bytes()).map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "unable to BLS sign",
            e.to_string(),
        )
    })?;
    tracing::info!(
        node = node.setup.index,
        field = conditions.field(),
        "signed a decryption share"
    );
    Ok(EncryptionSignResponse {
        result: "success".into(),
        signature_share: serde_json::from_str(&share.to_v2_json()).unwrap_or(Value::Null),
        share_id: format!("{}", node.setup.index),
    })
}

async fn check_conditions(
    node: &NodeState,
    conditions: &Conditions,
    signed_in: &SignedIn,
) -> Result<(), String> {
    match lit_action_condition(conditions) {
        Some(condition) => {
            let actions = node.setup.lit_actions.as_ref().ok_or_else(|| {
                "this network runs no Lit Actions: start it with --lit-actions".to_owned()
            })?;
            actions.check(condition, signed_in).await
        }
        None => evaluate(conditions, node.setup.always_true_conditions),
    }
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
