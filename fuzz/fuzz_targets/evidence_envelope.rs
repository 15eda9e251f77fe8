//! See `aip_fuzz_checks::attestation::evidence_envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::attestation::evidence_envelope(data));
