//! The API's own pieces that do not depend on the HTTP stack: API keys and their scopes
//! ([`keys`], [`scope`]), per-key rate limits ([`rate`]), the mutual TLS ([`tls`]), JSON
//! errors ([`error`], and for payments [`payment_error`]), the routes ([`routes`]) and serving them inside TLS ([`server`]).
//! docs/design.md, "API".

pub mod agent_keys;
pub mod attestation;
pub mod body;
pub mod error;
pub mod keys;
pub mod ledger_export;
pub mod payment_error;
pub mod payments;
pub mod pricing;
pub mod rate;
pub mod routes;
pub mod scope;
pub mod server;
pub mod state;
pub mod tls;
