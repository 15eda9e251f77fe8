//! Naga session signatures: an Ed25519 session key, delegated to by a wallet sign-in, signs one
//! message per node naming what it asks for.
//!
//! The session signature is the `authSig` of a Naga request (lit-peer
//! `auth/session_sigs.rs::validate_session_sig`): `derivedVia: litSessionSignViaNacl`,
//! `algo: ed25519`, `address` the session key (hex), `sig` the Ed25519 signature (hex) over
//! `signedMessage`, which is the JSON [`SessionKeySignedMessage`] (lit-peer
//! `models/auth.rs::SessionKeySignedMessageV2`). Each capability is a wallet sign-in whose URI is
//! `lit:session:<session key>` and whose ReCap grants the requested ability ([`crate::recap`]).
//! The node checks the signature, the resource requested, issue and expiry within 60 seconds
//! of its clock (and at most 30 days apart), that `nodeAddress` is itself, and then the
//! capabilities; the access-control condition is evaluated with the capability's wallet sign-in.

use ed25519_dalek::{Signer as _, SigningKey};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use crate::siwe::AuthSig;

/// `derivedVia` of a session signature.
pub const DERIVED_VIA: &str = "litSessionSignViaNacl";
/// `algo` of a session signature.
pub const ALGO: &str = "ed25519";
/// The URI a wallet sign-in delegating to a session key carries: `lit:session:<key hex>`.
pub const SESSION_URI_PREFIX: &str = "lit:session:";
/// Lit's resource prefix for decryption under access-control conditions, and its ability.
pub const ACC_RESOURCE_PREFIX: &str = "lit-accesscontrolcondition";
pub const DECRYPTION_ABILITY: &str = "access-control-condition-decryption";

/// `{resource: {resource, resourcePrefix}, ability}` (lit-node-core
/// `LitResourceAbilityRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceAbilityRequest {
    pub resource: RequestedResource,
    pub ability: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedResource {
    /// `<condition hash>/<data hash>`, or `*`.
    pub resource: String,
    pub resource_prefix: String,
}

impl ResourceAbilityRequest {
    /// Decrypting the identity `lit-accesscontrolcondition://<hash>/<data hash>`.
    pub fn decryption_of(identity: &str) -> Self {
        let id = identity
            .strip_prefix(ACC_RESOURCE_PREFIX)
            .and_then(|rest| rest.strip_prefix("://"))
            .unwrap_or(identity);
        Self {
            resource: RequestedResource {
                resource: id.to_owned(),
                resource_prefix: ACC_RESOURCE_PREFIX.into(),
            },
            ability: DECRYPTION_ABILITY.into(),
        }
    }
}

/// What a session key signs for one node (lit-peer `SessionKeySignedMessageV2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionKeySignedMessage {
    /// The session key, hex.
    pub session_key: String,
    pub resource_ability_requests: Vec<ResourceAbilityRequest>,
    /// Wallet sign-ins delegating to the session key.
    pub capabilities: Vec<AuthSig>,
    /// RFC 3339.
    pub issued_at: String,
    pub expiration: String,
    /// The node this signature is for: `host:port` (a scheme is ignored by the node).
    pub node_address: String,
    /// The most this request may cost, in wei: decimal, or hex with `0x`.
    pub max_price: String,
}

/// An Ed25519 session key, made for one release and dropped after it (wiped on drop).
pub struct SessionKey(SigningKey);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey({}, <secret>)", self.public_hex())
    }
}

impl SessionKey {
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut OsRng))
    }

    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(secret))
    }

    /// The public key as Lit names it: 64 hex digits.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().as_bytes())
    }

    /// `lit:session:<public key>`, the URI of the wallet sign-in that delegates to this key.
    pub fn uri(&self) -> String {
        format!("{SESSION_URI_PREFIX}{}", self.public_hex())
    }

    /// The session signature over `message`, whose `sessionKey` must be this key.
    pub fn sign(&self, message: &SessionKeySignedMessage) -> Result<AuthSig, SessionSigError> {
        if message.session_key != self.public_hex() {
            return Err(SessionSigError::OtherKey);
        }
        let text = serde_json::to_string(message).map_err(SessionSigError::Json)?;
        let signature = self.0.sign(text.as_bytes());
        Ok(AuthSig {
            // ed25519's Display: upper-case hex, as Lit's Rust SDK sends it.
            sig: signature.to_string(),
            derived_via: DERIVED_VIA.into(),
            signed_message: text,
            address: self.public_hex(),
            algo: Some(ALGO.into()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionSigError {
    #[error("the message names another session key")]
    OtherKey,
    #[error("serialising the session message")]
    Json(#[source] serde_json::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, VerifyingKey};
    use std::str::FromStr;

    fn message(key: &SessionKey) -> SessionKeySignedMessage {
        SessionKeySignedMessage {
            session_key: key.public_hex(),
            resource_ability_requests: vec![ResourceAbilityRequest::decryption_of(
                "lit-accesscontrolcondition://ab/cd",
            )],
            capabilities: vec![],
            issued_at: "2026-11-27T00:00:00Z".into(),
            expiration: "2026-11-27T00:10:00Z".into(),
            node_address: "127.0.0.1:7470".into(),
            max_price: "0".into(),
        }
    }

    /// What lit-peer's `check_ed25519_auth_sig` does: the key from `address`, the signature
    /// parsed by `Signature::from_str`, `verify_strict` over the signed message's bytes.
    #[test]
    fn a_session_signature_verifies_as_the_node_checks_it() {
        let key = SessionKey::from_bytes(&[9; 32]);
        let sig = key.sign(&message(&key)).unwrap();
        assert_eq!(sig.derived_via, "litSessionSignViaNacl");
        assert_eq!(sig.algo.as_deref(), Some("ed25519"));
        let public: [u8; 32] = hex::decode(&sig.address).unwrap().try_into().unwrap();
        let verifying = VerifyingKey::from_bytes(&public).unwrap();
        let signature = Signature::from_str(&sig.sig).unwrap();
        verifying
            .verify_strict(sig.signed_message.as_bytes(), &signature)
            .unwrap();
        let parsed: SessionKeySignedMessage = serde_json::from_str(&sig.signed_message).unwrap();
        assert_eq!(parsed, message(&key));
        let text: serde_json::Value = serde_json::from_str(&sig.signed_message).unwrap();
        assert_eq!(
            text["resourceAbilityRequests"][0],
            serde_json::json!({"resource":{"resource":"ab/cd","resourcePrefix":"lit-accesscontrolcondition"},"ability":"access-control-condition-decryption"})
        );
        let other = SessionKey::from_bytes(&[10; 32]);
        assert!(matches!(
            other.sign(&message(&key)),
            Err(SessionSigError::OtherKey)
        ));
        assert!(key.uri().starts_with("lit:session:") && key.uri().ends_with(&key.public_hex()));
    }
}
