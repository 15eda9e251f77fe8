//! Harness for end-to-end tests: starting the real binaries and talking to them.
//!
//! Test support only: a setup failure here should stop the test loudly, so panics are the
//! intended way to report it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod devnet;
pub mod rpc;
