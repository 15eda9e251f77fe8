//! Producing evidence inside the TEE, behind one trait so the service does not care which
//! platform it runs on.

use std::fmt;

use crate::binding::{BoundKeys, MAX_NONCE_BYTES};
use crate::error::ProduceError;
use crate::evidence::{Evidence, Platform};

/// A source of evidence that binds the given keys and nonce.
pub trait EvidenceProducer: Send + Sync + fmt::Debug {
    /// The platform this producer's evidence claims.
    fn platform(&self) -> Platform;

    /// Evidence whose report data is `keys.binding(nonce)` (and, on Nitro-format documents,
    /// whose `nonce` is the nonce).
    fn produce(&self, keys: &BoundKeys, nonce: &[u8]) -> Result<Evidence, ProduceError>;
}

/// The nonce limit every producer applies (the NSM's own limit).
pub(crate) fn check_nonce(nonce: &[u8]) -> Result<(), ProduceError> {
    if nonce.len() > MAX_NONCE_BYTES {
        return Err(ProduceError::InvalidRequest(format!(
            "the nonce is {} bytes, at most {MAX_NONCE_BYTES} are allowed",
            nonce.len()
        )));
    }
    Ok(())
}
