//! Any bytes: decoding never panics; what decodes re-encodes identically and explains.
#![no_main]

use aip_engine::solana::{explain_decoded, Decoded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = Decoded::from_bytes(data) {
        assert_eq!(decoded.to_bytes(), data);
        let _ = explain_decoded(&decoded);
    }
});
