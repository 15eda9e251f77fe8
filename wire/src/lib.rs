//! aip-wire: what the untrusted host and the trusted enclave both speak.
//!
//! The host never links enclave code; both link this crate (docs/design.md, "Transports").
//!
//! - [`Endpoint`]: `vsock:CID:PORT` in production, `tcp:IP:PORT` or `unix:PATH` locally.
//! - [`Stream`] and [`Listener`]: one stream type over the three transports; writes are
//!   never larger than [`frame::MAX_WRITE_CHUNK`].
//! - [`frame`]: 4-byte big-endian length prefix, the cap checked before allocating.
//! - [`control`]: the blob store, time hints, health.
//! - [`api_key`]: the API key format (the enclave checks keys, operators make the root key).
//! - [`ledger`]: the hash-chained, enclave-signed ledger's format and its verification
//!   (shared with auditors).
//! - [`server_key`] and [`https`]: the client side of the API's TLS, trusting the signer
//!   by its attested key hash, and one-request HTTPS over any endpoint.
//! - [`session`]: the device-bound blob format and the canonical delegation message.
//! - [`payments`]: the payment API bodies, approval and receipt messages.
//! - [`process`]: JSON logs, the runtime and error chains for both processes.
//! - [`egress`]: the enclave's connections out through the host, allowlisted by the host.

pub mod api_key;
pub mod control;
pub mod egress;
pub mod endpoint;
pub mod error;
pub mod frame;
pub mod http_pool;
pub mod https;
pub mod ledger;
pub mod payments;
pub mod process;
pub mod server_key;
pub mod session;
pub mod transport;

pub use endpoint::Endpoint;
pub use error::WireError;
pub use transport::{Listener, Stream};
