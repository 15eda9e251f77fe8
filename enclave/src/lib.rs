//! aip-enclave: the trusted half of aip-signer.
//!
//! Everything here runs inside the measured enclave image: it decides what may be signed and
//! signs it: the Solana transaction engine ([`solana`]), the spending-policy engine
//! ([`policy`]) and the sealed state kept by the untrusted host ([`state`]).

pub mod api;
pub mod boot;
pub mod chain;
pub mod clock;
pub mod config;
pub mod egress_json;
pub mod ledger;
pub mod metrics;
pub mod payments;
pub mod policy;
pub mod release;
pub mod solana;
pub mod state;
pub mod trusted_time;
pub mod wipe;
