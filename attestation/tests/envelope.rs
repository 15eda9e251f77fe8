#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The versioned JSON envelope: round trips, and refuses what does not belong.

use aip_attestation::{EnvelopeError, Evidence};

#[test]
fn every_kind_round_trips() {
    for evidence in [
        Evidence::Nitro {
            document: vec![0x84, 1, 2, 3],
        },
        Evidence::Dev {
            document: vec![0xd2, 9],
        },
        Evidence::SevSnp {
            report: vec![7; 1184],
            vek: vec![1, 2],
            chain: vec![vec![3], vec![4]],
        },
    ] {
        let json = evidence.to_json();
        assert_eq!(Evidence::from_json(&json).unwrap(), evidence, "{json}");
    }
}

#[test]
fn bad_envelopes_are_refused_with_specific_errors() {
    type Case = (&'static str, fn(&EnvelopeError) -> bool);
    let cases: Vec<Case> = vec![
        (
            r#"{"version":2,"platform":"nitro","document":"AA=="}"#,
            |e| matches!(e, EnvelopeError::Version(2)),
        ),
        (r#"{"version":1,"platform":"nitro"}"#, |e| {
            matches!(e, EnvelopeError::Missing("document"))
        }),
        (r#"{"version":1,"platform":"tdx","document":"AA=="}"#, |e| {
            matches!(e, EnvelopeError::Json(_))
        }),
        (
            r#"{"version":1,"platform":"nitro","document":"AA==","extra":1}"#,
            |e| matches!(e, EnvelopeError::Json(_)),
        ),
        (
            r#"{"version":1,"platform":"nitro","document":"AA==","vek":"AA=="}"#,
            |e| matches!(e, EnvelopeError::Misplaced { field: "vek", .. }),
        ),
        (
            r#"{"version":1,"platform":"sev-snp","report":"AA==","vek":"AA==","document":"AA=="}"#,
            |e| {
                matches!(
                    e,
                    EnvelopeError::Misplaced {
                        field: "document",
                        ..
                    }
                )
            },
        ),
        (
            r#"{"version":1,"platform":"sev-snp","report":"AA=="}"#,
            |e| matches!(e, EnvelopeError::Missing("vek")),
        ),
        (
            r#"{"version":1,"platform":"nitro","document":"not base64!"}"#,
            |e| {
                matches!(
                    e,
                    EnvelopeError::Base64 {
                        field: "document",
                        ..
                    }
                )
            },
        ),
        (
            r#"{"version":1,"platform":"sev-snp","report":"AA==","vek":"AA==","chain":["AA==","AA==","AA==","AA==","AA=="]}"#,
            |e| matches!(e, EnvelopeError::TooLarge { field: "chain", .. }),
        ),
        ("[]", |e| matches!(e, EnvelopeError::Json(_))),
    ];
    for (text, expected) in cases {
        let err = Evidence::from_json(text).expect_err(text);
        assert!(expected(&err), "{text}: unexpected {err:?}");
    }
    let huge = format!(
        r#"{{"version":1,"platform":"nitro","document":"{}"}}"#,
        "A".repeat(64 * 1024)
    );
    assert!(matches!(
        Evidence::from_json(&huge),
        Err(EnvelopeError::TooLarge {
            field: "document",
            ..
        })
    ));
    let long_report = format!(
        r#"{{"version":1,"platform":"sev-snp","report":"{}","vek":"AA=="}}"#,
        "A".repeat(1600 + 8)
    );
    assert!(matches!(
        Evidence::from_json(&long_report),
        Err(EnvelopeError::TooLarge {
            field: "report",
            ..
        })
    ));
}

#[test]
fn debug_output_shows_sizes_not_bytes() {
    let e = Evidence::SevSnp {
        report: vec![0xee; 1184],
        vek: vec![1; 10],
        chain: vec![],
    };
    assert_eq!(
        format!("{e:?}"),
        "Evidence::SevSnp(report 1184 bytes, vek 10 bytes, 0 chain certs)"
    );
}
