#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Encrypt as a device does, sign as t of n dealer-split nodes do, release.

use aip_lit::identity::{data_to_encrypt_hash, identity};
use aip_lit::{encrypt, release, release_from_json, DecryptionShare, LitError};

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

/// The JSON entry point (parsing split over two cores) releases exactly what the parsed path
/// does, names a bad answer by its position, and refuses a wrong or short set.
#[test]
fn release_from_json_parses_checks_and_releases() {
    let network = common::Network::new(5, 8);
    let plaintext = b"another 32-byte session secret!!";
    let id = identity(&"cd".repeat(32), &data_to_encrypt_hash(plaintext));
    let ciphertext = encrypt(&network.key, plaintext, id.as_bytes()).unwrap();
    let json: Vec<String> = [7, 1, 4, 0, 6]
        .iter()
        .map(|i| network.share_json(*i, id.as_bytes()))
        .collect();
    let answers: Vec<&str> = json.iter().map(String::as_str).collect();
    let released = release_from_json(&network.key, id.as_bytes(), &ciphertext, &answers).unwrap();
    assert_eq!(released.as_slice(), plaintext);

    let mut broken = answers.clone();
    broken[4] = r#"{"ProofOfPossession":"00"}"#;
    assert!(matches!(
        release_from_json(&network.key, id.as_bytes(), &ciphertext, &broken),
        Err(LitError::Share { index: 4, .. })
    ));
    // A share for another identity makes the combination fail verification.
    let other = network.share_json(2, b"another identity");
    let mut wrong = answers.clone();
    wrong[0] = &other;
    assert!(matches!(
        release_from_json(&network.key, id.as_bytes(), &ciphertext, &wrong),
        Err(LitError::SignatureInvalid)
    ));
    // Four shares of a 5-of-8 key never verify; one alone is refused before combining.
    assert!(release_from_json(&network.key, id.as_bytes(), &ciphertext, &answers[..4]).is_err());
    assert!(matches!(
        release_from_json(&network.key, id.as_bytes(), &ciphertext, &answers[..1]),
        Err(LitError::TooFewShares { .. })
    ));
}

#[test]
fn identity_and_data_hash_follow_lit() {
    assert_eq!(
        data_to_encrypt_hash(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(identity("aa", "bb"), "lit-accesscontrolcondition://aa/bb");
}

#[test]
fn dealt_node_shares_sign_persist_and_verify() {
    use aip_lit::node::{deal, NodeKeyShare};
    let (key, nodes) = deal(2, 3).unwrap();
    let plaintext = b"state key";
    let id = identity(&"ef".repeat(32), &data_to_encrypt_hash(plaintext));
    let ciphertext = encrypt(&key, plaintext, id.as_bytes()).unwrap();
    let restored: Vec<NodeKeyShare> = nodes
        .iter()
        .map(|n| NodeKeyShare::from_secret_hex(&n.to_secret_hex()).unwrap())
        .collect();
    let shares: Vec<DecryptionShare> = restored
        .iter()
        .map(|n| n.sign(id.as_bytes()).unwrap())
        .collect();
    for (node, share) in nodes.iter().zip(&shares) {
        assert_eq!(
            node.sign(id.as_bytes()).unwrap(),
            *share,
            "a restored share signs the same"
        );
        assert!(node
            .verification_key()
            .unwrap()
            .accepts(share, id.as_bytes()));
        assert!(!node.verification_key().unwrap().accepts(share, b"other"));
    }
    assert!(
        !nodes[0]
            .verification_key()
            .unwrap()
            .accepts(&shares[1], id.as_bytes()),
        "another node's share"
    );
    assert_eq!(
        release(&key, id.as_bytes(), &ciphertext, &shares[1..], 2)
            .unwrap()
            .as_slice(),
        plaintext
    );
    assert!(deal(1, 3).is_err() && deal(4, 3).is_err());
    let debug = format!("{:?}", nodes[0]);
    assert!(
        !debug.contains(nodes[0].to_secret_hex().split(':').nth(1).unwrap()),
        "{debug}"
    );
    assert!(NodeKeyShare::from_secret_hex("zz:00").is_err());
}

/// Our interpolation (batch-inverted coefficients, one multi-scalar multiplication) against
/// blsful's own combination, for many share subsets and sizes.
#[test]
fn our_combination_equals_blsfuls() {
    use blsful::{Bls12381G2Impl, SecretKey, Signature, SignatureSchemes, SignatureShare};
    for (t, n) in [(2, 3), (3, 5), (7, 10), (20, 30)] {
        let secret = SecretKey::<Bls12381G2Impl>::new();
        let raw: Vec<SignatureShare<Bls12381G2Impl>> = secret
            .split(t, n)
            .unwrap()
            .iter()
            .map(|k| {
                k.sign(SignatureSchemes::ProofOfPossession, b"message")
                    .unwrap()
            })
            .collect();
        let ours: Vec<DecryptionShare> = raw
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let SignatureShare::ProofOfPossession(inner) = s else { panic!() };
                let json = serde_json::json!({"ProofOfPossession": {"identifier": hex::encode(inner.0.identifier.0.to_le_bytes()), "value": hex::encode(inner.0.value.0.to_compressed())}});
                DecryptionShare::from_json(i, &json.to_string()).unwrap()
            })
            .collect();
        for offset in [0, n - t] {
            let expected = Signature::from_shares(&raw[offset..offset + t]).unwrap();
            let combined = aip_lit::combine(&ours[offset..offset + t]).unwrap();
            assert_eq!(
                combined.to_bytes(),
                expected.as_raw_value().to_compressed(),
                "t={t} n={n} offset={offset}"
            );
            assert_eq!(
                combined.to_bytes(),
                secret
                    .sign(SignatureSchemes::ProofOfPossession, b"message")
                    .unwrap()
                    .as_raw_value()
                    .to_compressed()
            );
        }
    }
}

/// Our wiping time-lock opening (src/unseal.rs) opens what blsful's sealing made, for message
/// lengths across the 32-byte padding and the one- and two-byte length prefixes (Lit's own
/// ciphertext is opened in v7_vector.rs); a signature over another identity opens nothing.
#[test]
fn unseal_equals_blsfuls_decrypt() {
    let network = common::Network::new(2, 3);
    for len in [0usize, 1, 31, 32, 33, 127, 128, 129, 300] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let id = identity(&"cd".repeat(32), &data_to_encrypt_hash(&plaintext));
        let ciphertext = encrypt(&network.key, &plaintext, id.as_bytes()).unwrap();
        let shares: Vec<DecryptionShare> = (0..2)
            .map(|i| DecryptionShare::from_json(i, &network.share_json(i, id.as_bytes())).unwrap())
            .collect();
        let signature = aip_lit::release::combine(&shares).unwrap();
        let ours = aip_lit::release::decrypt(&ciphertext, &signature).unwrap();
        assert_eq!(ours.as_slice(), plaintext.as_slice(), "length {len}");
        let other = identity(&"ef".repeat(32), &data_to_encrypt_hash(&plaintext));
        let shares: Vec<DecryptionShare> = (0..2)
            .map(|i| {
                DecryptionShare::from_json(i, &network.share_json(i, other.as_bytes())).unwrap()
            })
            .collect();
        let wrong = aip_lit::release::combine(&shares).unwrap();
        assert!(
            aip_lit::release::decrypt(&ciphertext, &wrong).is_err(),
            "length {len}"
        );
    }
}
