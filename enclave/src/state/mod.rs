//! State the enclave keeps through the untrusted host: every record sealed with the state key
//! before it leaves the enclave ([`sealed`]). DESIGN.md, "State, ledger, rollback".

pub mod sealed;

pub use sealed::{open, seal, SealError, StateKey};
