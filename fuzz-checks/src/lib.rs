//! What each fuzz target checks of one input, and where its seed corpus comes from.
//!
//! The cargo-fuzz targets in `fuzz/` are one line each: they hand libFuzzer's input to a
//! check here. The same checks replay, in `cargo test`, every seed and every input a fuzzer
//! once crashed on (`fuzz/regressions/<target>/`), so a fixed crash stays fixed without a
//! fuzzer or a nightly compiler.
//!
//! A check fails by panicking: that is how libFuzzer records a crash. Each check feeds the
//! input to the code that reads untrusted bytes in production (the Solana decoder, the
//! attestation parsers and verifier, the API's request bodies, the host store's frames and
//! requests, Lit nodes' answers) and asserts what must hold of whatever that code accepts.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

pub mod api_bodies;
pub mod attestation;
pub mod lit_answers;
pub mod seeds;
pub mod solana;
pub mod store_frames;

/// One fuzz target: its name (the cargo-fuzz binary's), its check and its seeds.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub check: fn(&[u8]),
    /// Seed inputs, from `../shared/testdata` (given as `testdata`) and built here.
    pub seeds: fn(&Path) -> Vec<Vec<u8>>,
}

/// Every target, in the order `scripts/fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "decode_transaction",
        check: solana::decode_transaction,
        seeds: solana::seeds,
    },
    Target {
        name: "nitro_document",
        check: attestation::nitro_document,
        seeds: attestation::nitro_seeds,
    },
    Target {
        name: "snp_report",
        check: attestation::snp_report,
        seeds: attestation::snp_seeds,
    },
    Target {
        name: "evidence_envelope",
        check: attestation::evidence_envelope,
        seeds: attestation::envelope_seeds,
    },
    Target {
        name: "api_bodies",
        check: api_bodies::check,
        seeds: api_bodies::seeds,
    },
    Target {
        name: "store_frames",
        check: store_frames::check,
        seeds: store_frames::seeds,
    },
    Target {
        name: "lit_answers",
        check: lit_answers::check,
        seeds: lit_answers::seeds,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
