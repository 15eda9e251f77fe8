//! The API's own pieces that do not depend on the HTTP stack: API keys and their scopes
//! ([`keys`], [`scope`]), per-key rate limits ([`rate`]) and the mutual TLS ([`tls`]).
//! DESIGN.md, "API".

pub mod keys;
pub mod rate;
pub mod scope;
pub mod tls;
