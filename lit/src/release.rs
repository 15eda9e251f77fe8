//! Combining shares, verifying the combined signature, decrypting: the path that turns t
//! node answers into a session key, and nothing less than t valid answers into anything.

use blsful::{Bls12381G2Impl, Signature};
use zeroize::Zeroizing;

use crate::ciphertext::Ciphertext;
use crate::error::LitError;
use crate::network_key::NetworkKey;
use crate::share::DecryptionShare;

/// A combined signature over an identity (a G2 point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CombinedSignature(pub(crate) Signature<Bls12381G2Impl>);

impl CombinedSignature {
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.as_raw_value().to_compressed()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }
}

/// Refuses repeated identifiers: two answers from one node must not count twice.
pub fn check_distinct(shares: &[DecryptionShare]) -> Result<(), LitError> {
    for (second, share) in shares.iter().enumerate() {
        if let Some(first) = shares[..second]
            .iter()
            .position(|s| s.identifier == share.identifier)
        {
            return Err(LitError::DuplicateShare { first, second });
        }
    }
    Ok(())
}

/// Lagrange-combines exactly these shares (all must be honest for the result to verify).
pub fn combine(shares: &[DecryptionShare]) -> Result<CombinedSignature, LitError> {
    // A threshold scheme needs at least two shares; one share alone is never the secret.
    if shares.len() < 2 {
        return Err(LitError::TooFewShares {
            have: shares.len(),
            threshold: 2,
        });
    }
    check_distinct(shares)?;
    let inner: Vec<_> = shares
        .iter()
        .map(|s| blsful::SignatureShare::ProofOfPossession(s.to_inner()))
        .collect();
    Signature::from_shares(&inner)
        .map(CombinedSignature)
        .map_err(|e| LitError::Combine(e.to_string()))
}

/// Verifies the combined signature over `identity` against the network key.
pub fn verify(
    network_key: &NetworkKey,
    identity: &[u8],
    signature: &CombinedSignature,
) -> Result<(), LitError> {
    signature
        .0
        .verify(&network_key.0, identity)
        .map_err(|_| LitError::SignatureInvalid)
}

/// Decrypts with a verified signature; the plaintext is wiped when dropped.
pub fn decrypt(
    ciphertext: &Ciphertext,
    signature: &CombinedSignature,
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    Option::<Vec<u8>>::from(ciphertext.parsed.decrypt(&signature.0))
        .map(Zeroizing::new)
        .ok_or(LitError::DecryptFailed)
}

/// The whole release: combine the first `threshold` shares, verify against the pinned key,
/// decrypt. With more than `threshold` shares and a failing combination, the caller falls
/// back to subset search (see `collect`).
pub fn release(
    network_key: &NetworkKey,
    identity: &[u8],
    ciphertext: &Ciphertext,
    shares: &[DecryptionShare],
    threshold: usize,
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    if threshold == 0 || shares.len() < threshold {
        return Err(LitError::TooFewShares {
            have: shares.len(),
            threshold,
        });
    }
    let signature = combine(&shares[..threshold])?;
    verify(network_key, identity, &signature)?;
    decrypt(ciphertext, &signature)
}
