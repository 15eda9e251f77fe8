//! State the enclave keeps through the untrusted host: every record sealed with the state key
//! before it leaves the enclave ([`sealed`]), written through the host's versioned store
//! ([`host_store`]); the state key itself lives only as a Lit ciphertext ([`state_key`]).
//! docs/design.md, "State, ledger, rollback".

pub mod host_store;
pub mod records;
pub mod sealed;
pub mod state_key;

pub use sealed::{open, seal, SealError, StateKey};
