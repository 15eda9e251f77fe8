#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The platform producers off their platform: they fail with a clear error, and the SNP
//! evidence assembly (report + certificate table) yields evidence the verifier accepts.

mod common;

use aip_attestation::error::ProduceError;
use aip_attestation::nitro::nsm::NsmProducer;
use aip_attestation::snp::producer::{evidence_from, SnpProducer};
use aip_attestation::{BoundKeys, Checks, Evidence, EvidenceProducer, Verifier};
use sev::firmware::host::{CertTableEntry, CertType};

fn keys() -> BoundKeys {
    BoundKeys {
        tls_spki_der: vec![1],
        signing_public_key: [2; 32],
        release_address: [3; 20],
        config_sha256: [4; 32],
    }
}

fn report_data(report: &[u8]) -> [u8; 64] {
    report[0x50..0x90].try_into().unwrap()
}

#[test]
fn snp_evidence_takes_the_vcek_from_the_certificate_table() {
    let report = common::read("sev-snp/virtee_milan_report.bin");
    let vcek = common::read("sev-snp/virtee_milan_vcek.der");
    let table = vec![
        CertTableEntry::new(CertType::ARK, b"ark der".to_vec()),
        CertTableEntry::new(CertType::ASK, b"ask der".to_vec()),
        CertTableEntry::new(CertType::VCEK, vcek.clone()),
    ];
    let evidence = evidence_from(report.clone(), &table, None, &report_data(&report)).unwrap();
    let Evidence::SevSnp { vek, chain, .. } = &evidence else {
        panic!()
    };
    assert_eq!(vek, &vcek);
    assert_eq!(chain, &vec![b"ask der".to_vec(), b"ark der".to_vec()]);
    // The host-delivered chain is carried but never trusted: the built-in roots decide.
    let at = common::rfc3339("2023-04-04T19:23:43+00:00");
    Verifier::new()
        .unwrap()
        .verify(&evidence, &Checks::at(at))
        .unwrap();
    // Through the envelope too.
    let again = Evidence::from_json(&evidence.to_json()).unwrap();
    Verifier::new()
        .unwrap()
        .verify(&again, &Checks::at(at))
        .unwrap();
}

#[test]
fn snp_evidence_assembly_refuses_what_it_cannot_vouch_for() {
    let report = common::read("sev-snp/virtee_milan_report.bin");
    let vcek = common::read("sev-snp/virtee_milan_vcek.der");
    let data = report_data(&report);
    assert!(matches!(
        evidence_from(report.clone(), &[], None, &data),
        Err(ProduceError::MissingEndorsementKey)
    ));
    let with_fallback = evidence_from(report.clone(), &[], Some(&vcek), &data).unwrap();
    assert!(matches!(with_fallback, Evidence::SevSnp { vek, .. } if vek == vcek));
    let mut other = data;
    other[0] ^= 1;
    assert!(matches!(
        evidence_from(report.clone(), &[], Some(&vcek), &other),
        Err(ProduceError::BadEvidence(_))
    ));
    assert!(matches!(
        evidence_from(report[..100].to_vec(), &[], Some(&vcek), &data),
        Err(ProduceError::BadEvidence(_))
    ));
}

#[test]
fn a_directory_that_is_not_configfs_tsm_is_refused_and_left_clean() {
    let root = std::env::temp_dir().join(format!("aip-fake-tsm-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let producer = SnpProducer::new(0, None).with_configfs_root(&root);
    let err = producer.produce(&keys(), b"nonce").unwrap_err();
    assert!(matches!(err, ProduceError::DeviceRefused { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        0,
        "the report entry is removed"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn off_platform_the_producers_say_the_device_is_missing() {
    if !std::path::Path::new("/dev/sev-guest").exists() {
        let producer = SnpProducer::new(0, None).with_configfs_root("/nonexistent/tsm/report");
        let err = producer.produce(&keys(), b"nonce").unwrap_err();
        assert!(
            matches!(err, ProduceError::DeviceUnavailable { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("/dev/sev-guest"));
    }
    if !std::path::Path::new("/dev/nsm").exists() {
        let err = NsmProducer::open().unwrap_err();
        assert!(
            matches!(err, ProduceError::DeviceUnavailable { .. }),
            "{err}"
        );
    }
}
