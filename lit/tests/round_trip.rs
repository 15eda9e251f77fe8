#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Encrypt as a device does, sign as t of n dealer-split nodes do, release.

use aip_lit::identity::{data_to_encrypt_hash, identity};
use aip_lit::{encrypt, release, DecryptionShare, LitError, NetworkKey};
use blsful::{Bls12381G2Impl, SecretKey, SignatureSchemes, SignatureShare};

fn node_shares(
    secret: &SecretKey<Bls12381G2Impl>,
    t: usize,
    n: usize,
    message: &[u8],
) -> Vec<DecryptionShare> {
    secret
        .split(t, n)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, key_share)| {
            let SignatureShare::ProofOfPossession(inner) = key_share
                .sign(SignatureSchemes::ProofOfPossession, message)
                .unwrap()
            else {
                panic!("PoP")
            };
            let json = serde_json::json!({ "ProofOfPossession": {
                "identifier": hex::encode(inner.0.identifier.0.to_le_bytes()),
                "value": hex::encode(inner.0.value.0.to_compressed()),
            }})
            .to_string();
            DecryptionShare::from_json(i, &json).unwrap()
        })
        .collect()
}

#[test]
fn encrypt_then_release_with_any_t_of_n() {
    let secret = SecretKey::<Bls12381G2Impl>::new();
    let key = NetworkKey::from_bytes(&secret.public_key().0.to_compressed()).unwrap();
    let plaintext = b"session key: 32 secret bytes....";
    let id = identity(&"ab".repeat(32), &data_to_encrypt_hash(plaintext));
    let ciphertext = encrypt(&key, plaintext, id.as_bytes()).unwrap();
    let shares = node_shares(&secret, 3, 5, id.as_bytes());
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
