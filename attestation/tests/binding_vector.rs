#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The binding matches the worked vector in spec/binding-vector.json (computed independently).

use aip_attestation::{config_digest, BoundKeys};

#[test]
fn binding_matches_the_spec_vector() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/binding-vector.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bytes = |k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
    let config = v["config_utf8"].as_str().unwrap().as_bytes();
    assert_eq!(config_digest(config).to_vec(), bytes("config_sha256_hex"));
    let keys = BoundKeys {
        tls_spki_der: bytes("tls_spki_der_hex"),
        signing_public_key: bytes("signing_public_key_hex").try_into().unwrap(),
        release_address: bytes("release_address_hex").try_into().unwrap(),
        config_sha256: config_digest(config),
    };
    assert_eq!(
        keys.binding(&bytes("nonce_hex")).0.to_vec(),
        bytes("binding_hex")
    );
}

#[test]
fn every_field_and_the_field_boundaries_change_the_binding() {
    let base = BoundKeys {
        tls_spki_der: vec![1, 2, 3],
        signing_public_key: [4; 32],
        release_address: [5; 20],
        config_sha256: [6; 32],
    };
    let reference = base.binding(b"nonce");
    let mut variants = vec![];
    let mut k = base.clone();
    k.tls_spki_der.push(0);
    variants.push(k.binding(b"nonce"));
    let mut k = base.clone();
    k.signing_public_key[31] ^= 1;
    variants.push(k.binding(b"nonce"));
    let mut k = base.clone();
    k.release_address[0] ^= 1;
    variants.push(k.binding(b"nonce"));
    let mut k = base.clone();
    k.config_sha256[7] ^= 1;
    variants.push(k.binding(b"nonce"));
    variants.push(base.binding(b"nonc"));
    variants.push(base.binding(b""));
    for v in &variants {
        assert_ne!(v, &reference);
    }
}
