//! The ledger's export format and its verification, shared by the enclave (which writes and
//! signs it), the host (which stores it opaquely) and auditors (`aipctl ledger verify`).
//!
//! Entries are hash-chained: entry `n` carries the hash of entry `n-1` (`prev`, zeros for the
//! first entry, seq 1), and its own hash covers its sequence number, `prev`, its time, its
//! kind and the exact bytes of its JSON body, each length-prefixed under a domain tag. The
//! enclave signs the head (`seq`, `hash`) with its Ed25519 key, the one bound in its
//! attestation; every API response carries the signed head, and a client that remembers a
//! later head than the enclave presents has caught a rollback.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const ENTRY_DOMAIN: &[u8] = b"aip-ledger-entry-v1";
const HEAD_DOMAIN: &[u8] = b"aip-ledger-head-v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    pub seq: u64,
    /// Hex of the previous entry's hash.
    pub prev: String,
    pub at_ms: u64,
    pub kind: String,
    /// The body as the exact JSON text that was hashed.
    pub body: String,
    /// Hex of this entry's hash.
    pub hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerHead {
    pub seq: u64,
    pub hash: [u8; 32],
    pub signature: [u8; 64],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("entry {index}: sequence {found}, expected {expected}")]
    Sequence {
        index: usize,
        found: u64,
        expected: u64,
    },
    #[error("entry seq {seq}: prev does not match the hash of the entry before it")]
    Broken { seq: u64 },
    #[error("entry seq {seq}: the stated hash is not the hash of its contents")]
    Hash { seq: u64 },
    #[error("entry seq {seq}: {what} is not valid hex of 32 bytes")]
    Hex { seq: u64, what: &'static str },
    #[error("the head signature does not verify with the enclave key")]
    HeadSignature,
    #[error("the head {head_seq} does not match the last entry ({last_seq})")]
    HeadMismatch { head_seq: u64, last_seq: u64 },
    #[error("head header {0:?} is not SEQ:HASH:SIGNATURE")]
    HeadFormat(String),
}

/// The hash of an entry's contents.
pub fn entry_hash(seq: u64, prev: &[u8; 32], at_ms: u64, kind: &str, body: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ENTRY_DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(prev);
    h.update(at_ms.to_be_bytes());
    h.update((kind.len() as u64).to_be_bytes());
    h.update(kind.as_bytes());
    h.update((body.len() as u64).to_be_bytes());
    h.update(body.as_bytes());
    h.finalize().into()
}

impl LedgerEntry {
    /// The entry after `prev_seq`/`prev_hash` (seq 0 and zeros before the first).
    pub fn next(prev_seq: u64, prev_hash: &[u8; 32], at_ms: u64, kind: &str, body: &str) -> Self {
        let seq = prev_seq + 1;
        Self {
            seq,
            prev: hex::encode(prev_hash),
            at_ms,
            kind: kind.to_owned(),
            body: body.to_owned(),
            hash: hex::encode(entry_hash(seq, prev_hash, at_ms, kind, body)),
        }
    }

    fn decoded(&self, what: &'static str, text: &str) -> Result<[u8; 32], LedgerError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).map_err(|_| LedgerError::Hex {
            seq: self.seq,
            what,
        })?;
        Ok(out)
    }
}

fn head_message(seq: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEAD_DOMAIN.len() + 40);
    m.extend_from_slice(HEAD_DOMAIN);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

impl LedgerHead {
    /// The enclave signs its head.
    pub fn sign(key: &SigningKey, seq: u64, hash: [u8; 32]) -> Self {
        let signature = key.sign(&head_message(seq, &hash)).to_bytes();
        Self {
            seq,
            hash,
            signature,
        }
    }

    pub fn verify(&self, key: &VerifyingKey) -> Result<(), LedgerError> {
        key.verify(
            &head_message(self.seq, &self.hash),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| LedgerError::HeadSignature)
    }

    /// `SEQ:HASH:SIGNATURE` (hex), the `X-Ledger-Head` header.
    pub fn to_header(&self) -> String {
        format!(
            "{}:{}:{}",
            self.seq,
            hex::encode(self.hash),
            hex::encode(self.signature)
        )
    }

    pub fn from_header(text: &str) -> Result<Self, LedgerError> {
        let bad = || LedgerError::HeadFormat(text.chars().take(80).collect());
        let mut parts = text.split(':');
        let (Some(seq), Some(hash_hex), Some(sig_hex), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let seq = seq.parse().map_err(|_| bad())?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hash_hex, &mut hash).map_err(|_| bad())?;
        let mut signature = [0u8; 64];
        hex::decode_to_slice(sig_hex, &mut signature).map_err(|_| bad())?;
        Ok(Self {
            seq,
            hash,
            signature,
        })
    }
}

/// Checks `entries` as a contiguous piece of the chain starting after `(seq, hash)` (0 and
/// zeros for the whole ledger) and returns the last `(seq, hash)`.
pub fn verify_chain(
    after: (u64, [u8; 32]),
    entries: &[LedgerEntry],
) -> Result<(u64, [u8; 32]), LedgerError> {
    let (mut seq, mut hash) = after;
    for (index, entry) in entries.iter().enumerate() {
        if entry.seq != seq + 1 {
            return Err(LedgerError::Sequence {
                index,
                found: entry.seq,
                expected: seq + 1,
            });
        }
        let prev = entry.decoded("prev", &entry.prev)?;
        if prev != hash {
            return Err(LedgerError::Broken { seq: entry.seq });
        }
        let stated = entry.decoded("hash", &entry.hash)?;
        if stated != entry_hash(entry.seq, &prev, entry.at_ms, &entry.kind, &entry.body) {
            return Err(LedgerError::Hash { seq: entry.seq });
        }
        (seq, hash) = (entry.seq, stated);
    }
    Ok((seq, hash))
}

/// A whole export: the chain from the start, ending at a head signed by `key`.
pub fn verify_export(
    entries: &[LedgerEntry],
    head: &LedgerHead,
    key: &VerifyingKey,
) -> Result<(), LedgerError> {
    head.verify(key)?;
    let (last_seq, last_hash) = verify_chain((0, [0u8; 32]), entries)?;
    if (last_seq, last_hash) != (head.seq, head.hash) {
        return Err(LedgerError::HeadMismatch {
            head_seq: head.seq,
            last_seq,
        });
    }
    Ok(())
}
