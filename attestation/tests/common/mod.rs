//! Shared test helpers: the real evidence in ../shared/testdata/attestation and its manifest.
#![allow(dead_code)]

use std::path::PathBuf;

use aip_attestation::clock;
use aip_attestation::policy::{Allowed, MeasurementPolicy, PolicyEntry};
use aip_attestation::Measurement;
use serde_json::Value;

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/attestation")
}

pub fn read(relative: &str) -> Vec<u8> {
    let path = testdata().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn manifest() -> Value {
    serde_json::from_slice(&read("manifest.json")).expect("manifest.json parses")
}

pub fn hex_field(entry: &Value, field: &str) -> Option<Vec<u8>> {
    entry[field]
        .as_str()
        .map(|h| hex::decode(h.trim_start_matches("0x")).expect("manifest hex"))
}

/// `2022-10-13T11:58:02+00:00` as unix seconds.
pub fn rfc3339(text: &str) -> u64 {
    let digits: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(6)
        .map(|s| s.parse().expect("number"))
        .collect();
    assert!(text.ends_with("+00:00"), "manifest times are UTC: {text}");
    clock::unix_seconds(
        i64::from(digits[0]),
        digits[1],
        digits[2],
        digits[3],
        digits[4],
        digits[5],
    )
    .expect("after 1970")
}

/// Today, as the tests run.
pub fn now() -> u64 {
    clock::now()
}

/// A policy with one entry, named "allowed", admitting exactly `m`.
pub fn policy_allowing(
    m: &Measurement,
    allow_debug: bool,
    expires: Option<u64>,
) -> MeasurementPolicy {
    let allowed = match m {
        Measurement::Nitro {
            pcr0,
            pcr1,
            pcr2,
            pcr8,
        } => Allowed::Nitro {
            pcr0: *pcr0,
            pcr1: *pcr1,
            pcr2: *pcr2,
            pcr8: *pcr8,
        },
        Measurement::SevSnp {
            measurement,
            host_data,
            vmpl,
        } => Allowed::SevSnp {
            measurement: *measurement,
            host_data: Some(*host_data),
            vmpl: *vmpl,
            min_tcb: None,
        },
    };
    MeasurementPolicy {
        allow_debug,
        allow_migration_agent: false,
        dev_root: None,
        entries: vec![PolicyEntry {
            name: "allowed".into(),
            allowed,
            config: None,
            expires,
        }],
    }
}
