//! aip-enclave: the trusted half of aip-signer.
//!
//! Everything here runs inside the measured enclave image: it decides what may be signed and
//! signs it, with the pure engine it shares with the user's device (`aip-engine`: the Solana
//! transaction engine [`solana`] and the spending-policy engine [`policy`], re-exported here
//! under their own names), over the sealed state kept by the untrusted host ([`state`]).

pub mod api;
pub mod boot;
pub mod chain;
pub mod clock;
pub mod config;
pub mod egress_json;
pub mod evidence;
pub mod ledger;
pub mod log_shipping;
pub mod metrics;
pub mod payments;
pub mod release;
pub mod signed_ledger;
pub mod state;
#[cfg(test)]
mod test_transfers;
pub mod trusted_time;
pub mod wipe;

pub use aip_engine::{policy, pricing, solana, x402};
