//! Combining shares, verifying the combined signature, decrypting: the path that turns t
//! node answers into a session key, and nothing less than t valid answers into anything.

use blsful::inner_types::{Curve, G2Projective};
use blsful::{Bls12381G2Impl, Signature};
use zeroize::Zeroizing;

use crate::ciphertext::Ciphertext;
use crate::error::LitError;
use crate::network_key::NetworkKey;
use crate::share::DecryptionShare;

/// A combined signature over an identity (a G2 point). It is the time-lock decryption key of
/// that identity, so its Debug output is redacted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CombinedSignature(pub(crate) Signature<Bls12381G2Impl>);

impl std::fmt::Debug for CombinedSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CombinedSignature(<redacted>)")
    }
}

impl CombinedSignature {
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.as_raw_value().to_compressed()
    }

    /// The compressed point in memory that is wiped on drop, for deriving keys from it.
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 96]> {
        Zeroizing::new(self.to_bytes())
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
pub fn hash_identity(identity: &[u8]) -> G2Projective {
    use blsful::{BlsSignaturePop, HashToPoint};
    <Bls12381G2Impl as HashToPoint>::hash_to_point(
        identity,
        <Bls12381G2Impl as BlsSignaturePop>::SIG_DST,
    )
}

#[cfg(feature = "blst")]
type MillerLoop = <blsful::inner_types::Bls12 as blsful::inner_types::MultiMillerLoop>::Result;
#[cfg(not(feature = "blst"))]
type MillerLoop = blsful::inner_types::MillerLoopResult;

/// The pairing check `e(pk, H(m)) * e(-g1, sig) == 1`, with the half that does not depend on
/// the signature (hash-to-G2 of the identity and the Miller loop of `e(pk, H(m))`) done once,
/// before or while the shares arrive. A subset search then pays one Miller loop and one
/// final exponentiation per candidate, and the release path has them off its critical path.
/// It depends only on the network key and the identity, both public, so a caller that
/// releases the same identity again may keep it (the enclave does, per session key).
#[derive(Debug, Clone)]
pub struct PreparedCheck {
    network_key: NetworkKey,
    identity: Vec<u8>,
    key_and_hash: MillerLoop,
}

impl PreparedCheck {
    pub fn new(network_key: &NetworkKey, identity: &[u8]) -> Self {
        use blsful::inner_types::{multi_miller_loop, G2Prepared};
        let hashed = G2Prepared::from(hash_identity(identity).to_affine());
        let key = network_key.0 .0.to_affine();
        Self {
            network_key: *network_key,
            identity: identity.to_vec(),
            key_and_hash: multi_miller_loop(&[(&key, &hashed)]),
        }
    }

    /// Whether this is the check of `identity` under `network_key`.
    pub fn is_for(&self, network_key: &NetworkKey, identity: &[u8]) -> bool {
        self.network_key == *network_key && self.identity == identity
    }

    /// The identity whose signature this check accepts.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// Whether `signature` is the network's signature over the prepared identity. The
    /// identity point is refused outright (it would pair to one with anything).
    pub fn verify(&self, signature: &CombinedSignature) -> Result<(), LitError> {
        #[allow(unused_imports)] // the trait that provides final_exponentiation with blst
        use blsful::inner_types::MillerLoopResult;
        use blsful::inner_types::{multi_miller_loop, G1Projective, G2Prepared, Group};
        let sig = *signature.0.as_raw_value();
        if bool::from(Group::is_identity(&sig)) {
            return Err(LitError::SignatureInvalid);
        }
        let minus_g1 = (-G1Projective::generator()).to_affine();
        let prepared = G2Prepared::from(sig.to_affine());
        let product = multi_miller_loop(&[(&minus_g1, &prepared)]) + self.key_and_hash;
        if bool::from(Group::is_identity(&product.final_exponentiation())) {
            Ok(())
        } else {
            Err(LitError::SignatureInvalid)
        }
    }
}

/// Verifies the combined signature over `identity` against the network key.
pub fn verify(
    network_key: &NetworkKey,
    identity: &[u8],
    signature: &CombinedSignature,
) -> Result<(), LitError> {
    PreparedCheck::new(network_key, identity).verify(signature)
}

/// Decrypts with a verified signature; the plaintext is wiped when dropped.
pub fn decrypt(
    ciphertext: &Ciphertext,
    signature: &CombinedSignature,
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    crate::unseal::unseal(ciphertext, &signature.0)
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

/// Combines exactly `shares`, verifies and decrypts, over two cores: the interpolation
/// (blst spreads it over the cores) while a helper prepares the signature-independent half
/// of the pairing check, then decryption here while the helper finishes the check. Every
/// check of the sequential path is kept; the plaintext is returned only if it verified.
pub fn combine_verify_decrypt(
    network_key: &NetworkKey,
    identity: &[u8],
    ciphertext: &Ciphertext,
    shares: &[DecryptionShare],
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    let (signature, check) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| PreparedCheck::new(network_key, identity));
        (combine(shares), helper.join())
    });
    let check = check.map_err(|_| LitError::Combine("the helper thread failed".into()))?;
    verify_then_decrypt(&check, ciphertext, &signature?)
}

/// The release from the nodes' JSON answers, all on hand: parsing (decompression and the
/// subgroup check of every share) is split over two cores, the second of which also
/// prepares the check; then as `combine_verify_decrypt`.
pub fn release_from_json(
    network_key: &NetworkKey,
    identity: &[u8],
    ciphertext: &Ciphertext,
    shares_json: &[&str],
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    let parse = |offset: usize, part: &[&str]| -> Result<Vec<DecryptionShare>, LitError> {
        part.iter()
            .enumerate()
            .map(|(i, json)| DecryptionShare::from_json(offset + i, json))
            .collect()
    };
    // The helper also prepares the check (about a third of a share list's parsing at t=20),
    // so it parses the smaller part.
    let split = (shares_json.len() * 3).div_ceil(5);
    let (first, second) = shares_json.split_at(split);
    let (parsed_first, helper) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let parsed = parse(split, second);
            (parsed, PreparedCheck::new(network_key, identity))
        });
        (parse(0, first), helper.join())
    });
    let (parsed_second, check) =
        helper.map_err(|_| LitError::Combine("the helper thread failed".into()))?;
    let mut shares = parsed_first?;
    shares.extend(parsed_second?);
    let signature = combine(&shares)?;
    verify_then_decrypt(&check, ciphertext, &signature)
}

/// Verifies the signature and decrypts with it, the two pairings on two cores. The plaintext
/// is returned only if the verification passed; otherwise it is wiped unseen.
fn verify_then_decrypt(
    check: &PreparedCheck,
    ciphertext: &Ciphertext,
    signature: &CombinedSignature,
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    let (verified, plaintext) = std::thread::scope(|scope| {
        let verifying = scope.spawn(|| check.verify(signature));
        let plaintext = decrypt(ciphertext, signature);
        (
            verifying.join().unwrap_or(Err(LitError::SignatureInvalid)),
            plaintext,
        )
    });
    verified?;
    plaintext
}
