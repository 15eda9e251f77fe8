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
    /// Parameters for Lit Action conditions (`:litParam:NAME` reads `jsParams.NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js_params: Option<Value>,
}

/// The `attestation` parameter of the attested-release condition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestationParam {
    /// The evidence envelope (aip-attestation's JSON), as a string.
    pub evidence: String,
    pub bound_keys: BoundKeysParam,
    /// One challenge per node (hex), from its handshake; the evidence nonce is
    /// SHA-256 of their bytes concatenated in this order.
    pub challenges: Vec<String>,
}

/// The keys the evidence binds (see attestation/spec/binding.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoundKeysParam {
    /// base64 of the TLS SubjectPublicKeyInfo DER.
    pub tls_spki_der: String,
    pub signing_public_key: String,
    pub hpke_public_key: String,
    pub config_sha256: String,
}

/// The nonce the evidence must carry for these challenges.
pub fn challenges_nonce(challenges: &[Vec<u8>]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for c in challenges {
        hasher.update(c);
    }
    hasher.finalize().into()
}

/// The sign answer: `signatureShare` is the share JSON object (v2), or null when the share is
/// sealed to the enclave (`sealedShare`, attested release).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionSignResponse {
    pub result: String,
    pub signature_share: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_share: Option<crate::sealed::SealedShare>,
    pub share_index: usize,
}

/// A node's refusal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeError {
    pub error_kind: String,
    pub message: String,
}
