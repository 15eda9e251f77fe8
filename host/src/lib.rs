//! aip-host: the untrusted parent side of the signer.
//!
//! It proxies API and Lit traffic to and from the enclave without terminating TLS, stores
//! opaque sealed blobs in SQLite and supervises the enclave; it is trusted for liveness only
//! (docs/design.md, "Parties").
//!
//! - [`store::BlobStore`]: the sealed records, compare-and-set by version, fsynced.
//! - [`control_server`]: the control channel (store, time hints, health, the enclave's
//!   metrics and [`enclave_logs`]) over aip-wire.
//! - [`proxy`]: ingress (public TCP -> enclave) and allowlisted egress, bytes only.
//! - [`supervisor`]: the enclave process in dev; [`metrics`] and [`metrics_server`]: Prometheus.
//! - [`config`]: the host's TOML; [`config_server`]: the enclave's configuration at its boot.

pub mod config;
pub mod config_server;
pub mod control_server;
pub mod enclave_logs;
pub mod metrics;
pub mod metrics_server;
pub mod proxy;
pub mod store;
pub mod supervisor;
