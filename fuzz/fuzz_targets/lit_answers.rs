//! See `aip_fuzz_checks::lit_answers::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::lit_answers::check(data));
