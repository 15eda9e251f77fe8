//! See `aip_fuzz_checks::api_bodies::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::api_bodies::check(data));
