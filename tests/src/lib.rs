//! Harness for end-to-end tests: starting the real binaries and talking to them.
//!
//! Test support only: a setup failure here should stop the test loudly, so panics are the
//! intended way to report it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod devnet;
pub mod hostile;
pub mod lit_client;
pub mod lying_rpc;
pub mod memory;
pub mod payments;
pub mod rpc;
pub mod service;
pub mod soak;
pub mod x402;

/// Seconds since the Unix epoch, for certificate validity windows.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
