#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every real Nitro document in ../shared/testdata verifies at its own time with exactly the
//! manifest's fields, fails today (expired), and fails after any single-byte change.

mod common;

use aip_attestation::nitro::document;
use aip_attestation::verified::Details;
use aip_attestation::{Checks, Evidence, FailureClass, Measurement, Verifier};
use common::{hex_field, manifest, policy_allowing, read, rfc3339};

struct Doc {
    bytes: Vec<u8>,
    entry: serde_json::Value,
    at: u64,
}

fn documents() -> Vec<Doc> {
    manifest()["nitro"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| Doc {
            bytes: read(entry["file"].as_str().unwrap()),
            at: entry["verify_at_unix_s"].as_u64().unwrap(),
            entry: entry.clone(),
        })
        .collect()
}

/// The production document with a nonce (evervault, 2022-10-13).
fn prod_document() -> Doc {
    documents()
        .into_iter()
        .find(|d| {
            d.entry["file"]
                .as_str()
                .unwrap()
                .contains("prod_2022-10-13")
        })
        .unwrap()
}

#[test]
fn manifest_lists_every_document_with_its_digest() {
    use sha2::Digest;
    let docs = documents();
    assert_eq!(docs.len(), 4);
    for doc in &docs {
        assert_eq!(doc.bytes.len() as u64, doc.entry["bytes"].as_u64().unwrap());
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&doc.bytes)),
            doc.entry["sha256"].as_str().unwrap()
        );
    }
}

#[test]
fn every_document_verifies_at_its_time_with_the_manifest_fields() {
    let verifier = Verifier::new().unwrap();
    for doc in documents() {
        let debug = doc.entry["debug_mode"].as_bool().unwrap();
        let evidence = Evidence::Nitro {
            document: doc.bytes.clone(),
        };
        let policy_free = verifier.verify(&evidence, &Checks::at(doc.at));
        let verified = if debug {
            assert_eq!(
                policy_free.unwrap_err().class(),
                FailureClass::Debug,
                "{}",
                doc.entry["file"]
            );
            let parsed = document::parse(&doc.bytes).unwrap().document;
            let measurement = Measurement::Nitro {
                pcr0: parsed.pcrs[&0].clone().try_into().unwrap(),
                pcr1: parsed.pcrs[&1].clone().try_into().unwrap(),
                pcr2: parsed.pcrs[&2].clone().try_into().unwrap(),
                pcr8: Some(parsed.pcrs[&8].clone().try_into().unwrap()),
            };
            let policy = policy_allowing(&measurement, true, None);
            verifier
                .verify(
                    &evidence,
                    &Checks {
                        policy: Some(&policy),
                        ..Checks::at(doc.at)
                    },
                )
                .unwrap()
        } else {
            policy_free.unwrap()
        };
        assert_eq!(verified.debug, debug);
        assert_eq!(verified.public_key, hex_field(&doc.entry, "public_key_hex"));
        assert_eq!(verified.report_data, hex_field(&doc.entry, "user_data_hex"));
        assert_eq!(verified.nonce, hex_field(&doc.entry, "nonce_hex"));
        let Details::Nitro(details) = &verified.details else {
            panic!("nitro details")
        };
        assert_eq!(details.module_id, doc.entry["module_id"].as_str().unwrap());
        assert_eq!(
            details.timestamp_ms,
            doc.entry["timestamp_ms"].as_u64().unwrap()
        );
        assert_eq!(details.digest, "SHA384");
        assert_eq!(
            details.signing_cert_not_before,
            rfc3339(doc.entry["leaf_not_before"].as_str().unwrap())
        );
        assert_eq!(
            details.signing_cert_not_after,
            rfc3339(doc.entry["leaf_not_after"].as_str().unwrap())
        );
        assert_eq!(
            hex::encode(details.root_sha256),
            "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
        );
        let nonzero = doc.entry["nonzero_pcrs"].as_object().unwrap();
        assert_eq!(details.pcrs.len(), 16);
        for (index, value) in &details.pcrs {
            match nonzero.get(&index.to_string()) {
                Some(expected) => assert_eq!(value, expected.as_str().unwrap(), "PCR{index}"),
                None => assert_eq!(value, &"0".repeat(96), "PCR{index} should be zero"),
            }
        }
        if !debug {
            let Measurement::Nitro { pcr0, .. } = &verified.measurement else {
                panic!()
            };
            assert_eq!(hex::encode(pcr0), nonzero["0"].as_str().unwrap());
        }
    }
}

#[test]
fn every_document_is_expired_today_and_outside_its_leaf_validity() {
    let verifier = Verifier::new().unwrap();
    for doc in documents() {
        let evidence = Evidence::Nitro {
            document: doc.bytes.clone(),
        };
        let not_after = rfc3339(doc.entry["leaf_not_after"].as_str().unwrap());
        let not_before = rfc3339(doc.entry["leaf_not_before"].as_str().unwrap());
        for at in [common::now(), not_after + 1, not_before - 1] {
            let err = verifier.verify(&evidence, &Checks::at(at)).unwrap_err();
            assert_eq!(
                err.class(),
                FailureClass::Expired,
                "{} at {at}: {err}",
                doc.entry["file"]
            );
        }
        // The bounds themselves are inside the validity (RFC 5280 is inclusive).
        let policy_checks = |at| Checks::at(at);
        for at in [not_before, not_after] {
            let result = verifier.verify(&evidence, &policy_checks(at));
            assert!(result.is_ok() || result.as_ref().unwrap_err().class() == FailureClass::Debug);
        }
    }
}

#[test]
fn a_nitro_document_does_not_pass_as_dev_evidence_without_a_dev_root() {
    let verifier = Verifier::new().unwrap();
    let doc = &documents()[2];
    let err = verifier
        .verify(
            &Evidence::Dev {
                document: doc.bytes.clone(),
            },
            &Checks::at(doc.at),
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Chain);
}

#[test]
fn the_wrong_nonce_fails_as_a_nonce_error() {
    let verifier = Verifier::new().unwrap();
    let doc = prod_document();
    let evidence = Evidence::Nitro {
        document: doc.bytes.clone(),
    };
    let good = hex_field(&doc.entry, "nonce_hex").unwrap();
    let ok = verifier
        .verify(
            &evidence,
            &Checks {
                nonce: Some(&good),
                ..Checks::at(doc.at)
            },
        )
        .unwrap();
    assert!(ok.nonce_checked);
    let mut wrong = good.clone();
    wrong[0] ^= 1;
    let err = verifier
        .verify(
            &evidence,
            &Checks {
                nonce: Some(&wrong),
                ..Checks::at(doc.at)
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Nonce);
    // A document without a nonce fails a nonce check too.
    let no_nonce = documents()
        .into_iter()
        .find(|d| d.entry["nonce_hex"].is_null())
        .unwrap();
    // It is a debug document: admit its (zero) measurement so the nonce check is reached.
    let zero = [0u8; 48];
    let debug_policy = policy_allowing(
        &Measurement::Nitro {
            pcr0: zero,
            pcr1: zero,
            pcr2: zero,
            pcr8: None,
        },
        true,
        None,
    );
    let err = verifier
        .verify(
            &Evidence::Nitro {
                document: no_nonce.bytes.clone(),
            },
            &Checks {
                nonce: Some(&good),
                policy: Some(&debug_policy),
                ..Checks::at(no_nonce.at)
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Nonce, "{err}");
}

/// Flips one byte at a time over the signature, the payload and every certificate. Every
/// flip must fail; which class depends on where the byte is.
#[test]
fn flipping_any_single_byte_fails() {
    let verifier = Verifier::new().unwrap();
    let doc = prod_document();
    let evidence = Evidence::Nitro {
        document: doc.bytes.clone(),
    };
    verifier.verify(&evidence, &Checks::at(doc.at)).unwrap();
    let mut classes = std::collections::BTreeMap::new();
    for position in 0..doc.bytes.len() {
        let mut bytes = doc.bytes.clone();
        bytes[position] ^= 0x01;
        let result = verifier.verify(&Evidence::Nitro { document: bytes }, &Checks::at(doc.at));
        match result {
            Ok(_) => panic!(
                "flipping byte {position} of {} still verifies",
                doc.bytes.len()
            ),
            Err(e) => *classes.entry(e.class().as_str()).or_insert(0) += 1,
        }
    }
    // The sweep must reach the signature and chain checks, not only the parser.
    assert!(
        classes.get("signature").copied().unwrap_or(0) >= 96,
        "{classes:?}"
    );
    assert!(
        classes.get("chain").copied().unwrap_or(0) > 0,
        "{classes:?}"
    );
}

#[test]
fn the_pinned_aws_root_is_the_published_one() {
    use aip_attestation::nitro::{AnchorKind, TrustAnchor, AWS_ROOT_G1_SHA256};
    let root = TrustAnchor::aws_nitro_root_g1().unwrap();
    assert_eq!(root.kind(), AnchorKind::AwsNitro);
    assert_eq!(
        hex::encode(root.fingerprint()),
        "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
    );
    assert_eq!(root.fingerprint(), AWS_ROOT_G1_SHA256);
    let compiled_in = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/roots/nitro/aws_nitro_enclaves_root_G1.pem"
    ))
    .unwrap();
    assert_eq!(compiled_in, read("nitro/aws_nitro_enclaves_root_G1.pem"));
}
