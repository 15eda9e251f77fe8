//! AIP-1 payments: session keys ([`keys`]), agents' sessions ([`sessions`]), the smart payment
//! ([`transaction`], [`flow`], [`fee_budget`], [`settle`], followed to the chain by [`track`]), the device's part in it ([`device`]) and x402's
//! `exact` payments ([`x402`]), over the persisted
//! accounts ([`account`], [`registry`]) and payment records ([`record`]), kept no lower than
//! the chain shows ([`reconcile`]). docs/design.md, "Keys and flows".

pub mod account;
pub mod actor;
pub mod analytics;
pub mod context;
pub mod device;
pub mod dry_run;
pub mod error;
pub mod fee_budget;
pub mod flow;
pub mod intents;
pub mod interactive_expiry;
pub mod key_usage;
pub mod keys;
pub mod payer;
pub mod reconcile;
pub mod record;
pub mod registry;
pub mod release_batch;
pub mod released_key;
pub mod sessions;
pub mod settle;
pub mod track;
pub mod transaction;
pub mod x402;

pub use context::PaymentContext;
pub use error::PaymentError;
pub use payer::Payer;
