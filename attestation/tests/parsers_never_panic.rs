#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property: no input makes a parser or the verifier panic; each returns a classed error.

mod common;

use aip_attestation::nitro::document;
use aip_attestation::snp::report;
use aip_attestation::{Checks, Evidence, MeasurementPolicy, Verifier};
use proptest::prelude::*;

fn real_document() -> Vec<u8> {
    common::read("nitro/evervault_prod_2022-10-13_nonce.cose")
}

fn real_report() -> Vec<u8> {
    common::read("sev-snp/virtee_milan_report.bin")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = document::parse(&bytes);
        let _ = document::parse_payload(&bytes);
        let _ = report::parse(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Evidence::from_json(&text);
        let _ = MeasurementPolicy::from_toml(&text);
    }

    /// Mutations of a real document: several random byte changes, truncation, extension.
    #[test]
    fn mutated_real_document(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut bytes = real_document();
        for (at, value) in edits {
            let len = bytes.len();
            bytes[at % len] = value;
        }
        let keep = cut % (bytes.len() + 64);
        bytes.resize(keep, 0);
        let verifier = Verifier::new().unwrap();
        let _ = verifier.verify(&Evidence::Nitro { document: bytes }, &Checks::at(1_665_651_482));
    }

    #[test]
    fn mutated_real_report(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = real_report();
        for (at, value) in edits {
            let len = bytes.len();
            bytes[at % len] = value;
        }
        let _ = report::parse(&bytes);
    }
}
