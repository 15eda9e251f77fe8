//! aip-engine: what the enclave and the user's device must agree on, byte for byte.
//!
//! The Solana transaction engine ([`solana`]: strict decoding, classification against the
//! program allowlist, the debits, fees and recipients a transaction causes, building and
//! signing) and the spending-policy engine ([`policy`]: intents, their invariant, the one
//! decision function, usage windows). The enclave decides with it before it signs; the
//! device (aip-client) decodes with it and shows the user what it signs or approves; and the
//! payer's side of x402's `exact` scheme on Solana ([`x402`]). Pure
//! code: no I/O, no clock, no service state (docs/design.md, "Crates").

pub mod policy;
pub mod pricing;
pub mod solana;
pub mod x402;
