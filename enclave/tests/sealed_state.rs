#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Sealed records: they open only with the same key, record name and version, and every
//! tampered byte is detected.

use aip_enclave::state::{open, seal, SealError, StateKey};

#[test]
fn a_record_opens_only_as_itself() {
    let key = StateKey::generate();
    let plaintext = br#"{"session":"s1","spent":5000000}"#;
    let sealed = seal(&key, "sessions/s1", 7, plaintext).unwrap();
    assert_eq!(sealed.len(), 12 + plaintext.len() + 16);
    assert_eq!(
        open(&key, "sessions/s1", 7, &sealed).unwrap().as_slice(),
        plaintext
    );
    // Two seals of the same record differ (random nonce).
    assert_ne!(seal(&key, "sessions/s1", 7, plaintext).unwrap(), sealed);

    let other = StateKey::generate();
    for (key, record, version) in [
        (&other, "sessions/s1", 7), // another key
        (&key, "sessions/s2", 7),   // moved to another record
        (&key, "sessions/s1", 6),   // presented as an older version
        (&key, "sessions/s1", 8),   // or a newer one
    ] {
        assert!(matches!(
            open(key, record, version, &sealed),
            Err(SealError::Unauthentic { .. })
        ));
    }
    for i in 0..sealed.len() {
        let mut tampered = sealed.clone();
        tampered[i] ^= 0x01;
        assert!(open(&key, "sessions/s1", 7, &tampered).is_err(), "byte {i}");
    }
    assert!(matches!(
        open(&key, "sessions/s1", 7, &sealed[..27]),
        Err(SealError::Truncated { len: 27, .. })
    ));
}

#[test]
fn the_key_is_32_bytes_and_never_printed() {
    assert_eq!(
        StateKey::from_bytes(&[1u8; 31]).unwrap_err(),
        SealError::KeyLength { len: 31 }
    );
    let key = StateKey::from_bytes(&[0xabu8; 32]).unwrap();
    assert_eq!(key.expose(), &[0xabu8; 32]);
    let shown = format!("{key:?}");
    assert_eq!(shown, "StateKey(<redacted>)");
    assert!(!shown.to_lowercase().contains("ab, ab") && !shown.contains("171"));
}
