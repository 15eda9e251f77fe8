//! Any bytes: the COSE/CBOR parser and the full Nitro verification never panic, and whatever
//! parses re-encodes to a payload that parses to the same document.
#![no_main]

use aip_attestation::nitro::document;
use aip_attestation::{Checks, Evidence, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = document::parse(data) {
        if let Ok(payload) = signed.document.to_cbor() {
            let again = document::parse_payload(&payload).expect("our own encoding parses");
            assert_eq!(again, signed.document);
        }
    }
    if let Ok(verifier) = Verifier::new() {
        let _ = verifier.verify(&Evidence::Nitro { document: data.to_vec() }, &Checks::at(1_665_651_482));
    }
});
