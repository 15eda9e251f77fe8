#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Lit's own v7 vector (js-sdk bls-data.spec.json): any 2 of the 3 shares give the published
//! signature and plaintext, in both share dialects.

use aip_lit::{
    combine, decrypt, release, verify, Ciphertext, DecryptionShare, LitError, NetworkKey,
    ShareDialect,
};
use base64::Engine as _;
use serde_json::Value;

fn vector() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/testdata/lit/jssdk_v7_bls_vector.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn shares_v1(v: &Value) -> Vec<DecryptionShare> {
    v["signature_shares_v1_hex"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            DecryptionShare::from_json(
                i,
                &serde_json::json!({ "ProofOfPossession": s.as_str().unwrap() }).to_string(),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn any_two_of_three_shares_give_the_published_signature_and_plaintext() {
    let v = vector();
    let key = NetworkKey::from_hex(v["network_public_key_hex"].as_str().unwrap()).unwrap();
    let identity = hex::decode(v["identity_hex"].as_str().unwrap()).unwrap();
    let ciphertext = Ciphertext::from_base64(v["ciphertext_b64"].as_str().unwrap()).unwrap();
    let plaintext = base64::engine::general_purpose::STANDARD
        .decode(v["plaintext_b64"].as_str().unwrap())
        .unwrap();
    let shares = shares_v1(&v);
    assert!(shares.iter().all(|s| s.dialect == ShareDialect::V1));
    for pair in [[0, 1], [0, 2], [1, 2], [2, 0], [1, 0]] {
        let chosen = [shares[pair[0]], shares[pair[1]]];
        let signature = combine(&chosen).unwrap();
        assert_eq!(
            signature.to_hex(),
            v["combined_signature_hex"].as_str().unwrap(),
            "{pair:?}"
        );
        verify(&key, &identity, &signature).unwrap();
        assert_eq!(
            decrypt(&ciphertext, &signature).unwrap().as_slice(),
            plaintext.as_slice()
        );
        assert_eq!(
            release(&key, &identity, &ciphertext, &chosen, 2)
                .unwrap()
                .as_slice(),
            plaintext.as_slice()
        );
    }
    // The ciphertext re-encodes to its own bytes.
    assert_eq!(
        ciphertext.to_base64(),
        v["ciphertext_b64"].as_str().unwrap()
    );
}

#[test]
fn v2_share_json_is_the_same_share() {
    let v = vector();
    let key = NetworkKey::from_hex(&format!(
        "0x{}",
        v["network_public_key_hex"].as_str().unwrap()
    ))
    .unwrap();
    let identity = hex::decode(v["identity_hex"].as_str().unwrap()).unwrap();
    let ciphertext = Ciphertext::from_base64(v["ciphertext_b64"].as_str().unwrap()).unwrap();
    let v2: Vec<DecryptionShare> = shares_v1(&v)
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let json = s.to_v2_json();
            let parsed: Value = serde_json::from_str(&json).unwrap();
            // Little-endian identifier: share k has k in its first byte.
            let id = parsed["ProofOfPossession"]["identifier"].as_str().unwrap();
            assert_eq!(&id[..2], format!("{:02x}", i + 1));
            assert!(id[2..].chars().all(|c| c == '0'));
            DecryptionShare::from_json(i, &json).unwrap()
        })
        .collect();
    assert!(v2.iter().all(|s| s.dialect == ShareDialect::V2));
    let mixed = [v2[2], shares_v1(&v)[0]];
    let signature = combine(&mixed).unwrap();
    assert_eq!(
        signature.to_hex(),
        v["combined_signature_hex"].as_str().unwrap()
    );
    release(&key, &identity, &ciphertext, &mixed, 2).unwrap();
}

#[test]
fn wrong_inputs_fail_closed() {
    let v = vector();
    let key = NetworkKey::from_hex(v["network_public_key_hex"].as_str().unwrap()).unwrap();
    let identity = hex::decode(v["identity_hex"].as_str().unwrap()).unwrap();
    let ciphertext = Ciphertext::from_base64(v["ciphertext_b64"].as_str().unwrap()).unwrap();
    let shares = shares_v1(&v);

    assert!(matches!(
        release(&key, &identity, &ciphertext, &shares[..1], 2),
        Err(LitError::TooFewShares {
            have: 1,
            threshold: 2
        })
    ));
    assert!(matches!(
        combine(&[shares[0], shares[0]]),
        Err(LitError::DuplicateShare {
            first: 0,
            second: 1
        })
    ));
    assert!(matches!(
        release(&key, b"another identity", &ciphertext, &shares, 2),
        Err(LitError::SignatureInvalid)
    ));
    // A share moved to another identifier combines to a signature that does not verify.
    let mut forged = shares[1].to_v2_json();
    forged = forged.replacen("\"identifier\":\"02", "\"identifier\":\"05", 1);
    let forged = DecryptionShare::from_json(1, &forged).unwrap();
    assert!(matches!(
        release(&key, &identity, &ciphertext, &[shares[0], forged], 2),
        Err(LitError::SignatureInvalid)
    ));

    for bad in [
        r#"{"ProofOfPossession":"00"}"#,
        r#"{"Basic":"01b2"}"#,
        r#"{"ProofOfPossession":{"identifier":"01","value":"00"}}"#,
        r#"{"ProofOfPossession":{"identifier":"0000000000000000000000000000000000000000000000000000000000000000","value":"00"}}"#,
        "[]",
        "",
    ] {
        assert!(
            matches!(
                DecryptionShare::from_json(7, bad),
                Err(LitError::Share { index: 7, .. })
            ),
            "{bad}"
        );
    }
    // Identifier zero is refused even with a valid point.
    let zero_id = v["signature_shares_v1_hex"][0]
        .as_str()
        .unwrap()
        .replacen("01", "00", 1);
    assert!(DecryptionShare::from_v1_hex(0, &zero_id).is_err());
    // A non-point value.
    let mut not_point = v["signature_shares_v1_hex"][0].as_str().unwrap().to_owned();
    not_point.replace_range(10..12, "00");
    assert!(DecryptionShare::from_v1_hex(0, &not_point).is_err());

    assert!(NetworkKey::from_hex("00").is_err());
    assert!(
        NetworkKey::from_hex(&"c0".repeat(48)).is_err(),
        "compressed identity"
    );
    assert!(Ciphertext::from_base64("AAAA").is_err());
    let mut long = base64::engine::general_purpose::STANDARD
        .decode(v["ciphertext_b64"].as_str().unwrap())
        .unwrap();
    long.push(0);
    assert!(Ciphertext::from_bytes(&long).is_err(), "trailing bytes");
}
