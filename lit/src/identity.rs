//! The identity Lit nodes sign, and the data hash clients send:
//! `lit-accesscontrolcondition://{sha256hex(canonical conditions)}/{sha256hex(plaintext)}`.

use sha2::{Digest, Sha256};

/// `dataToEncryptHash`: SHA-256 of the plaintext, lowercase hex.
pub fn data_to_encrypt_hash(plaintext: &[u8]) -> String {
    hex::encode(Sha256::digest(plaintext))
}

/// The identity string for a conditions hash and a data hash (both lowercase hex).
pub fn identity(conditions_hash_hex: &str, data_hash_hex: &str) -> String {
    format!("lit-accesscontrolcondition://{conditions_hash_hex}/{data_hash_hex}")
}
