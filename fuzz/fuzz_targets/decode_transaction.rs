//! See `aip_fuzz_checks::solana::decode_transaction`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aip_fuzz_checks::solana::decode_transaction(data));
