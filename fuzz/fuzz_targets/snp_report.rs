//! See `aip_fuzz_checks::attestation::snp_report`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::attestation::snp_report(data));
