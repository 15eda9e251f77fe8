#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Dev evidence goes through the same verifier as production evidence: it verifies with the
//! dev root, fails without it, and every binding, nonce and policy check applies to it.

mod common;

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::policy::{Allowed, MeasurementPolicy};
use aip_attestation::{
    clock, BoundKeys, Checks, Evidence, EvidenceProducer, FailureClass, Measurement, Platform,
    Verifier,
};
use common::policy_allowing;

fn keys() -> BoundKeys {
    BoundKeys {
        tls_spki_der: b"tls spki der".to_vec(),
        signing_public_key: [1; 32],
        release_address: [2; 20],
        config_sha256: aip_attestation::config_digest(b"config"),
    }
}

fn producer() -> DevProducer {
    let pki = DevPki::ephemeral(clock::now()).unwrap();
    DevProducer::new(
        pki,
        PcrBank::for_image(b"enclave image", b"aip-enclave"),
        "i-dev-enc0000000000000001",
    )
}

fn verifier(p: &DevProducer) -> Verifier {
    Verifier::new()
        .unwrap()
        .trust_dev_root(p.pki().root_pem().unwrap().as_bytes())
        .unwrap()
}

#[test]
fn produce_then_verify_with_binding_nonce_and_policy() {
    let p = producer();
    let v = verifier(&p);
    let nonce = b"verifier nonce 0123456789abcdef";
    let evidence = p.produce(&keys(), nonce).unwrap();
    assert_eq!(evidence.platform(), Platform::Dev);
    let now = clock::now();
    let measured = v.verify(&evidence, &Checks::at(now)).unwrap();
    assert!(!measured.debug);
    let policy = policy_allowing(&measured.measurement, false, None);
    let k = keys();
    let verified = v
        .verify(
            &evidence,
            &Checks {
                at: now,
                policy: Some(&policy),
                nonce: Some(nonce),
                bound_keys: Some(&k),
            },
        )
        .unwrap();
    assert!(verified.nonce_checked && verified.binding_checked);
    assert_eq!(verified.policy_entry.as_deref(), Some("allowed"));
    assert_eq!(
        verified.report_data.as_deref(),
        Some(k.binding(nonce).0.as_slice())
    );
    assert_eq!(
        verified.public_key, None,
        "the document carries no public key: the binding holds the keys"
    );
    let Measurement::Nitro { pcr0, .. } = verified.measurement else {
        panic!()
    };
    assert_eq!(
        Some(pcr0),
        PcrBank::for_image(b"enclave image", b"aip-enclave").get(0)
    );
}

#[test]
fn dev_evidence_fails_without_the_dev_root_and_as_nitro() {
    let p = producer();
    let evidence = p.produce(&keys(), b"n").unwrap();
    let now = clock::now();
    let err = Verifier::new()
        .unwrap()
        .verify(&evidence, &Checks::at(now))
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Chain);
    // Relabelled as Nitro it is checked against the AWS root and fails.
    let Evidence::Dev { document } = evidence else {
        panic!()
    };
    let err = verifier(&p)
        .verify(
            &Evidence::Nitro {
                document: document.clone(),
            },
            &Checks::at(now),
        )
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Chain);
    // Another dev root does not do either.
    let other = verifier(&producer());
    let err = other
        .verify(&Evidence::Dev { document }, &Checks::at(now))
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Chain);
}

#[test]
fn each_check_fails_with_its_own_class() {
    let p = producer();
    let v = verifier(&p);
    let nonce = b"the nonce";
    let evidence = p.produce(&keys(), nonce).unwrap();
    let now = clock::now();
    let m = v.verify(&evidence, &Checks::at(now)).unwrap().measurement;
    let k = keys();

    let wrong_nonce = Checks {
        nonce: Some(b"another nonce"),
        ..Checks::at(now)
    };
    assert_eq!(
        v.verify(&evidence, &wrong_nonce).unwrap_err().class(),
        FailureClass::Nonce
    );

    let mut other_keys = keys();
    other_keys.tls_spki_der.push(0);
    let wrong_binding = Checks {
        nonce: Some(nonce),
        bound_keys: Some(&other_keys),
        ..Checks::at(now)
    };
    assert_eq!(
        v.verify(&evidence, &wrong_binding).unwrap_err().class(),
        FailureClass::Binding
    );

    let mut other_config = keys();
    other_config.config_sha256 = aip_attestation::config_digest(b"other config");
    let wrong_config = Checks {
        nonce: Some(nonce),
        bound_keys: Some(&other_config),
        ..Checks::at(now)
    };
    assert_eq!(
        v.verify(&evidence, &wrong_config).unwrap_err().class(),
        FailureClass::Binding
    );

    let binding_without_nonce = Checks {
        bound_keys: Some(&k),
        ..Checks::at(now)
    };
    assert_eq!(
        v.verify(&evidence, &binding_without_nonce)
            .unwrap_err()
            .class(),
        FailureClass::Binding
    );

    let mut unlisted = policy_allowing(&m, false, None);
    if let Allowed::Nitro { pcr2, .. } = &mut unlisted.entries[0].allowed {
        pcr2[0] ^= 1;
    }
    let checks = Checks {
        policy: Some(&unlisted),
        ..Checks::at(now)
    };
    assert_eq!(
        v.verify(&evidence, &checks).unwrap_err().class(),
        FailureClass::Measurement
    );

    let expired = policy_allowing(&m, false, Some(now - 1));
    let checks = Checks {
        policy: Some(&expired),
        ..Checks::at(now)
    };
    assert_eq!(
        v.verify(&evidence, &checks).unwrap_err().class(),
        FailureClass::PolicyExpired
    );

    // The leaf lives three hours.
    let later = now + 4 * 3600;
    assert_eq!(
        v.verify(&evidence, &Checks::at(later)).unwrap_err().class(),
        FailureClass::Expired
    );
}

#[test]
fn a_debug_bank_is_debug_evidence() {
    let pki = DevPki::ephemeral(clock::now()).unwrap();
    let p = DevProducer::new(pki, PcrBank::new(), "i-dev-debug");
    let v = verifier(&p);
    let evidence = p.produce(&keys(), b"n").unwrap();
    let err = v.verify(&evidence, &Checks::at(clock::now())).unwrap_err();
    assert_eq!(err.class(), FailureClass::Debug);
    let policy = MeasurementPolicy::from_toml(&format!(
        "allow_debug = true\n[[nitro]]\nname = \"debug\"\npcr0 = \"{z}\"\npcr1 = \"{z}\"\npcr2 = \"{z}\"\n",
        z = "00".repeat(48)
    ))
    .unwrap();
    let ok = v
        .verify(
            &evidence,
            &Checks {
                policy: Some(&policy),
                ..Checks::at(clock::now())
            },
        )
        .unwrap();
    assert!(ok.debug);
}

#[test]
fn the_pcr_bank_extends_like_the_nsm_and_refuses_locked_registers() {
    use sha2::{Digest, Sha384};
    let mut bank = PcrBank::new();
    let value = bank.extend(16, b"data").unwrap();
    let mut expected = Sha384::new();
    expected.update([0u8; 48]);
    expected.update(b"data");
    assert_eq!(value.to_vec(), expected.finalize().to_vec());
    bank.lock(16).unwrap();
    assert!(bank.extend(16, b"more").is_err());
    assert!(bank.extend(32, b"x").is_err());
    let image = PcrBank::for_image(b"i", b"a");
    assert!(
        image.clone().extend(0, b"x").is_err(),
        "PCR0..15 are locked after boot"
    );
}

#[test]
fn the_dev_root_persists_across_restarts_with_a_private_key_file() {
    let dir = std::env::temp_dir().join(format!("aip-dev-pki-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = DevPki::load_or_create(&dir, clock::now()).unwrap();
    let second = DevPki::load_or_create(&dir, clock::now()).unwrap();
    assert_eq!(first.root_pem().unwrap(), second.root_pem().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("dev-root.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!format!("{first:?}").contains("PRIVATE"));
    // Evidence from the restarted producer verifies under the persisted root.
    let p = DevProducer::new(second, PcrBank::for_image(b"x", b"y"), "i-dev");
    let v = Verifier::new()
        .unwrap()
        .trust_dev_root(first.root_pem().unwrap().as_bytes())
        .unwrap();
    v.verify(
        &p.produce(&keys(), b"n").unwrap(),
        &Checks::at(clock::now()),
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn producers_refuse_oversized_nonces() {
    let p = producer();
    assert!(p.produce(&keys(), &[0u8; 513]).is_err());
    assert!(p.produce(&keys(), &[0u8; 512]).is_ok());
}

/// A policy entry that pins the configuration identity: the evidence must bind
/// `bound_config_digest(identity, the policy's allowed-sets hash)`, and a verifier without the
/// bound keys cannot confirm it, so it refuses.
#[test]
fn a_pinned_configuration_is_checked_through_the_bound_keys() {
    let p = producer();
    let v = verifier(&p);
    let now = clock::now();
    let nonce = b"nonce for the config pin";
    let measured = v
        .verify(&p.produce(&keys(), nonce).unwrap(), &Checks::at(now))
        .unwrap();
    let identity = [0x5a; 32];
    let mut policy = policy_allowing(&measured.measurement, false, None);
    policy.entries[0].config = Some(identity);
    let bound = aip_attestation::bound_config_digest(&identity, &policy.allowed_sets_sha256());
    let check = |config_sha256: [u8; 32], with_keys: bool| {
        let keys = BoundKeys {
            config_sha256,
            ..keys()
        };
        let evidence = p.produce(&keys, nonce).unwrap();
        v.verify(
            &evidence,
            &Checks {
                at: now,
                policy: Some(&policy),
                nonce: Some(nonce),
                bound_keys: with_keys.then_some(&keys),
            },
        )
        .map(|_| ())
        .map_err(|e| e.class())
    };
    assert_eq!(check(bound, true), Ok(()));
    // The pinned identity under another policy, another identity, the raw bytes' hash, and no
    // keys to check with: all refused as configuration failures.
    let other_policy = aip_attestation::bound_config_digest(&identity, &[0; 32]);
    let other_identity =
        aip_attestation::bound_config_digest(&[0x5b; 32], &policy.allowed_sets_sha256());
    for refused in [other_policy, other_identity, keys().config_sha256] {
        assert_eq!(check(refused, true), Err(FailureClass::Config));
    }
    assert_eq!(check(bound, false), Err(FailureClass::Config));
    // The pin is part of what the condition names: pinning changes the allowed-sets hash.
    let mut unpinned = policy.clone();
    unpinned.entries[0].config = None;
    assert_ne!(unpinned.allowed_sets_sha256(), policy.allowed_sets_sha256());
    assert!(policy.pins_every_config() && !unpinned.pins_every_config());
}
