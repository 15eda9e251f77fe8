//! A decryption request in Naga's dialect, as a client builds it and reads the answers: no
//! I/O here, so the enclave, the tests and the tools build the same bytes.
//!
//! 1. `POST /web/handshake` `{clientPublicKey, challenge}` -> `{ok, data: {networkPublicKey,
//!    nodeIdentityKey, epoch, …}}` ([`read_handshake`]): the node must report the pinned
//!    network key; its identity key is what requests are sealed to.
//! 2. A wallet sign-in delegating to a fresh Ed25519 session key ([`capability_message`]: URI
//!    `lit:session:<key>`, a ReCap for `Threshold/Decryption` of the one identity, beside any
//!    `litParam` resources a Lit Action condition reads).
//! 3. Per node, a session signature naming that node and the identity, inside the sign
//!    request, sealed to the node's identity key from a fresh X25519 key
//!    ([`DecryptionRequest::seal_for`]) and posted to `/web/encryption/sign/v2`.
//! 4. The answer is sealed back to that X25519 key by the node's identity key
//!    ([`SealedRequest::open_answer`]); inside, `{ok, data: {signatureShare, shareId}}` or
//!    `{ok: false, error, errorObject}`.

use serde_json::{json, Value};

use crate::conditions::Conditions;
use crate::e2ee::{BoxKey, Channel, E2eeError, EncryptedPayload};
use crate::network_key::NetworkKey;
use crate::recap::Recap;
use crate::session_sig::{
    ResourceAbilityRequest, SessionKey, SessionKeySignedMessage, SessionSigError,
};
use crate::siwe::{Address, AuthSig, SiweMessage};
use crate::wire::{EncryptionSignResponse, GenericResponse, HandshakeData};

/// The path of the sign request.
pub const SIGN_PATH: &str = "/web/encryption/sign/v2";
/// The path of the handshake.
pub const HANDSHAKE_PATH: &str = "/web/handshake";

#[derive(Debug, thiserror::Error)]
pub enum NagaError {
    #[error("the answer is not the JSON Lit's nodes send")]
    Json(#[source] serde_json::Error),
    #[error("the node refused: {error} ({details})")]
    Refused { error: String, details: String },
    #[error("the node's answer says ok but carries no data")]
    NoData,
    #[error("the node reports another network key")]
    OtherNetwork,
    #[error("the node's identity key is not 32 bytes of hex")]
    IdentityKey,
    #[error("the sealed answer")]
    E2ee(#[source] E2eeError),
    #[error("the answer was sealed by another key than the node's identity key")]
    WrongSender,
    #[error("the session signature")]
    SessionSig(#[source] SessionSigError),
}

/// What a handshake established about one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeHandshake {
    /// The X25519 key requests to this node are sealed to.
    pub identity_key: [u8; 32],
    pub epoch: u64,
}

/// The handshake request body for `challenge` (hex).
pub fn handshake_request(client_public_key: &str, challenge: &str) -> Value {
    json!({ "clientPublicKey": client_public_key, "challenge": challenge })
}

/// Reads a handshake answer: refused unless it is ok, reports `network_key`, and carries an
/// identity key.
pub fn read_handshake(answer: &[u8], network_key: &NetworkKey) -> Result<NodeHandshake, NagaError> {
    let envelope: GenericResponse<HandshakeData> =
        serde_json::from_slice(answer).map_err(NagaError::Json)?;
    let data = refused_or_data(envelope)?;
    if !NetworkKey::from_hex(&data.network_public_key).is_ok_and(|k| k == *network_key) {
        return Err(NagaError::OtherNetwork);
    }
    let mut identity_key = [0u8; 32];
    hex::decode_to_slice(&data.node_identity_key, &mut identity_key)
        .map_err(|_| NagaError::IdentityKey)?;
    Ok(NodeHandshake {
        identity_key,
        epoch: data.epoch,
    })
}

fn refused_or_data<T>(envelope: GenericResponse<T>) -> Result<T, NagaError> {
    if !envelope.ok {
        return Err(NagaError::Refused {
            error: envelope.error.unwrap_or_default(),
            details: envelope.error_object.unwrap_or_default(),
        });
    }
    envelope.data.ok_or(NagaError::NoData)
}

/// What the wallet signs to delegate decrypting `identity` to `session`: the sign-in with the
/// URI `lit:session:<key>`, `extra_resources` (e.g. `litParam` values) and then the ReCap,
/// whose sentence ends the statement.
#[derive(Debug, Clone)]
pub struct Capability<'a> {
    pub address: Address,
    pub domain: &'a str,
    pub statement: &'a str,
    pub nonce: &'a str,
    pub issued_at: i64,
    pub expiration: i64,
    pub extra_resources: Vec<String>,
}

/// The sign-in message of `capability` for `session` and `identity`.
pub fn capability_message(
    capability: Capability<'_>,
    session: &SessionKey,
    identity: &str,
) -> SiweMessage {
    let recap = Recap::decryption_of(identity);
    let mut resources = capability.extra_resources;
    resources.push(recap.resource());
    SiweMessage {
        domain: capability.domain.to_owned(),
        address: capability.address,
        statement: recap.append_to(capability.statement),
        uri: session.uri(),
        nonce: capability.nonce.to_owned(),
        issued_at: capability.issued_at,
        expiration: capability.expiration,
        resources,
    }
}

/// One decryption request to every node: the same wallet capability and session key, a
/// session signature and a sealed body per node, one X25519 key to open the answers.
#[derive(Debug)]
pub struct DecryptionRequest {
    conditions: Conditions,
    data_hash_hex: String,
    identity: String,
    capability: AuthSig,
    session: SessionKey,
    box_key: BoxKey,
    terms: SessionTerms,
}

/// The session's validity and price, as the node reads them.
#[derive(Debug, Clone)]
pub struct SessionTerms {
    /// RFC 3339 times.
    pub issued_at: String,
    pub expiration: String,
    /// Wei, decimal.
    pub max_price: String,
}

impl DecryptionRequest {
    /// `capability` must be the wallet's signature of [`capability_message`] for `session` and
    /// this identity.
    pub fn new(
        conditions: Conditions,
        data_hash_hex: &str,
        capability: AuthSig,
        session: SessionKey,
        terms: SessionTerms,
    ) -> Self {
        let identity = conditions.identity(data_hash_hex);
        Self {
            conditions,
            data_hash_hex: data_hash_hex.to_owned(),
            identity,
            capability,
            session,
            box_key: BoxKey::generate(),
            terms,
        }
    }

    /// The opened sign request for the node at `node_address` (`host:port`), before sealing.
    pub fn body_for(&self, node_address: &str, epoch: u64) -> Result<Value, NagaError> {
        let message = SessionKeySignedMessage {
            session_key: self.session.public_hex(),
            resource_ability_requests: vec![ResourceAbilityRequest::decryption_of(&self.identity)],
            capabilities: vec![self.capability.clone()],
            issued_at: self.terms.issued_at.clone(),
            expiration: self.terms.expiration.clone(),
            node_address: node_address.to_owned(),
            max_price: self.terms.max_price.clone(),
        };
        let session_sig = self.session.sign(&message).map_err(NagaError::SessionSig)?;
        Ok(sign_request_body(
            &self.conditions,
            &self.data_hash_hex,
            &session_sig,
            epoch,
        ))
    }

    /// The sealed body of `/web/encryption/sign/v2` for one node, created at `now` (unix s),
    /// and the box its answer opens with.
    pub fn seal_for(
        &self,
        node_address: &str,
        node: &NodeHandshake,
        now: i64,
    ) -> Result<SealedRequest, NagaError> {
        let channel = self.box_key.channel(&node.identity_key);
        let body = self.body_for(node_address, node.epoch)?;
        let payload = seal_on(&channel, &body, now)?;
        Ok(SealedRequest { payload, channel })
    }
}

/// One node's sealed request, and the box its answer is opened with: the X25519 agreement
/// with that node is made once for both.
#[derive(Debug)]
pub struct SealedRequest {
    /// What is posted.
    pub payload: EncryptedPayload,
    channel: Channel,
}

impl SealedRequest {
    /// Opens the node's answer to this request (see [`open_answer`]).
    pub fn open_answer(&self, answer: &[u8]) -> Result<String, NagaError> {
        open_on(&self.channel, answer)
    }
}

/// The opened sign request (lit-node-core `EncryptionSignRequest`).
pub fn sign_request_body(
    conditions: &Conditions,
    data_hash_hex: &str,
    auth_sig: &AuthSig,
    epoch: u64,
) -> Value {
    json!({
        conditions.field(): conditions.to_value(),
        "chain": "ethereum",
        "dataToEncryptHash": data_hash_hex,
        "authSig": auth_sig,
        "epoch": epoch,
    })
}

/// Seals an opened sign request from `box_key` to `node`'s identity key.
pub fn seal(
    box_key: &BoxKey,
    body: &Value,
    node: &NodeHandshake,
    now: i64,
) -> Result<EncryptedPayload, NagaError> {
    seal_on(&box_key.channel(&node.identity_key), body, now)
}

fn seal_on(channel: &Channel, body: &Value, now: i64) -> Result<EncryptedPayload, NagaError> {
    channel
        .seal(body.to_string().as_bytes(), now)
        .map_err(NagaError::E2ee)
}

/// Opens one node's answer sealed to `box_key`: the share JSON on success, the node's reason
/// on refusal. An answer not sealed by that node's identity key is refused; a node that could
/// not open the request answers in the clear, and that answer is read as its refusal.
pub fn open_answer(
    box_key: &BoxKey,
    node: &NodeHandshake,
    answer: &[u8],
) -> Result<String, NagaError> {
    open_on(&box_key.channel(&node.identity_key), answer)
}

fn open_on(channel: &Channel, answer: &[u8]) -> Result<String, NagaError> {
    let sealed: EncryptedPayload = match serde_json::from_slice(answer) {
        Ok(sealed) => sealed,
        Err(_) => {
            let plain: GenericResponse<Value> =
                serde_json::from_slice(answer).map_err(NagaError::Json)?;
            refused_or_data(plain)?;
            return Err(NagaError::NoData);
        }
    };
    let opened = channel.open(&sealed).map_err(|error| match error {
        E2eeError::OtherSender => NagaError::WrongSender,
        error => NagaError::E2ee(error),
    })?;
    let envelope: GenericResponse<EncryptionSignResponse> =
        serde_json::from_slice(&opened).map_err(NagaError::Json)?;
    Ok(refused_or_data(envelope)?.signature_share.to_string())
}
