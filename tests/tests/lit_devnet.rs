#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The local Lit network as real processes: a device encrypts to it, an enclave-side client
//! collects shares over HTTP from faulty nodes and decrypts.

use std::time::Duration;

use aip_client::lit::{conditions_from_json, encrypt_for};
use aip_lit::collect::{
    collect, BoxedAnswer, CollectError, CollectOptions, NodeRequest, NodeVerificationKey,
    ReleaseTarget,
};
use aip_lit::wire::HandshakeResponse;
use aip_lit::{Ciphertext, Conditions, NetworkKey};
use aip_tests::devnet::LitDevnet;
use serde_json::json;

fn data_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("aip-lit-devnet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.display().to_string()
}

fn conditions() -> Conditions {
    conditions_from_json(&json!({"accessControlConditions": [{"contractAddress":"","chain":"ethereum","standardContractType":"","method":"eth_getBalance","parameters":[":userAddress","latest"],"returnValueTest":{"comparator":">=","value":"0"}}]})).unwrap()
}

/// The handshake of every node that answers: its verification key.
fn handshakes(net: &LitDevnet) -> Vec<Option<NodeVerificationKey>> {
    net.nodes
        .iter()
        .map(|url| {
            let answer = ureq::post(&format!("{url}/web/handshake"))
                .send_json(json!({"clientPublicKey":"test","challenge":"00"}))
                .ok()?;
            let hs: HandshakeResponse = answer.into_json().ok()?;
            assert_eq!(hs.network_public_key, net.network_public_key);
            let vk = hs.verification_key_share?;
            NodeVerificationKey::from_hex(&vk.identifier, &vk.value).ok()
        })
        .collect()
}

fn sign_requests(
    net: &LitDevnet,
    conditions: &Conditions,
    data_hash: &str,
    keys: &[Option<NodeVerificationKey>],
    use_keys: bool,
) -> Vec<NodeRequest<BoxedAnswer>> {
    net.nodes
        .iter()
        .zip(keys)
        .map(|(url, key)| {
            let url = format!("{url}/web/encryption/sign");
            let body = json!({ conditions.field(): conditions.to_value(), "chain": "ethereum", "dataToEncryptHash": data_hash, "authSig": {}, "epoch": 1 });
            let answer: BoxedAnswer = Box::pin(async move {
                tokio::task::spawn_blocking(move || {
                    let response = ureq::post(&url).timeout(Duration::from_secs(10)).send_json(body).map_err(|e| e.to_string())?;
                    let value: serde_json::Value = response.into_json().map_err(|e| e.to_string())?;
                    Ok(value["signatureShare"].to_string())
                })
                .await
                .map_err(|e| e.to_string())?
            });
            NodeRequest { answer, verification_key: if use_keys { *key } else { None } }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_secret_is_released_by_faulty_nodes_over_http() {
    let dir = data_dir("faulty");
    let net = LitDevnet::start(&[
        "--nodes",
        "5",
        "--threshold",
        "3",
        "--data-dir",
        &dir,
        "--always-true-conditions",
        "--down",
        "1",
        "--wrong",
        "2",
        "--slow",
        "3=20..80",
    ]);
    assert_eq!(net.nodes.len(), 5);
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = conditions();
    let secret = b"a 32-byte ed25519 session seed!!";
    let encrypted = encrypt_for(&key, &conditions, secret).unwrap();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();
    let keys = handshakes(&net);
    assert!(keys[1].is_none(), "node 1 is down");
    assert_eq!(keys.iter().filter(|k| k.is_some()).count(), 4);

    let target = ReleaseTarget {
        network_key: &key,
        identity: encrypted.identity.as_bytes(),
        ciphertext: &ciphertext,
    };
    for use_keys in [true, false] {
        let requests = sign_requests(
            &net,
            &conditions,
            &encrypted.data_to_encrypt_hash,
            &keys,
            use_keys,
        );
        let (plaintext, tally) = collect(requests, target, CollectOptions::new(net.threshold))
            .await
            .unwrap();
        assert_eq!(plaintext.as_slice(), secret);
        assert!(tally.failed >= 1 || tally.answered < 5, "{tally:?}");
        if use_keys {
            assert_eq!(
                tally.subset_checks, 1,
                "only verified shares are combined: {tally:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_always_true_the_nodes_refuse_chain_conditions() {
    let net = LitDevnet::start(&["--nodes", "3", "--data-dir", &data_dir("strict")]);
    assert_eq!(net.threshold, 2);
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = conditions();
    let encrypted = encrypt_for(&key, &conditions, b"secret").unwrap();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();
    let target = ReleaseTarget {
        network_key: &key,
        identity: encrypted.identity.as_bytes(),
        ciphertext: &ciphertext,
    };
    let requests = sign_requests(
        &net,
        &conditions,
        &encrypted.data_to_encrypt_hash,
        &[None, None, None],
        false,
    );
    let err = collect(requests, target, CollectOptions::new(2))
        .await
        .unwrap_err();
    let CollectError::ThresholdUnmet { tally, threshold } = err else {
        panic!()
    };
    assert_eq!(
        (tally.failed, tally.valid, threshold),
        (3, 0, 2),
        "{tally:?}"
    );
    // The node says why.
    let refused = refusal(
        &net.nodes[0],
        json!({"accessControlConditions": conditions.to_value(), "chain":"ethereum", "dataToEncryptHash": encrypted.data_to_encrypt_hash}),
    );
    assert!(refused.contains("needs chain access"), "{refused}");
    // An EVM contract condition (Lit's JS SDK vector) is parsed and refused the same way.
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../lit/tests/vectors/evm_contract_vectors.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let refused = refusal(
        &net.nodes[1],
        json!({"evmContractConditions": vectors["cases"][2]["conditions"], "chain":"ethereum", "dataToEncryptHash": encrypted.data_to_encrypt_hash}),
    );
    assert!(
        refused.contains("evaluating a ethereum condition needs chain access"),
        "{refused}"
    );
}

/// The body of a node's 401 answer to a sign request.
fn refusal(node: &str, request: serde_json::Value) -> String {
    let refusal = ureq::post(&format!("{node}/web/encryption/sign"))
        .send_json(request)
        .unwrap_err();
    let ureq::Error::Status(401, response) = refusal else {
        panic!("{refusal:?}")
    };
    response.into_string().unwrap()
}

#[test]
fn the_dealt_key_persists_and_a_different_shape_is_refused() {
    let dir = data_dir("persist");
    let first = LitDevnet::start(&["--nodes", "3", "--data-dir", &dir])
        .network_public_key
        .clone();
    let second = LitDevnet::start(&["--nodes", "3", "--data-dir", &dir])
        .network_public_key
        .clone();
    assert_eq!(first, second);
    let status = std::process::Command::new(aip_tests::devnet::devnet_binary())
        .args(["lit", "--nodes", "4", "--data-dir", &dir])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    let bad = std::process::Command::new(aip_tests::devnet::devnet_binary())
        .args(["lit", "--nodes", "3", "--threshold", "1"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_nodes_with_lits_two_thirds_threshold() {
    let net = LitDevnet::start(&[
        "--nodes",
        "30",
        "--data-dir",
        &data_dir("thirty"),
        "--always-true-conditions",
        "--down",
        "0",
        "--wrong",
        "1",
        "--slow",
        "2=10..40",
    ]);
    assert_eq!((net.nodes.len(), net.threshold), (30, 20));
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = conditions();
    let encrypted = encrypt_for(&key, &conditions, b"thirty").unwrap();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();
    let keys = handshakes(&net);
    let requests = sign_requests(
        &net,
        &conditions,
        &encrypted.data_to_encrypt_hash,
        &keys,
        true,
    );
    let target = ReleaseTarget {
        network_key: &key,
        identity: encrypted.identity.as_bytes(),
        ciphertext: &ciphertext,
    };
    let (plaintext, tally) = collect(requests, target, CollectOptions::new(net.threshold))
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), b"thirty");
    assert!(tally.valid >= 20 && tally.subset_checks == 1, "{tally:?}");
}
