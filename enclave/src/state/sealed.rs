//! Sealing records for the host's blob store: AES-256-GCM under the state key, with the
//! record's key and version as associated data.
//!
//! The host holds only `nonce || ciphertext || tag`. Binding the record key and the version
//! into the AAD means the host can neither move a record to another key nor present an old
//! version of a record as the current one: opening checks both against what the enclave asked
//! for (the version comes from the store's compare-and-set, the expected one from the
//! enclave's own index). Nonces are random (96 bits); one state key seals far fewer than the
//! 2^32 records at which random-nonce GCM would need rotation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const AAD_DOMAIN: &[u8] = b"aip-sealed-record-v1";

/// The 32-byte state key. It exists in enclave memory only; at rest it is a Lit ciphertext
/// under the attested-release condition.
pub struct StateKey(Zeroizing<[u8; 32]>);

impl StateKey {
    /// A fresh key from the OS generator (first boot).
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// A key recovered from Lit (32 bytes exactly).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SealError::KeyLength { len: bytes.len() })?;
        Ok(Self(Zeroizing::new(array)))
    }

    /// The key bytes, for encrypting them to Lit on first boot.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a state key is 32 bytes, not {len}")]
    KeyLength { len: usize },
    #[error("sealed record {record:?} is {len} bytes, shorter than nonce and tag")]
    Truncated { record: String, len: usize },
    #[error("sealed record {record:?} version {version} does not open with this state key (tampered, moved, or another version)")]
    Unauthentic { record: String, version: u64 },
    #[error("sealing record {record:?} failed")]
    Seal { record: String },
}

fn aad(record: &str, version: u64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + 12 + record.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(&(record.len() as u32).to_be_bytes());
    aad.extend_from_slice(record.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// Seals `plaintext` as `record` at `version`.
pub fn seal(
    key: &StateKey,
    record: &str,
    version: u64,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let cipher = Aes256Gcm::new(key.0.as_ref().into());
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let aad = aad(record, version);
    let body = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::Seal {
            record: record.to_owned(),
        })?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + body.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&body);
    Ok(sealed)
}

/// Opens `sealed` as `record` at `version`; the plaintext is wiped when dropped.
pub fn open(
    key: &StateKey,
    record: &str,
    version: u64,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Truncated {
            record: record.to_owned(),
            len: sealed.len(),
        });
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(key.0.as_ref().into());
    let aad = aad(record, version);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::Unauthentic {
            record: record.to_owned(),
            version,
        })
}
