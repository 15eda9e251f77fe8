//! aip-enclave: the trusted half of aip-signer.
//!
//! Everything here runs inside the measured enclave image: it decides what may be signed and
//! signs it. This crate starts with the two pure engines the rest stands on: the Solana
//! transaction engine ([`solana`]) and the spending-policy engine ([`policy`]).

pub mod policy;
pub mod solana;
