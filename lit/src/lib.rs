//! aip-lit: the Lit Protocol as the signer needs it, to Lit's formats.
//!
//! - [`NetworkKey`]: the pinned BLS network key (G1).
//! - [`DecryptionShare`]: node answers in both dialects (v1 hex, v2 JSON with little-endian
//!   identifiers).
//! - [`release`]: combine t shares (Lagrange), verify against the network key, time-lock
//!   decrypt into `Zeroizing`.
//! - [`collect::collect`]: ask all nodes at once, stop at the first t shares that verify,
//!   survive down, slow and lying nodes.
//! - [`encrypt`]: what a device does, as Lit's JS SDK does it.
//! - [`Conditions`]: access-control conditions in the Lit node's canonical form, their hash,
//!   and the attested-release condition.
//! - [`identity`]: the identity string and `dataToEncryptHash`.
//! - [`siwe`]: the SIWE message and `personal_sign` auth sig a requester signs in with, and
//!   the `litParam` resources Lit Action conditions read.
//! - [`naga`]: a decryption request in Naga's dialect: handshake, wallet capability with a
//!   [`recap`], [`session_sig`] per node, sealed with [`e2ee`] both ways.
//!
//! blsful 3.1 with its `blst` backend by default; the `rust` feature selects the pure-Rust
//! backend for the devnet workspace. See docs/design.md, "Lit threshold decryption".

pub mod action;
pub mod ciphertext;
pub mod collect;
pub mod conditions;
pub mod e2ee;
pub mod error;
pub mod evm_abi;
#[cfg(feature = "blst")]
pub mod gls;
pub mod identity;
pub mod lagrange;
pub mod naga;
pub mod network_key;
pub mod node;
pub mod recap;
pub mod release;
pub mod session_sig;
pub mod share;
pub mod siwe;
pub mod unseal;
pub mod wire;

pub use ciphertext::{encrypt, encrypt_for, Ciphertext, Encrypted};
pub use conditions::Conditions;
pub use error::LitError;
pub use network_key::NetworkKey;
pub use release::{
    combine, combine_verify_decrypt, decrypt, release, release_from_json, verify,
    CombinedSignature, PreparedCheck,
};
pub use share::{DecryptionShare, ShareDialect};
