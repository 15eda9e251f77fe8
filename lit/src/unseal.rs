//! Opening a time-lock ciphertext with a verified signature, as blsful's `unseal` computes
//! it, but with every buffer that holds key material or plaintext wiped when dropped: the
//! pairing value's hash, `alpha`, the keystream, the padded plaintext and the message.
//! (blsful returns the plaintext through plain `Vec`s that are freed unwiped, so a session
//! key released through it would linger in freed heap memory.)
//!
//! V = H(K) xor alpha, W = SHAKE128(alpha) xor (LEB128(len) || M || zero padding to 32),
//! valid iff U == G1 * H_Zq(alpha || SHA-256(M)).

// The blst backend's Gt encodes through GroupEncoding, the rust backend's inherently.
#[allow(unused_imports)]
use blsful::inner_types::{G1Projective, Group, GroupEncoding};
use blsful::{Bls12381G2Impl, HashToScalar, Pairing, Signature, SignatureSchemes};
use sha2::{Digest, Sha256};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake128;
use zeroize::{Zeroize, Zeroizing};

use crate::ciphertext::Ciphertext;
use crate::LitError;

/// blsful's salt for the time-lock scalar hash.
const SALT: &[u8] = b"TIMELOCK_BLS12381_XOF:HKDF-SHA2-256_";

/// Longest LEB128 length prefix accepted (a u64).
const MAX_LENGTH_BYTES: usize = 10;

fn leb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().take(MAX_LENGTH_BYTES).enumerate() {
        value |= u64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// The plaintext of `ciphertext` under `signature`, or `DecryptFailed`.
pub fn unseal(
    ciphertext: &Ciphertext,
    signature: &Signature<Bls12381G2Impl>,
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    let parsed = &ciphertext.parsed;
    let point = match (signature, parsed.scheme) {
        (Signature::Basic(s), SignatureSchemes::Basic)
        | (Signature::MessageAugmentation(s), SignatureSchemes::MessageAugmentation)
        | (Signature::ProofOfPossession(s), SignatureSchemes::ProofOfPossession) => *s,
        _ => return Err(LitError::DecryptFailed),
    };
    if bool::from(point.is_identity()) || bool::from(parsed.u.is_identity()) {
        return Err(LitError::DecryptFailed);
    }
    let k = <Bls12381G2Impl as Pairing>::pairing(&[(point, parsed.u)]);
    let mut alpha = Zeroizing::new([0u8; 32]);
    {
        let mut k_bytes = k.to_bytes();
        let mut hasher = Sha256::new();
        Digest::update(&mut hasher, k_bytes.as_ref());
        k_bytes.as_mut().zeroize();
        let hashed = Zeroizing::new(<[u8; 32]>::from(hasher.finalize()));
        for ((a, h), v) in alpha.iter_mut().zip(hashed.iter()).zip(parsed.v) {
            *a = h ^ v;
        }
    }
    let mut padded = Zeroizing::new(vec![0u8; parsed.w.len()]);
    let mut xof = Shake128::default();
    xof.update(alpha.as_ref());
    xof.finalize_xof().read(padded.as_mut_slice());
    for (p, w) in padded.iter_mut().zip(&parsed.w) {
        *p ^= w;
    }
    let (len, prefix) = leb128(&padded).ok_or(LitError::DecryptFailed)?;
    let end = prefix.checked_add(len).ok_or(LitError::DecryptFailed)?;
    let message = Zeroizing::new(
        padded
            .get(prefix..end)
            .ok_or(LitError::DecryptFailed)?
            .to_vec(),
    );
    let mut r_input = Zeroizing::new(Vec::with_capacity(64));
    r_input.extend_from_slice(alpha.as_ref());
    r_input.extend_from_slice(&Sha256::digest(message.as_slice()));
    let r = <Bls12381G2Impl as HashToScalar>::hash_to_scalar(r_input.as_slice(), SALT);
    if G1Projective::generator() * r != parsed.u {
        return Err(LitError::DecryptFailed);
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::leb128;

    #[test]
    fn length_prefixes() {
        assert_eq!(leb128(&[32, 0xff]), Some((32, 1)));
        assert_eq!(leb128(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(leb128(&[0xff; 11]), None);
        assert_eq!(leb128(&[]), None);
    }
}
