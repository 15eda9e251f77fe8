//! Errors of the Lit client, precise enough to alert on and never carrying secret bytes.

/// Why Lit material was refused or a release failed.
#[derive(Debug, thiserror::Error)]
pub enum LitError {
    #[error("the network public key is not 48 bytes of compressed G1 hex: {0}")]
    NetworkKey(String),
    #[error("decryption share {index}: {what}")]
    Share { index: usize, what: String },
    #[error("shares {first} and {second} carry the same identifier")]
    DuplicateShare { first: usize, second: usize },
    #[error("need {threshold} shares, have {have}")]
    TooFewShares { have: usize, threshold: usize },
    #[error("the shares cannot be combined: {0}")]
    Combine(String),
    #[error("the combined signature does not verify against the network key for this identity")]
    SignatureInvalid,
    #[error("the signature is not 96 bytes of compressed G2: {0}")]
    Signature(String),
    #[error("the ciphertext is malformed: {0}")]
    Ciphertext(String),
    #[error("the ciphertext does not decrypt with this signature")]
    DecryptFailed,
    #[error("access-control conditions refused: {0}")]
    Conditions(String),
    #[error("dealer or node key: {0}")]
    Dealer(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
}
