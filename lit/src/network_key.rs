//! The Lit network's BLS public key: a compressed G1 point (48 bytes, 96 hex, may carry 0x).

use blsful::inner_types::G1Projective;
use blsful::{Bls12381G2Impl, PublicKey};

use crate::error::LitError;

/// A pinned network key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkKey(pub(crate) PublicKey<Bls12381G2Impl>);

impl NetworkKey {
    /// Parses `8e29…` or `0x8e29…`; refuses anything that is not a valid G1 point in the
    /// prime-order subgroup, or is the identity.
    pub fn from_hex(text: &str) -> Result<Self, LitError> {
        let digits = text.trim().strip_prefix("0x").unwrap_or(text.trim());
        let mut bytes = [0u8; 48];
        hex::decode_to_slice(digits, &mut bytes)
            .map_err(|e| LitError::NetworkKey(format!("{e}")))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8; 48]) -> Result<Self, LitError> {
        let point = Option::<G1Projective>::from(G1Projective::from_compressed(bytes))
            .ok_or_else(|| LitError::NetworkKey("not a point in G1".into()))?;
        if bool::from(blsful::inner_types::Group::is_identity(&point)) {
            return Err(LitError::NetworkKey("the identity point".into()));
        }
        Ok(Self(PublicKey(point)))
    }

    pub fn to_bytes(&self) -> [u8; 48] {
        self.0 .0.to_compressed()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }
}
