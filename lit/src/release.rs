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
    let (points, coefficients) = interpolation(shares)?;
    let point = crate::lagrange::multi_scalar_mul(&points, &coefficients);
    Ok(CombinedSignature(Signature::ProofOfPossession(point)))
}

type Interpolation = (
    Vec<blsful::inner_types::G2Projective>,
    Vec<blsful::inner_types::Scalar>,
);

/// The share values and their Lagrange coefficients at zero, after refusing fewer than two
/// shares (one share alone is never the secret) and repeated identifiers.
fn interpolation(shares: &[DecryptionShare]) -> Result<Interpolation, LitError> {
    if shares.len() < 2 {
        return Err(LitError::TooFewShares {
            have: shares.len(),
            threshold: 2,
        });
    }
    check_distinct(shares)?;
    let xs: Vec<_> = shares.iter().map(|s| s.identifier).collect();
    let coefficients = crate::lagrange::coefficients_at_zero(&xs)
        .ok_or_else(|| LitError::Combine("identifiers are not distinct and non-zero".into()))?;
    Ok((shares.iter().map(|s| s.value).collect(), coefficients))
}

/// The point nodes sign for `identity`: hash-to-G2 with Lit's ProofOfPossession DST.
pub fn hash_identity(identity: &[u8]) -> blsful::inner_types::G2Projective {
    use blsful::{BlsSignaturePop, HashToPoint};
    <Bls12381G2Impl as HashToPoint>::hash_to_point(
        identity,
        <Bls12381G2Impl as BlsSignaturePop>::SIG_DST,
    )
}

/// Verifies the combined signature over `identity` against the network key.
pub fn verify(
    network_key: &NetworkKey,
    identity: &[u8],
    signature: &CombinedSignature,
) -> Result<(), LitError> {
    verify_hashed(network_key, &hash_identity(identity), signature)
}

/// The pairing check `e(H(m), pk) * e(sig, -g1) == 1` with `H(m)` computed beforehand
/// (`hash_identity`), so hashing can overlap other work and a subset search hashes once.
pub fn verify_hashed(
    network_key: &NetworkKey,
    hashed_identity: &blsful::inner_types::G2Projective,
    signature: &CombinedSignature,
) -> Result<(), LitError> {
    use blsful::inner_types::{G1Projective, Group};
    use blsful::Pairing;
    let sig = *signature.0.as_raw_value();
    let pk = network_key.0 .0;
    if bool::from(Group::is_identity(&sig)) || bool::from(Group::is_identity(&pk)) {
        return Err(LitError::SignatureInvalid);
    }
    let pairs = [(*hashed_identity, pk), (sig, -G1Projective::generator())];
    if bool::from(Group::is_identity(&<Bls12381G2Impl as Pairing>::pairing(
        &pairs,
    ))) {
        Ok(())
    } else {
        Err(LitError::SignatureInvalid)
    }
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
    combine_verify_decrypt(network_key, identity, ciphertext, &shares[..threshold])
}

/// Combines exactly `shares`, verifies and decrypts, pipelined over two cores:
/// first half the interpolation here while the other half and the identity's hash-to-G2 run
/// on a helper thread; then decryption here while the helper does the pairing check. Every
/// check of the sequential path is kept; the plaintext is returned only if it verified.
pub fn combine_verify_decrypt(
    network_key: &NetworkKey,
    identity: &[u8],
    ciphertext: &Ciphertext,
    shares: &[DecryptionShare],
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    use crate::lagrange::msm_one_thread;
    let (points, coefficients) = interpolation(shares)?;
    let half = points.len() / 2;
    let (points_a, points_b) = points.split_at(half);
    let (coefficients_a, coefficients_b) = coefficients.split_at(half);
    let (partial_a, helper) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            (
                msm_one_thread(points_b, coefficients_b),
                hash_identity(identity),
            )
        });
        (msm_one_thread(points_a, coefficients_a), helper.join())
    });
    let (partial_b, hashed) =
        helper.map_err(|_| LitError::Combine("the helper thread failed".into()))?;
    let signature = CombinedSignature(Signature::ProofOfPossession(partial_a + partial_b));
    verify_hashed_then_decrypt(network_key, &hashed, ciphertext, &signature)
}

/// Verifies the signature and decrypts with it, the two pairings on two cores. The plaintext
/// is returned only if the verification passed; otherwise it is wiped unseen.
fn verify_hashed_then_decrypt(
    network_key: &NetworkKey,
    hashed_identity: &blsful::inner_types::G2Projective,
    ciphertext: &Ciphertext,
    signature: &CombinedSignature,
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    let (verified, plaintext) = std::thread::scope(|scope| {
        let verifying = scope.spawn(|| verify_hashed(network_key, hashed_identity, signature));
        let plaintext = decrypt(ciphertext, signature);
        (
            verifying.join().unwrap_or(Err(LitError::SignatureInvalid)),
            plaintext,
        )
    });
    verified?;
    plaintext
}
