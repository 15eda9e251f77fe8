//! The API's own pieces that do not depend on the HTTP stack: API keys and their scopes
//! ([`keys`], [`scope`]) and per-key rate limits ([`rate`]). DESIGN.md, "API".

pub mod keys;
pub mod rate;
pub mod scope;
