#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The measurement policy file: what it accepts, and a table of what its invariant refuses.

use aip_attestation::policy::{Allowed, MeasurementPolicy};
use aip_attestation::{clock, Measurement, PolicyError};

const A: &str = "f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b";
const B: &str = "bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f";

fn nitro(name: &str, extra: &str) -> String {
    format!(
        "[[nitro]]\nname = \"{name}\"\npcr0 = \"{A}\"\npcr1 = \"{B}\"\npcr2 = \"{A}\"\n{extra}\n"
    )
}

#[test]
fn a_full_policy_parses() {
    let text = format!(
        "{}{}[[sev_snp]]\nname = \"snp\"\nmeasurement = \"0x{A}\"\nhost_data = \"{}\"\nvmpl = 1\nexpires = 2030-01-01T00:00:00+02:00\n",
        nitro("old", "expires = 2027-06-01T00:00:00Z"),
        nitro("new", &format!("pcr8 = \"{B}\"")),
        "ab".repeat(32)
    );
    let policy = MeasurementPolicy::from_toml(&text).unwrap();
    assert!(!policy.allow_debug);
    assert_eq!(policy.entries.len(), 3);
    assert_eq!(
        policy.entries[0].expires,
        clock::unix_seconds(2027, 6, 1, 0, 0, 0)
    );
    assert_eq!(
        policy.entries[2].expires,
        clock::unix_seconds(2029, 12, 31, 22, 0, 0)
    );
    assert!(matches!(
        policy.entries[1].allowed,
        Allowed::Nitro { pcr8: Some(_), .. }
    ));
    assert!(
        matches!(policy.entries[2].allowed, Allowed::SevSnp { vmpl: 1, host_data: Some(h), .. } if h == [0xab; 32])
    );
}

#[test]
fn rotation_the_first_live_entry_wins_and_expiry_is_exclusive() {
    let text = format!(
        "{}{}",
        nitro("old", "expires = 2027-06-01T00:00:00Z"),
        nitro("new", "")
    );
    let policy = MeasurementPolicy::from_toml(&text).unwrap();
    let m = Measurement::Nitro {
        pcr0: hex::decode(A).unwrap().try_into().unwrap(),
        pcr1: hex::decode(B).unwrap().try_into().unwrap(),
        pcr2: hex::decode(A).unwrap().try_into().unwrap(),
        pcr8: None,
    };
    let expiry = clock::unix_seconds(2027, 6, 1, 0, 0, 0).unwrap();
    assert_eq!(policy.check(&m, expiry - 1).unwrap().name, "old");
    assert_eq!(policy.check(&m, expiry).unwrap().name, "new");
    let only_old =
        MeasurementPolicy::from_toml(&nitro("old", "expires = 2027-06-01T00:00:00Z")).unwrap();
    let err = only_old.check(&m, expiry).unwrap_err();
    assert_eq!(err.class(), aip_attestation::FailureClass::PolicyExpired);
    assert!(err.to_string().contains("old"));
}

#[test]
fn the_invariant_refuses_each_bad_policy() {
    let zero = "00".repeat(48);
    type Case = (&'static str, String, fn(&PolicyError) -> bool);
    let table: Vec<Case> = vec![
        ("empty", String::new(), |e| matches!(e, PolicyError::Empty)),
        ("only allow_debug", "allow_debug = true\n".into(), |e| matches!(e, PolicyError::Empty)),
        ("unknown top-level key", format!("allow_debgu = true\n{}", nitro("a", "")), |e| matches!(e, PolicyError::Parse(_))),
        ("unknown entry key", nitro("a", "pcr3 = \"00\""), |e| matches!(e, PolicyError::Parse(_))),
        ("missing pcr2", "[[nitro]]\nname = \"a\"\npcr0 = \"00\"\npcr1 = \"00\"\n".into(), |e| matches!(e, PolicyError::Parse(_))),
        ("short pcr", "[[nitro]]\nname = \"a\"\npcr0 = \"00\"\npcr1 = \"00\"\npcr2 = \"00\"\n".into(), |e| matches!(e, PolicyError::Entry { .. })),
        ("non-hex pcr", nitro("a", "").replace(&A[..2], "zz"), |e| matches!(e, PolicyError::Entry { .. })),
        ("duplicate names", format!("{}{}", nitro("a", ""), nitro("a", "")), |e| matches!(e, PolicyError::Entry { .. })),
        ("empty name", nitro(" ", ""), |e| matches!(e, PolicyError::Entry { .. })),
        (
            "zero PCRs without allow_debug",
            format!("[[nitro]]\nname = \"dbg\"\npcr0 = \"{zero}\"\npcr1 = \"{zero}\"\npcr2 = \"{zero}\"\n"),
            |e| matches!(e, PolicyError::Entry { .. }),
        ),
        ("vmpl out of range", format!("[[sev_snp]]\nname = \"s\"\nmeasurement = \"{A}\"\nvmpl = 4\n"), |e| matches!(e, PolicyError::Entry { .. })),
        ("short host_data", format!("[[sev_snp]]\nname = \"s\"\nmeasurement = \"{A}\"\nhost_data = \"00\"\n"), |e| matches!(e, PolicyError::Entry { .. })),
        ("local datetime expiry", nitro("a", "expires = 2027-06-01T00:00:00"), |e| matches!(e, PolicyError::Entry { .. })),
        ("date-only expiry", nitro("a", "expires = 2027-06-01"), |e| matches!(e, PolicyError::Entry { .. })),
        ("string expiry", nitro("a", "expires = \"tomorrow\""), |e| matches!(e, PolicyError::Parse(_))),
    ];
    for (name, text, expected) in table {
        let err = MeasurementPolicy::from_toml(&text).expect_err(name);
        assert!(expected(&err), "{name}: unexpected {err:?}");
    }
    // The zero-PCR entry is accepted once debug is explicitly allowed.
    let debug = format!("allow_debug = true\n[[nitro]]\nname = \"dbg\"\npcr0 = \"{zero}\"\npcr1 = \"{zero}\"\npcr2 = \"{zero}\"\n");
    assert!(MeasurementPolicy::from_toml(&debug).unwrap().allow_debug);
}

#[test]
fn the_canonical_form_ignores_formatting_and_pins_every_value() {
    let a = MeasurementPolicy::from_toml(&nitro("n", "expires = 2027-06-01T00:00:00Z")).unwrap();
    let spaced = nitro("n", "expires = 2027-06-01T02:00:00+02:00").replace(" = ", "   =   ");
    let b = MeasurementPolicy::from_toml(&format!("# comment\n\n{spaced}")).unwrap();
    assert_eq!(a.canonical_json(), b.canonical_json());
    assert_eq!(a.allowed_sets_sha256_hex(), b.allowed_sets_sha256_hex());
    let json: serde_json::Value = serde_json::from_str(&a.canonical_json()).unwrap();
    assert_eq!(json["entries"][0]["pcr0"], A);
    assert_eq!(json["entries"][0]["pcr8"], serde_json::Value::Null);
    for other in [
        nitro("n", ""),
        nitro("m", "expires = 2027-06-01T00:00:00Z"),
        format!(
            "allow_debug = true\n{}",
            nitro("n", "expires = 2027-06-01T00:00:00Z")
        ),
        nitro(
            "n",
            &format!("expires = 2027-06-01T00:00:00Z\npcr8 = \"{B}\""),
        ),
    ] {
        let p = MeasurementPolicy::from_toml(&other).unwrap();
        assert_ne!(
            p.allowed_sets_sha256_hex(),
            a.allowed_sets_sha256_hex(),
            "{other}"
        );
    }
}

#[test]
fn configuration_pins_tcb_floors_and_the_migration_agent_switch_parse() {
    let text = format!(
        "allow_migration_agent = true\n{}[[sev_snp]]\nname = \"snp\"\nmeasurement = \"{A}\"\nconfig = \"{}\"\nmin_tcb = {{ bootloader = 3, tee = 0, snp = 8, microcode = 115 }}\n",
        nitro("n", &format!("config = \"{}\"", "cd".repeat(32))),
        "ef".repeat(32)
    );
    let policy = MeasurementPolicy::from_toml(&text).unwrap();
    assert!(policy.allow_migration_agent);
    assert_eq!(policy.entries[0].config, Some([0xcd; 32]));
    assert_eq!(policy.entries[1].config, Some([0xef; 32]));
    assert!(matches!(
        policy.entries[1].allowed,
        Allowed::SevSnp { min_tcb: Some(t), .. } if (t.bootloader, t.tee, t.snp, t.microcode) == (3, 0, 8, 115)
    ));
    assert!(policy.pins_every_config());
    for (bad, needle) in [
        (nitro("n", "config = \"cd\""), "config is not 32 bytes"),
        (
            format!("[[sev_snp]]\nname = \"s\"\nmeasurement = \"{A}\"\nmin_tcb = {{ bootloader = 1 }}\n"),
            "missing field",
        ),
    ] {
        let err = MeasurementPolicy::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains(needle), "{bad}: {err}");
    }
}
