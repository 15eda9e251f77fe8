//! Decryption shares as Lit nodes send them, in both dialects:
//!
//! - v1 (Datil): `{"ProofOfPossession":"<hex: 1 identifier byte || 96-byte compressed G2>"}`
//! - v2 (Naga):  `{"ProofOfPossession":{"identifier":"<32-byte little-endian scalar hex>",
//!                                     "value":"<96-byte compressed G2 hex>"}}`
//!
//! Only the ProofOfPossession scheme is accepted (Lit's); anything else is refused.

use blsful::inner_types::{Field, G2Projective, Group, Scalar};
use blsful::vsss_rs::{DefaultShare, IdentifierPrimeField, ValueGroup};
use blsful::InnerPointShareG2;
use serde::Deserialize;

use crate::error::LitError;

/// The dialect a share arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareDialect {
    V1,
    V2,
}

/// One node's decryption share: its identifier (the x coordinate) and its G2 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecryptionShare {
    pub(crate) identifier: Scalar,
    pub(crate) value: G2Projective,
    pub dialect: ShareDialect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(rename = "ProofOfPossession")]
    proof_of_possession: Body,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    V1(String),
    V2(V2Share),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct V2Share {
    identifier: String,
    value: String,
}

fn share_error(index: usize, what: impl Into<String>) -> LitError {
    LitError::Share {
        index,
        what: what.into(),
    }
}

fn g2(index: usize, hex_text: &str) -> Result<G2Projective, LitError> {
    let mut bytes = [0u8; 96];
    hex::decode_to_slice(hex_text, &mut bytes)
        .map_err(|_| share_error(index, "the value is not 96 bytes of hex"))?;
    g2_from_bytes(index, &bytes)
}

fn g2_from_bytes(index: usize, bytes: &[u8; 96]) -> Result<G2Projective, LitError> {
    let point = Option::<G2Projective>::from(G2Projective::from_compressed(bytes))
        .ok_or_else(|| share_error(index, "the value is not a point in G2"))?;
    if bool::from(Group::is_identity(&point)) {
        return Err(share_error(index, "the value is the identity point"));
    }
    Ok(point)
}

impl DecryptionShare {
    /// Parses a share's JSON; `index` names it in errors.
    pub fn from_json(index: usize, json: &str) -> Result<Self, LitError> {
        let envelope: Envelope = serde_json::from_str(json)
            .map_err(|e| share_error(index, format!("not a ProofOfPossession share: {e}")))?;
        match envelope.proof_of_possession {
            Body::V1(text) => Self::from_v1_hex(index, &text),
            Body::V2(v2) => {
                let mut id = [0u8; 32];
                hex::decode_to_slice(
                    v2.identifier.strip_prefix("0x").unwrap_or(&v2.identifier),
                    &mut id,
                )
                .map_err(|_| share_error(index, "the identifier is not 32 bytes of hex"))?;
                let identifier =
                    Option::<Scalar>::from(Scalar::from_le_bytes(&id)).ok_or_else(|| {
                        share_error(index, "the identifier is not a canonical scalar")
                    })?;
                Self::checked(index, identifier, g2(index, &v2.value)?, ShareDialect::V2)
            }
        }
    }

    /// A v1 share's hex: one identifier byte, then the compressed G2 value.
    pub fn from_v1_hex(index: usize, text: &str) -> Result<Self, LitError> {
        let mut bytes = [0u8; 97];
        hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut bytes).map_err(
            |_| {
                share_error(
                    index,
                    "a v1 share is 97 bytes of hex (identifier byte + G2)",
                )
            },
        )?;
        let mut value = [0u8; 96];
        value.copy_from_slice(&bytes[1..]);
        Self::checked(
            index,
            Scalar::from(u64::from(bytes[0])),
            g2_from_bytes(index, &value)?,
            ShareDialect::V1,
        )
    }

    fn checked(
        index: usize,
        identifier: Scalar,
        value: G2Projective,
        dialect: ShareDialect,
    ) -> Result<Self, LitError> {
        if bool::from(identifier.is_zero()) {
            return Err(share_error(
                index,
                "the identifier is zero (it would reveal the secret's share)",
            ));
        }
        Ok(Self {
            identifier,
            value,
            dialect,
        })
    }

    /// The v2 JSON a current node would send for this share.
    pub fn to_v2_json(&self) -> String {
        serde_json::json!({
            "ProofOfPossession": {
                "identifier": hex::encode(self.identifier.to_le_bytes()),
                "value": hex::encode(self.value.to_compressed()),
            }
        })
        .to_string()
    }

    pub(crate) fn to_inner(self) -> InnerPointShareG2 {
        InnerPointShareG2(DefaultShare {
            identifier: IdentifierPrimeField(self.identifier),
            value: ValueGroup(self.value),
        })
    }

    /// The identifier as little-endian bytes.
    pub fn identifier_le(&self) -> [u8; 32] {
        self.identifier.to_le_bytes()
    }
}
