#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! HPKE-sealed shares open only with the enclave's key, only for their identity.

use aip_lit::node::deal;
use aip_lit::sealed::{seal, ShareRecipient};
use base64::Engine as _;

#[test]
fn a_sealed_share_opens_for_its_recipient_and_identity_only() {
    let (_, nodes) = deal(2, 3).unwrap();
    let share = nodes[1].sign(b"identity").unwrap();
    let enclave = ShareRecipient::generate();
    let sealed = seal(&enclave.public_key(), b"identity", &share).unwrap();
    assert_eq!(enclave.open(4, b"identity", &sealed).unwrap(), share);

    assert!(enclave.open(4, b"another identity", &sealed).is_err());
    assert!(
        ShareRecipient::generate()
            .open(4, b"identity", &sealed)
            .is_err(),
        "a replaying host has another key"
    );
    let mut tampered = sealed.clone();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(&tampered.ciphertext)
        .unwrap();
    bytes[0] ^= 1;
    tampered.ciphertext = base64::engine::general_purpose::STANDARD.encode(bytes);
    assert!(enclave.open(4, b"identity", &tampered).is_err());
    let err = enclave
        .open(
            4,
            b"identity",
            &aip_lit::sealed::SealedShare {
                encapped_key: "00".into(),
                ciphertext: "AA==".into(),
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("share 4"), "{err}");
    assert!(!format!("{enclave:?}").contains("private"));
}
