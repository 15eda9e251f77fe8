//! See `aip_fuzz_checks::store_frames::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::store_frames::check(data));
