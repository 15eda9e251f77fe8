#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The device-bound blob and the delegation message: the formats of docs/design.md, sealed and
//! opened only with the right password and session, every part of the blob authenticated.

use aip_client::device::{DeviceKeyError, SessionKey};
use aip_wire::session::{
    delegation_message, rfc3339_utc, usd, DeviceBoundBlob, SessionFormatError, BLOB_LEN,
};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

#[test]
fn the_blob_opens_only_with_its_password_and_session() {
    let key = SessionKey::generate();
    let public = key.public_key();
    let blob = key.seal("correct horse battery staple").unwrap();
    assert_eq!(blob.len(), BLOB_LEN);
    assert_eq!(blob[0], 1);
    let opened = SessionKey::open(&blob, "correct horse battery staple", &public).unwrap();
    assert_eq!(opened.public_key(), public);
    assert_eq!(opened.sign(b"m"), key.sign(b"m"));
    // Sealing twice gives different blobs (fresh salt and nonce).
    assert_ne!(key.seal("correct horse battery staple").unwrap(), blob);

    assert!(matches!(
        SessionKey::open(&blob, "wrong", &public),
        Err(DeviceKeyError::Open)
    ));
    let other = SessionKey::generate().public_key();
    assert!(matches!(
        SessionKey::open(&blob, "correct horse battery staple", &other),
        Err(DeviceKeyError::Open)
    ));
    // One byte in each part: salt, nonce, ciphertext, tag (each costs an Argon2 derivation).
    for position in [1, 16, 17, 28, 29, 60, 61, 76] {
        let mut altered = blob.clone();
        altered[position] ^= 0x80;
        assert!(
            matches!(
                SessionKey::open(&altered, "correct horse battery staple", &public),
                Err(DeviceKeyError::Open)
            ),
            "byte {position}"
        );
    }
    let mut version = blob.clone();
    version[0] = 2;
    assert!(matches!(
        SessionKey::open(&version, "x", &public),
        Err(DeviceKeyError::Format(SessionFormatError::BlobVersion(2)))
    ));
    assert!(matches!(
        DeviceBoundBlob::parse(&blob[..76]),
        Err(SessionFormatError::BlobLength(76))
    ));
    assert!(matches!(
        DeviceBoundBlob::parse(&[blob.clone(), vec![0]].concat()),
        Err(SessionFormatError::BlobLength(78))
    ));
    assert!(!format!("{key:?}").contains(&hex::encode(&blob[29..61])));
}

#[test]
fn the_delegation_message_is_canonical_and_signed() {
    assert_eq!(
        delegation_message("sess_01", 100_000_000, 1_795_910_400).unwrap(),
        "I authorize autonomous delegate for session sess_01 to spend up to $100 until 2026-11-29T00:00:00Z"
    );
    for (units, text) in [
        (0, "0"),
        (1, "0.000001"),
        (5_250_000, "5.25"),
        (1_000_000, "1"),
        (123_456_789, "123.456789"),
    ] {
        assert_eq!(usd(units), text);
    }
    assert_eq!(
        rfc3339_utc(951_827_696).as_deref(),
        Some("2000-02-29T12:34:56Z")
    );
    assert_eq!(
        rfc3339_utc(253_402_300_799).as_deref(),
        Some("9999-12-31T23:59:59Z")
    );
    assert_eq!(rfc3339_utc(-1), None);
    assert_eq!(rfc3339_utc(253_402_300_800), None);
    for bad in ["", "has space", "tab\t", "é"] {
        assert!(delegation_message(bad, 1, 0).is_err(), "{bad:?}");
    }

    let key = SessionKey::generate();
    let (message, signature) = key
        .sign_delegation("sess_01", 5_250_000, 1_795_910_400)
        .unwrap();
    assert!(message.ends_with("up to $5.25 until 2026-11-29T00:00:00Z"));
    let verifying = VerifyingKey::from_bytes(&key.public_key()).unwrap();
    verifying
        .verify(message.as_bytes(), &Signature::from_bytes(&signature))
        .unwrap();
    assert!(verifying
        .verify(b"another message", &Signature::from_bytes(&signature))
        .is_err());
}
