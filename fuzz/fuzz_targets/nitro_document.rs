//! See `aip_fuzz_checks::attestation::nitro_document`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::attestation::nitro_document(data));
