//! Helpers shared by the end-to-end tests that need a dev-attested world.
#![allow(dead_code)]

pub mod api;
pub mod attested;
pub mod host;
