//! The node API in the Datil dialect (plain JSON over HTTP): what clients send and nodes
//! answer. Field names are Lit's; `verificationKeyShare` is our devnet's addition (real Lit
//! nodes publish no per-node key).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /web/handshake`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeRequest {
    pub client_public_key: String,
    pub challenge: String,
}

/// A node's verification key share as the devnet publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationKeyShare {
    /// 32-byte little-endian scalar, hex (as in v2 shares).
    pub identifier: String,
    /// Compressed G1, hex.
    pub value: String,
}

/// The handshake answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeResponse {
    pub server_public_key: String,
    pub subnet_public_key: String,
    pub network_public_key: String,
    pub network_public_key_set: String,
    pub latest_blockhash: String,
    pub node_version: String,
    pub epoch: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_key_share: Option<VerificationKeyShare>,
}

/// `POST /web/encryption/sign`: one of the condition fields, the chain, the data hash.
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

/// The sign answer: `signatureShare` is the share JSON object (v2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionSignResponse {
    pub result: String,
    pub signature_share: Value,
    pub share_index: usize,
}

/// A node's refusal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeError {
    pub error_kind: String,
    pub message: String,
}
