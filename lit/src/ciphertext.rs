//! Lit's time-lock ciphertext: base64 of serde_bare `TimeCryptCiphertext`
//! (U: 48-byte G1, V: 32 bytes, uvarint length + W, scheme byte).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use blsful::{Bls12381G2Impl, SignatureSchemes, TimeCryptCiphertext};

use crate::error::LitError;
use crate::network_key::NetworkKey;

/// Session keys and state keys are small; a ciphertext above this is not ours.
pub const MAX_CIPHERTEXT_BYTES: usize = 64 * 1024;

/// Scheme bytes that mean ProofOfPossession: 2 in blsful 3.x, 3 in Lit's older ciphertexts
/// (which blsful 3.x also reads as ProofOfPossession and blsful 4.x rejects).
const PROOF_OF_POSSESSION_BYTES: [u8; 2] = [2, 3];

/// A parsed ciphertext, always of the ProofOfPossession scheme, with its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ciphertext {
    pub(crate) parsed: TimeCryptCiphertext<Bls12381G2Impl>,
    bytes: Vec<u8>,
}

impl Ciphertext {
    pub fn from_base64(text: &str) -> Result<Self, LitError> {
        let text = text.trim();
        if text.len() > MAX_CIPHERTEXT_BYTES * 4 / 3 + 4 {
            return Err(LitError::Ciphertext(format!(
                "longer than {MAX_CIPHERTEXT_BYTES} bytes"
            )));
        }
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| LitError::Ciphertext(format!("not base64: {e}")))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LitError> {
        let parsed = TimeCryptCiphertext::<Bls12381G2Impl>::try_from(bytes)
            .map_err(|e| LitError::Ciphertext(e.to_string()))?;
        let scheme_byte = bytes.last().copied().unwrap_or_default();
        if parsed.scheme != SignatureSchemes::ProofOfPossession
            || !PROOF_OF_POSSESSION_BYTES.contains(&scheme_byte)
        {
            return Err(LitError::Ciphertext(format!(
                "scheme byte {scheme_byte}; Lit uses ProofOfPossession (2, or 3 in older ciphertexts)"
            )));
        }
        // serde_bare may stop early or accept non-canonical lengths: apart from the scheme
        // byte, re-encoding must give exactly these bytes.
        let reencoded = Vec::<u8>::from(&parsed);
        if reencoded.len() != bytes.len()
            || reencoded[..reencoded.len() - 1] != bytes[..bytes.len() - 1]
        {
            return Err(LitError::Ciphertext(
                "trailing or non-canonical bytes".into(),
            ));
        }
        Ok(Self {
            parsed,
            bytes: bytes.to_vec(),
        })
    }

    /// The exact bytes received (or produced), base64.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.bytes)
    }
}

/// Encrypts as Lit's SDK does: time-lock to `identity` under the network key.
pub fn encrypt(
    network_key: &NetworkKey,
    plaintext: &[u8],
    identity: &[u8],
) -> Result<Ciphertext, LitError> {
    network_key
        .0
        .encrypt_time_lock(SignatureSchemes::ProofOfPossession, plaintext, identity)
        .map(|parsed| Ciphertext {
            bytes: Vec::<u8>::from(&parsed),
            parsed,
        })
        .map_err(|e| LitError::Encrypt(e.to_string()))
}

/// What a device (or the enclave, for its state key) stores: the Lit encryption of a secret
/// and how to find its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// base64 of the time-lock ciphertext.
    pub ciphertext: String,
    /// `dataToEncryptHash`: SHA-256 of the plaintext, hex.
    pub data_to_encrypt_hash: String,
    /// The identity the nodes will sign.
    pub identity: String,
}

/// Encrypts `plaintext` under `conditions` to the network key, as the JS SDK's `encrypt`.
pub fn encrypt_for(
    network_key: &NetworkKey,
    conditions: &crate::conditions::Conditions,
    plaintext: &[u8],
) -> Result<Encrypted, LitError> {
    let data_hash = crate::identity::data_to_encrypt_hash(plaintext);
    let identity = conditions.identity(&data_hash);
    let ciphertext = encrypt(network_key, plaintext, identity.as_bytes())?;
    Ok(Encrypted {
        ciphertext: ciphertext.to_base64(),
        data_to_encrypt_hash: data_hash,
        identity,
    })
}
