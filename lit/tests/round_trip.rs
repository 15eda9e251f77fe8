#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Encrypt as a device does, sign as t of n dealer-split nodes do, release.

use aip_lit::identity::{data_to_encrypt_hash, identity};
use aip_lit::{encrypt, release, DecryptionShare, LitError};

mod common;

#[test]
fn encrypt_then_release_with_any_t_of_n() {
    let network = common::Network::new(3, 5);
    let key = network.key;
    let plaintext = b"session key: 32 secret bytes....";
    let id = identity(&"ab".repeat(32), &data_to_encrypt_hash(plaintext));
    let ciphertext = encrypt(&key, plaintext, id.as_bytes()).unwrap();
    let shares: Vec<DecryptionShare> = (0..5)
        .map(|i| DecryptionShare::from_json(i, &network.share_json(i, id.as_bytes())).unwrap())
        .collect();
    for chosen in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
        let subset: Vec<_> = chosen.iter().map(|i| shares[*i]).collect();
        assert_eq!(
            release(&key, id.as_bytes(), &ciphertext, &subset, 3)
                .unwrap()
                .as_slice(),
            plaintext
        );
    }
    assert!(matches!(
        release(&key, id.as_bytes(), &ciphertext, &shares[..2], 3),
        Err(LitError::TooFewShares { .. })
    ));
    // Two shares of a 3-of-5 key do not combine into a valid signature.
    assert!(release(&key, id.as_bytes(), &ciphertext, &shares[..2], 2).is_err());
    // The base64 form round-trips.
    let again = aip_lit::Ciphertext::from_base64(&ciphertext.to_base64()).unwrap();
    assert_eq!(
        release(&key, id.as_bytes(), &again, &shares[1..4], 3)
            .unwrap()
            .as_slice(),
        plaintext
    );
}

#[test]
fn identity_and_data_hash_follow_lit() {
    assert_eq!(
        data_to_encrypt_hash(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(identity("aa", "bb"), "lit-accesscontrolcondition://aa/bb");
}
