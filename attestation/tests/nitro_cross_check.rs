#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Our Nitro verifier against an independent one (the nitro_attest crate), on every real
//! document: both accept at the document's time with the same fields, both refuse today.

mod common;

use aip_attestation::verified::Details;
use aip_attestation::Measurement;
use aip_attestation::{Checks, Evidence, FailureClass, Verifier};
use common::policy_allowing;
use nitro_attest::UnparsedAttestationDoc;
use time::OffsetDateTime;

#[test]
fn both_verifiers_agree_on_every_real_document() {
    let ours = Verifier::new().unwrap();
    for entry in common::manifest()["nitro"].as_array().unwrap() {
        let bytes = common::read(entry["file"].as_str().unwrap());
        let at = entry["verify_at_unix_s"].as_u64().unwrap();
        let theirs = UnparsedAttestationDoc::from(bytes.as_slice())
            .parse_and_verify(OffsetDateTime::from_unix_timestamp(at as i64).unwrap())
            .unwrap_or_else(|e| panic!("nitro_attest refuses {}: {e}", entry["file"]));

        let evidence = Evidence::Nitro {
            document: bytes.clone(),
        };
        let parsed = aip_attestation::nitro::document::parse(&bytes)
            .unwrap()
            .document;
        let measurement = Measurement::Nitro {
            pcr0: parsed.pcrs[&0].clone().try_into().unwrap(),
            pcr1: parsed.pcrs[&1].clone().try_into().unwrap(),
            pcr2: parsed.pcrs[&2].clone().try_into().unwrap(),
            pcr8: None,
        };
        let policy = policy_allowing(&measurement, true, None);
        let verified = ours
            .verify(
                &evidence,
                &Checks {
                    policy: Some(&policy),
                    ..Checks::at(at)
                },
            )
            .unwrap();
        let Details::Nitro(details) = &verified.details else {
            panic!()
        };

        assert_eq!(details.module_id, theirs.module_id);
        // nitro_attest keeps whole seconds; we keep the document's milliseconds.
        assert_eq!(
            details.timestamp_ms / 1000,
            theirs.timestamp.unix_timestamp() as u64
        );
        assert_eq!(
            details.timestamp_ms,
            entry["timestamp_ms"].as_u64().unwrap()
        );
        // nitro_attest drops all-zero PCRs; every PCR it keeps must be ours, the rest zero.
        assert!(!theirs.pcrs.is_empty());
        for (index, value) in &details.pcrs {
            match theirs.pcrs.get(&u16::from(*index)) {
                Some(digest) => assert_eq!(value, &hex::encode(&digest.value), "PCR{index}"),
                None => assert_eq!(value, &"0".repeat(96), "PCR{index}"),
            }
        }
        assert!(theirs
            .pcrs
            .keys()
            .all(|i| details.pcrs.contains_key(&(*i as u8))));
        assert_eq!(verified.public_key, theirs.public_key.map(|b| b.into_vec()));
        assert_eq!(verified.report_data, theirs.user_data.map(|b| b.into_vec()));
        assert_eq!(verified.nonce, theirs.nonce.map(|b| b.into_vec()));

        // Both refuse the document today.
        let today = common::now();
        assert!(UnparsedAttestationDoc::from(bytes.as_slice())
            .parse_and_verify(OffsetDateTime::from_unix_timestamp(today as i64).unwrap())
            .is_err());
        let err = ours
            .verify(
                &evidence,
                &Checks {
                    policy: Some(&policy),
                    ..Checks::at(today)
                },
            )
            .unwrap_err();
        assert_eq!(err.class(), FailureClass::Expired);
    }
}
