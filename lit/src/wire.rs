//! The node API in the Naga dialect: what clients send and nodes answer, with Lit's field
//! names (lit-node-core `request.rs`, `response.rs`). The sign request and its answer travel
//! sealed in an [`crate::e2ee::EncryptedPayload`] (see [`crate::naga`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /web/handshake` (lit-node-core `JsonSDKHandshakeRequest`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeRequest {
    pub client_public_key: String,
    #[serde(default)]
    pub challenge: Option<String>,
}

/// Every Naga answer's envelope (lit-node-core `GenericResponse`): `data` on success, `error`
/// (and `errorObject`, a JSON text with the node's error details) on refusal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenericResponse<T> {
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default, rename = "errorObject")]
    pub error_object: Option<String>,
    pub data: Option<T>,
}

impl<T> GenericResponse<T> {
    pub fn ok(data: T) -> Self {
        Self {
            ok: true,
            error: None,
            error_object: None,
            data: Some(data),
        }
    }

    pub fn err(error: impl Into<String>, details: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(error.into()),
            error_object: Some(details.into()),
            data: None,
        }
    }
}

/// The handshake's data (lit-node-core `JsonSDKHandshakeResponse`). `nodeIdentityKey` is the
/// node's X25519 key that requests are sealed to; `serverPublicKey` is empty on Naga.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeData {
    pub server_public_key: String,
    pub subnet_public_key: String,
    pub network_public_key: String,
    pub network_public_key_set: String,
    pub client_sdk_version: String,
    pub hd_root_pubkeys: Vec<String>,
    #[serde(default)]
    pub attestation: Option<Value>,
    pub latest_blockhash: String,
    pub node_version: String,
    pub node_identity_key: String,
    pub epoch: u64,
    pub git_commit_hash: String,
}

/// `POST /web/encryption/sign/v2`, once opened: one of the condition fields, the chain, the
/// data hash, the session signature, the epoch (0: the node's current one).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionSignRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_conditions: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evm_contract_conditions: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sol_rpc_conditions: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unified_access_control_conditions: Option<Value>,
    pub chain: String,
    pub data_to_encrypt_hash: String,
    #[serde(default)]
    pub auth_sig: Value,
    #[serde(default)]
    pub epoch: u64,
}

/// The `attestation` parameter of the attested-release condition (the value of the SIWE
/// resource `litParam:attestation:<base64url>`, itself base64url of this JSON, since Lit
/// splices the decoded value unescaped inside quotes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestationParam {
    /// The evidence envelope (aip-attestation's JSON object).
    pub evidence: Value,
    pub bound_keys: BoundKeysParam,
    /// The evidence's nonce, hex.
    pub nonce: String,
}

/// The keys the evidence binds besides the release address, which the action takes from
/// `:userAddress` (see attestation/spec/binding.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoundKeysParam {
    /// SHA-256 of the TLS SubjectPublicKeyInfo DER, hex.
    pub tls_spki_sha256: String,
    pub signing_public_key: String,
    pub config_sha256: String,
}

/// The sign answer's data (lit-node-core `EncryptionSignResponse`): `signatureShare` is
/// blsful's JSON of the share; `shareId` names the node's key share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionSignResponse {
    pub result: String,
    pub signature_share: Value,
    pub share_id: String,
}
