#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! API keys: format, Argon2id verification (really performed: a record with another key's
//! hash refuses), scopes, revocation, and no secret in Debug output.

use std::collections::BTreeSet;

use aip_enclave::api::keys::{issue, KeyError, KeyRing};
use aip_enclave::api::rate::RateLimit;
use aip_enclave::api::scope::Scope;

#[test]
fn keys_authenticate_by_scope_and_refuse_everything_else() {
    let (payments, payments_record) = issue(
        "backend",
        BTreeSet::from([Scope::CreatePayments]),
        RateLimit::DEFAULT,
        None,
        1,
    )
    .unwrap();
    let (admin, admin_record) = issue(
        "operator",
        BTreeSet::from([Scope::Full]),
        RateLimit::DEFAULT,
        None,
        2,
    )
    .unwrap();
    assert!(payments.secret.starts_with("zai_") && payments.secret.len() == 68);
    assert!(payments_record
        .phc
        .starts_with("$argon2id$v=19$m=65536,t=3,p=1$"));
    assert!(!format!("{payments:?}").contains(&payments.secret[4..]));
    assert!(!serde_json::to_string(&payments_record)
        .unwrap()
        .contains(&payments.secret[4..]));

    let mut ring = KeyRing::default();
    ring.insert(payments_record.clone());
    ring.insert(admin_record.clone());
    assert_eq!(ring.len(), 2);

    let id = ring
        .authenticate(&payments.secret, Scope::CreatePayments)
        .unwrap()
        .id
        .clone();
    assert_eq!(id, payments.id);
    assert_eq!(
        ring.authenticate(&payments.secret, Scope::ManageSessions)
            .unwrap_err(),
        KeyError::MissingScope {
            needed: Scope::ManageSessions
        }
    );
    for scope in Scope::ALL {
        ring.authenticate(&admin.secret, scope).unwrap();
    }

    let unknown = format!("zai_{}", "0".repeat(64));
    assert_eq!(
        ring.authenticate(&unknown, Scope::Full).unwrap_err(),
        KeyError::Unknown
    );
    for malformed in [
        "",
        "zai_",
        &payments.secret[..67],
        &format!("{}0", payments.secret.as_str()),
        &payments.secret.to_uppercase(),
        &payments.secret.replace("zai_", "zak_"),
        &format!(" {}", payments.secret.as_str()),
    ] {
        assert_eq!(
            ring.authenticate(malformed, Scope::Full).unwrap_err(),
            KeyError::Malformed
        );
    }

    // The Argon2id hash is the check: a record found by lookup but holding another key's
    // hash refuses (in a fresh ring, nothing verified yet).
    let mut tampered = payments_record.clone();
    tampered.phc = admin_record.phc.clone();
    let mut fresh = KeyRing::default();
    fresh.insert(tampered);
    assert_eq!(
        fresh
            .authenticate(&payments.secret, Scope::CreatePayments)
            .unwrap_err(),
        KeyError::Unknown
    );

    let mut revoked = payments_record;
    revoked.revoked = true;
    ring.insert(revoked);
    assert_eq!(
        ring.authenticate(&payments.secret, Scope::CreatePayments)
            .unwrap_err(),
        KeyError::Revoked
    );
}

#[test]
fn issuing_needs_scopes_and_a_sane_rate() {
    assert_eq!(
        issue("x", BTreeSet::new(), RateLimit::DEFAULT, None, 0).unwrap_err(),
        KeyError::NoScopes
    );
    assert!(matches!(
        issue(
            "x",
            BTreeSet::from([Scope::Full]),
            RateLimit {
                burst: 0,
                per_minute: 1
            },
            None,
            0
        ),
        Err(KeyError::Rate(_))
    ));
}
