//! Any text: the JSON envelope reader never panics and what it reads round-trips.
#![no_main]

use aip_attestation::Evidence;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(evidence) = Evidence::from_json(text) {
            assert_eq!(Evidence::from_json(&evidence.to_json()).ok(), Some(evidence));
        }
    }
});
