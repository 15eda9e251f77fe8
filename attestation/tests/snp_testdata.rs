#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every real SEV-SNP report in ../shared/testdata verifies with exactly the manifest's
//! fields; the debug-policy report is refused unless allowed; any single-byte change fails.

mod common;

use aip_attestation::policy::{Allowed, MeasurementPolicy};
use aip_attestation::snp::{Product, SigningKey};
use aip_attestation::verified::Details;
use aip_attestation::{Checks, Evidence, FailureClass, Measurement, Verifier};
use common::{hex_field, manifest, policy_allowing, read, rfc3339};

struct Report {
    evidence: Evidence,
    entry: serde_json::Value,
}

fn reports() -> Vec<Report> {
    manifest()["sev_snp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| Report {
            evidence: Evidence::SevSnp {
                report: read(entry["report"].as_str().unwrap()),
                vek: read(entry["vek"].as_str().unwrap()),
                chain: vec![],
            },
            entry: entry.clone(),
        })
        .collect()
}

/// Inside every certificate's validity: VCEKs run from 2022/2023 to 2029/2030.
fn at(entry: &serde_json::Value) -> u64 {
    rfc3339(entry["vek_not_before"].as_str().unwrap()) + 86_400
}

/// A policy allowing the report's own measurement, from the manifest, with debug allowed.
fn allow_debug(entry: &serde_json::Value) -> MeasurementPolicy {
    let measurement = Measurement::SevSnp {
        measurement: hex_field(entry, "measurement_hex")
            .unwrap()
            .try_into()
            .unwrap(),
        host_data: hex_field(entry, "host_data_hex")
            .unwrap()
            .try_into()
            .unwrap(),
        vmpl: entry["vmpl"].as_u64().unwrap() as u32,
    };
    policy_allowing(&measurement, true, None)
}

#[test]
fn every_report_verifies_with_the_manifest_fields() {
    let verifier = Verifier::new().unwrap();
    for r in reports() {
        let e = &r.entry;
        let debug = e["debug_allowed"].as_bool().unwrap();
        let policy = allow_debug(e);
        let checks = Checks {
            policy: if debug { Some(&policy) } else { None },
            ..Checks::at(at(e))
        };
        let verified = verifier
            .verify(&r.evidence, &checks)
            .unwrap_or_else(|err| panic!("{}: {err}", e["report"]));
        assert_eq!(verified.debug, debug);
        assert_eq!(verified.report_data, hex_field(e, "report_data_hex"));
        let Measurement::SevSnp {
            measurement,
            host_data,
            vmpl,
        } = &verified.measurement
        else {
            panic!()
        };
        assert_eq!(
            measurement.to_vec(),
            hex_field(e, "measurement_hex").unwrap()
        );
        assert_eq!(host_data.to_vec(), hex_field(e, "host_data_hex").unwrap());
        assert_eq!(u64::from(*vmpl), e["vmpl"].as_u64().unwrap());
        let Details::SevSnp(d) = &verified.details else {
            panic!("snp details")
        };
        assert_eq!(d.product, Product::Milan);
        assert_eq!(d.signing_key, SigningKey::Vcek);
        assert_eq!(u64::from(d.version), e["version"].as_u64().unwrap());
        assert_eq!(d.guest_policy, e["policy_hex"].as_str().unwrap());
        assert_eq!(d.chip_id.to_vec(), hex_field(e, "chip_id_hex").unwrap());
        assert_eq!(
            d.vek_not_before,
            rfc3339(e["vek_not_before"].as_str().unwrap())
        );
        assert_eq!(
            d.vek_not_after,
            rfc3339(e["vek_not_after"].as_str().unwrap())
        );
        // reported_tcb as the u64 the manifest prints: byte 0 bootloader ... byte 7 microcode.
        let t = d.reported_tcb;
        let tcb = u64::from_le_bytes([t.bootloader, t.tee, 0, 0, 0, 0, t.snp, t.microcode]);
        assert_eq!(
            format!("{tcb:016x}"),
            e["reported_tcb_hex"].as_str().unwrap()
        );
    }
}

#[test]
fn the_debug_policy_report_is_refused_unless_allowed() {
    let verifier = Verifier::new().unwrap();
    let r = reports()
        .into_iter()
        .find(|r| r.entry["debug_allowed"].as_bool().unwrap())
        .unwrap();
    let err = verifier
        .verify(&r.evidence, &Checks::at(at(&r.entry)))
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Debug);
    let verified = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&allow_debug(&r.entry)),
                ..Checks::at(at(&r.entry))
            },
        )
        .unwrap();
    // A policy that pins its measurement but does not allow debug refuses it as debug.
    let strict = policy_allowing(&verified.measurement, false, None);
    let err = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&strict),
                ..Checks::at(at(&r.entry))
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Debug);
}

#[test]
fn validity_is_checked_at_the_given_time() {
    let verifier = Verifier::new().unwrap();
    let r = &reports()[0];
    let not_after = rfc3339(r.entry["vek_not_after"].as_str().unwrap());
    let not_before = rfc3339(r.entry["vek_not_before"].as_str().unwrap());
    for when in [not_before - 1, not_after + 1] {
        let err = verifier.verify(&r.evidence, &Checks::at(when)).unwrap_err();
        assert_eq!(err.class(), FailureClass::Expired, "{err}");
    }
    verifier
        .verify(&r.evidence, &Checks::at(common::now()))
        .unwrap();
}

#[test]
fn policy_measurement_vmpl_and_expiry() {
    let verifier = Verifier::new().unwrap();
    let r = &reports()[0];
    let t = at(&r.entry);
    let measurement = verifier
        .verify(&r.evidence, &Checks::at(t))
        .unwrap()
        .measurement;

    let live = policy_allowing(&measurement, false, Some(t + 1));
    let ok = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&live),
                ..Checks::at(t)
            },
        )
        .unwrap();
    assert_eq!(ok.policy_entry.as_deref(), Some("allowed"));

    let expired = policy_allowing(&measurement, false, Some(t));
    let err = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&expired),
                ..Checks::at(t)
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::PolicyExpired, "{err}");

    let mut other = policy_allowing(&measurement, false, None);
    if let Allowed::SevSnp { measurement, .. } = &mut other.entries[0].allowed {
        measurement[0] ^= 1;
    }
    let err = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&other),
                ..Checks::at(t)
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Measurement);

    let mut wrong_vmpl = policy_allowing(&measurement, false, None);
    if let Allowed::SevSnp { vmpl, .. } = &mut wrong_vmpl.entries[0].allowed {
        *vmpl = 1;
    }
    let err = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&wrong_vmpl),
                ..Checks::at(t)
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Measurement);

    let mut wrong_host_data = policy_allowing(&measurement, false, None);
    if let Allowed::SevSnp { host_data, .. } = &mut wrong_host_data.entries[0].allowed {
        *host_data = Some([7; 32]);
    }
    let err = verifier
        .verify(
            &r.evidence,
            &Checks {
                policy: Some(&wrong_host_data),
                ..Checks::at(t)
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Measurement);
}

#[test]
fn a_nonce_alone_cannot_be_checked_on_snp() {
    let verifier = Verifier::new().unwrap();
    let r = &reports()[0];
    let err = verifier
        .verify(
            &r.evidence,
            &Checks {
                nonce: Some(b"fresh"),
                ..Checks::at(at(&r.entry))
            },
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Nonce);
}

#[test]
fn another_chips_vcek_is_refused() {
    let verifier = Verifier::new().unwrap();
    let all = reports();
    let Evidence::SevSnp { report, .. } = &all[0].evidence else {
        panic!()
    };
    let Evidence::SevSnp { vek, .. } = &all[1].evidence else {
        panic!()
    };
    let swapped = Evidence::SevSnp {
        report: report.clone(),
        vek: vek.clone(),
        chain: vec![],
    };
    let err = verifier
        .verify(&swapped, &Checks::at(at(&all[0].entry)))
        .unwrap_err();
    assert!(
        matches!(err.class(), FailureClass::Signature | FailureClass::Chain),
        "{err}"
    );
    // A Turin VCEK is issued by the Turin ASK, and does not sign a Milan report.
    let turin = Evidence::SevSnp {
        report: report.clone(),
        vek: read(
            "sev-snp/virtee_turin_vek.der"
                .replace("vek", "vcek")
                .as_str(),
        ),
        chain: vec![],
    };
    let err = verifier
        .verify(&turin, &Checks::at(common::now()))
        .unwrap_err();
    assert!(
        matches!(err.class(), FailureClass::Signature | FailureClass::Chain),
        "{err}"
    );
}

#[test]
fn flipping_any_single_byte_of_the_report_fails() {
    let verifier = Verifier::new().unwrap();
    let r = &reports()[0];
    let Evidence::SevSnp { report, vek, .. } = &r.evidence else {
        panic!()
    };
    let t = at(&r.entry);
    let mut classes = std::collections::BTreeMap::new();
    for position in 0..report.len() {
        let mut bytes = report.clone();
        bytes[position] ^= 0x01;
        let evidence = Evidence::SevSnp {
            report: bytes,
            vek: vek.clone(),
            chain: vec![],
        };
        match verifier.verify(&evidence, &Checks::at(t)) {
            Ok(_) => panic!("flipping report byte {position} still verifies"),
            Err(e) => *classes.entry(e.class().as_str()).or_insert(0) += 1,
        }
    }
    // Most of the signed area fails the signature; reserved bytes and padding fail as malformed.
    assert!(
        classes.get("signature").copied().unwrap_or(0) >= 500,
        "{classes:?}"
    );
    assert_eq!(classes.values().sum::<usize>(), report.len());
}

#[test]
fn flipping_bytes_of_the_vcek_fails() {
    let verifier = Verifier::new().unwrap();
    let r = &reports()[0];
    let Evidence::SevSnp { report, vek, .. } = &r.evidence else {
        panic!()
    };
    let t = at(&r.entry);
    for position in 0..vek.len() {
        let mut bytes = vek.clone();
        bytes[position] ^= 0x01;
        let evidence = Evidence::SevSnp {
            report: report.clone(),
            vek: bytes,
            chain: vec![],
        };
        assert!(
            verifier.verify(&evidence, &Checks::at(t)).is_err(),
            "flipping VCEK byte {position} still verifies"
        );
    }
}

/// The entry's TCB floor and the guest policy's migration-agent bit, on the real reports: a
/// floor at the reported TCB passes, one component above it fails as a platform failure; the
/// MIGRATE_MA bit (18) is read as the manifest's policy says, and refused unless allowed.
#[test]
fn the_tcb_floor_and_the_migration_agent_bit() {
    use aip_attestation::policy::MinTcb;
    let verifier = Verifier::new().unwrap();
    for r in reports() {
        let e = &r.entry;
        let mut policy = allow_debug(e);
        let verified = verifier
            .verify(
                &r.evidence,
                &Checks {
                    policy: Some(&policy),
                    ..Checks::at(at(e))
                },
            )
            .unwrap();
        let Details::SevSnp(d) = &verified.details else {
            panic!("snp details")
        };
        let policy_bits = u64::from_str_radix(
            e["policy_hex"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(d.migration_agent_allowed, policy_bits & (1 << 18) != 0);
        let t = d.reported_tcb;
        let floor = MinTcb {
            bootloader: t.bootloader,
            tee: t.tee,
            snp: t.snp,
            microcode: t.microcode,
        };
        let with_floor = |floor: MinTcb, policy: &mut MeasurementPolicy| {
            if let Allowed::SevSnp { min_tcb, .. } = &mut policy.entries[0].allowed {
                *min_tcb = Some(floor);
            }
            verifier
                .verify(
                    &r.evidence,
                    &Checks {
                        policy: Some(policy),
                        ..Checks::at(at(e))
                    },
                )
                .map(|_| ())
                .map_err(|e| e.class())
        };
        assert_eq!(with_floor(floor, &mut policy), Ok(()));
        for above in [
            MinTcb {
                bootloader: floor.bootloader + 1,
                ..floor
            },
            MinTcb {
                tee: floor.tee + 1,
                ..floor
            },
            MinTcb {
                snp: floor.snp + 1,
                ..floor
            },
            MinTcb {
                microcode: floor.microcode + 1,
                ..floor
            },
        ] {
            assert_eq!(
                with_floor(above, &mut policy),
                Err(FailureClass::Platform),
                "{}",
                e["report"]
            );
        }
    }
}
