#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `aipctl lit` as a process: Lit's vectors through the command line, and a round trip.

use std::process::{Command, Output};

use blsful::{Bls12381G2Impl, SecretKey, SignatureSchemes, SignatureShare};
use serde_json::Value;

fn aipctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aipctl"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "aipctl failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn testdata(name: &str) -> Value {
    let path = format!(
        "{}/../../shared/testdata/lit/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn scratch(name: &str, contents: &str) -> String {
    let dir = std::env::temp_dir().join(format!("aipctl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn acc_hash_prints_lits_hash_and_the_identity() {
    let vector = &testdata("acc_hash_vectors.json")["vectors"][0];
    let file = scratch("acc.json", vector["canonical_json"].as_str().unwrap());
    let out = stdout(&aipctl(&["lit", "acc-hash", &file, "--data-hash", "ab"]));
    let hash = vector["sha256_hex"].as_str().unwrap();
    assert!(out.contains(&format!("sha256    {hash}")), "{out}");
    assert!(
        out.contains(&format!("identity  lit-accesscontrolcondition://{hash}/ab")),
        "{out}"
    );
    assert!(out.contains(vector["canonical_json"].as_str().unwrap()));
}

#[test]
fn decrypt_reproduces_the_v7_vector_from_two_shares() {
    let v = testdata("jssdk_v7_bls_vector.json");
    let identity =
        String::from_utf8(hex::decode(v["identity_hex"].as_str().unwrap()).unwrap()).unwrap();
    let share = |i: usize| {
        serde_json::json!({"ProofOfPossession": v["signature_shares_v1_hex"][i]}).to_string()
    };
    let key = v["network_public_key_hex"].as_str().unwrap();
    let ciphertext = v["ciphertext_b64"].as_str().unwrap();
    let out = stdout(&aipctl(&[
        "lit",
        "decrypt",
        "--network-key",
        key,
        "--identity",
        &identity,
        "--ciphertext",
        ciphertext,
        "--share",
        &share(2),
        "--share",
        &share(0),
        "--format",
        "hex",
    ]));
    use base64::Engine as _;
    let plaintext = base64::engine::general_purpose::STANDARD
        .decode(v["plaintext_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(out.trim(), hex::encode(plaintext));

    // One share is below any threshold.
    let one = aipctl(&[
        "lit",
        "decrypt",
        "--network-key",
        key,
        "--identity",
        &identity,
        "--ciphertext",
        ciphertext,
        "--share",
        &share(1),
    ]);
    assert_eq!(one.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&one.stderr).contains("need 2 shares, have 1"));
    // Two shares for another identity combine, but the signature does not verify.
    let other = aipctl(&[
        "lit",
        "decrypt",
        "--network-key",
        key,
        "--identity",
        "another identity",
        "--ciphertext",
        ciphertext,
        "--share",
        &share(0),
        "--share",
        &share(1),
    ]);
    assert_eq!(other.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&other.stderr).contains("does not verify"));
    // The binary plaintext is not UTF-8.
    let utf8 = aipctl(&[
        "lit",
        "decrypt",
        "--network-key",
        key,
        "--identity",
        &identity,
        "--ciphertext",
        ciphertext,
        "--share",
        &share(0),
        "--share",
        &share(1),
    ]);
    assert_eq!(utf8.status.code(), Some(3));
}

#[test]
fn encrypt_then_decrypt_with_a_dealer_split_key() {
    let secret = SecretKey::<Bls12381G2Impl>::new();
    let key_hex = hex::encode(secret.public_key().0.to_compressed());
    let conditions = scratch(
        "conditions.json",
        r#"{"accessControlConditions":[{"contractAddress":"","chain":"ethereum","standardContractType":"","method":"eth_getBalance","parameters":[":userAddress","latest"],"returnValueTest":{"comparator":">=","value":"0"}}]}"#,
    );
    let out: Value = serde_json::from_str(&stdout(&aipctl(&[
        "lit",
        "encrypt",
        "--network-key",
        &key_hex,
        "--conditions",
        &conditions,
        "--plaintext",
        "hello session key",
    ])))
    .unwrap();
    let identity = out["identity"].as_str().unwrap().to_owned();
    assert!(identity.ends_with(out["dataToEncryptHash"].as_str().unwrap()));
    let shares: Vec<String> = secret
        .split(2, 3)
        .unwrap()
        .iter()
        .map(|k| {
            let SignatureShare::ProofOfPossession(inner) = k.sign(SignatureSchemes::ProofOfPossession, identity.as_bytes()).unwrap() else { panic!() };
            serde_json::json!({"ProofOfPossession": {"identifier": hex::encode(inner.0.identifier.0.to_le_bytes()), "value": hex::encode(inner.0.value.0.to_compressed())}}).to_string()
        })
        .collect();
    let plain = stdout(&aipctl(&[
        "lit",
        "decrypt",
        "--network-key",
        &format!("0x{key_hex}"),
        "--identity",
        &identity,
        "--ciphertext",
        out["ciphertext"].as_str().unwrap(),
        "--share",
        &shares[1],
        "--share",
        &shares[2],
    ]));
    assert_eq!(plain.trim(), "hello session key");

    assert_eq!(
        aipctl(&[
            "lit",
            "encrypt",
            "--network-key",
            "00",
            "--conditions",
            &conditions,
            "--plaintext",
            "x"
        ])
        .status
        .code(),
        Some(3)
    );
    assert_eq!(
        aipctl(&["lit", "acc-hash", "/nonexistent.json"])
            .status
            .code(),
        Some(1)
    );
    let evm_contract = scratch("evm.json", r#"{"evmContractConditions":[{}]}"#);
    assert_eq!(
        aipctl(&["lit", "acc-hash", &evm_contract]).status.code(),
        Some(3)
    );
}
