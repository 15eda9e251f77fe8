#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The attested release end to end: a device encrypts a secret under the attested-release
//! condition; an "enclave" with dev evidence collects shares sealed to its HPKE key from the
//! local Lit network and decrypts; replays, other measurements and other policies are refused.

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, BoundKeys, EvidenceProducer};
use aip_client::lit::encrypt_for;
use aip_lit::collect::{collect, BoxedAnswer, CollectOptions, NodeRequest, ReleaseTarget};
use aip_lit::conditions::{attested_release, Conditions};
use aip_lit::sealed::{SealedShare, ShareRecipient};
use aip_lit::wire::{challenges_nonce, AttestationParam, BoundKeysParam, HandshakeResponse};
use aip_lit::{Ciphertext, NetworkKey};
mod common;
use aip_tests::devnet::DevnetCa;
use base64::Engine as _;
use common::attested::{condition, devnet_ca, world, World};
use serde_json::{json, Value};

fn handshake_challenges(w: &World) -> Vec<Vec<u8>> {
    let agent = devnet_ca(&w.dir).agent();
    w.net
        .nodes
        .iter()
        .map(|url| {
            let hs: HandshakeResponse = agent
                .post(&format!("{url}/web/handshake"))
                .send_json(json!({"clientPublicKey":"enclave","challenge":"00"}))
                .unwrap()
                .into_json()
                .unwrap();
            hex::decode(hs.latest_blockhash).unwrap()
        })
        .collect()
}

fn bound_keys(recipient: &ShareRecipient) -> BoundKeys {
    BoundKeys {
        tls_spki_der: b"tls spki".to_vec(),
        signing_public_key: [7; 32],
        hpke_public_key: recipient.public_key(),
        config_sha256: common::attested::bound_config(),
    }
}

fn attestation(producer: &DevProducer, keys: &BoundKeys, challenges: &[Vec<u8>]) -> Value {
    let nonce = challenges_nonce(challenges);
    let evidence = producer.produce(keys, &nonce).unwrap();
    serde_json::to_value(AttestationParam {
        evidence: evidence.to_json(),
        bound_keys: BoundKeysParam {
            tls_spki_der: base64::engine::general_purpose::STANDARD.encode(&keys.tls_spki_der),
            signing_public_key: hex::encode(keys.signing_public_key),
            hpke_public_key: hex::encode(keys.hpke_public_key),
            config_sha256: hex::encode(keys.config_sha256),
        },
        challenges: challenges.iter().map(hex::encode).collect(),
    })
    .unwrap()
}

fn sign(
    ca: &DevnetCa,
    url: &str,
    conditions: &Conditions,
    data_hash: &str,
    attestation: &Value,
) -> Result<Value, (u16, String)> {
    let body = json!({ conditions.field(): conditions.to_value(), "chain": "ethereum", "dataToEncryptHash": data_hash, "jsParams": {"attestation": attestation} });
    match ca
        .agent()
        .post(&format!("{url}/web/encryption/sign"))
        .send_json(body)
    {
        Ok(r) => Ok(r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => Err((code, r.into_string().unwrap())),
        Err(e) => Err((0, e.to_string())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enclave_recovers_the_secret_from_sealed_shares() {
    let w = world("release");
    let ca = devnet_ca(&w.dir);
    let key = NetworkKey::from_hex(&w.net.network_public_key).unwrap();
    let conditions = condition(&w);
    let secret = b"ed25519 seed of the session key.";
    let encrypted = encrypt_for(&key, &conditions, secret).unwrap();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();

    let recipient = std::sync::Arc::new(ShareRecipient::generate());
    let keys = bound_keys(&recipient);
    let challenges = handshake_challenges(&w);
    let param = attestation(&w.producer, &keys, &challenges);
    let requests: Vec<NodeRequest<BoxedAnswer>> = w
        .net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let (ca, url, conditions, data_hash, param, identity, recipient) = (
                ca.clone(),
                url.clone(),
                conditions.clone(),
                encrypted.data_to_encrypt_hash.clone(),
                param.clone(),
                encrypted.identity.clone(),
                recipient.clone(),
            );
            let answer: BoxedAnswer = Box::pin(async move {
                tokio::task::spawn_blocking(move || {
                    let response = sign(&ca, &url, &conditions, &data_hash, &param)
                        .map_err(|(c, m)| format!("{c}: {m}"))?;
                    assert!(
                        response["signatureShare"].is_null(),
                        "an attested share is never sent in the clear"
                    );
                    let sealed: SealedShare =
                        serde_json::from_value(response["sealedShare"].clone())
                            .map_err(|e| e.to_string())?;
                    let share = recipient
                        .open(i, identity.as_bytes(), &sealed)
                        .map_err(|e| e.to_string())?;
                    Ok(share.to_v2_json())
                })
                .await
                .map_err(|e| e.to_string())?
            });
            NodeRequest {
                answer,
                verification_key: None,
            }
        })
        .collect();
    let target = ReleaseTarget {
        network_key: &key,
        identity: encrypted.identity.as_bytes(),
        ciphertext: &ciphertext,
    };
    let (plaintext, _) = collect(requests, target, CollectOptions::new(w.net.threshold))
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);
    let _ = std::fs::remove_dir_all(&w.dir);
}

#[test]
fn replays_other_measurements_and_other_policies_are_refused() {
    let w = world("refusals");
    let ca = devnet_ca(&w.dir);
    let conditions = condition(&w);
    let data_hash = aip_lit::identity::data_to_encrypt_hash(b"x");
    let recipient = ShareRecipient::generate();
    let keys = bound_keys(&recipient);
    let node = &w.net.nodes[0];

    // A fresh attestation works once; replayed, the node's challenge is spent.
    let param = attestation(&w.producer, &keys, &handshake_challenges(&w));
    sign(&ca, node, &conditions, &data_hash, &param).unwrap();
    let (code, message) = sign(&ca, node, &conditions, &data_hash, &param).unwrap_err();
    assert_eq!(code, 401);
    assert!(message.contains("no fresh, unused challenge"), "{message}");

    // Evidence under an untrusted dev root.
    let other = DevProducer::new(
        DevPki::ephemeral(clock::now()).unwrap(),
        PcrBank::for_image(b"another image", b"aip-enclave"),
        "i-other",
    );
    let (_, message) = sign(
        &ca,
        node,
        &conditions,
        &data_hash,
        &attestation(&other, &keys, &handshake_challenges(&w)),
    )
    .unwrap_err();
    assert!(
        message.contains("attestation refused (chain)"),
        "another dev root: {message}"
    );
    // Same (trusted) dev root, another image: the measurement is not allowed.
    let same_root = DevPki::load_or_create(&w.dir.join("pki"), clock::now()).unwrap();
    let other_image = DevProducer::new(
        same_root,
        PcrBank::for_image(b"another image", b"aip-enclave"),
        "i-other-image",
    );
    let (_, message) = sign(
        &ca,
        node,
        &conditions,
        &data_hash,
        &attestation(&other_image, &keys, &handshake_challenges(&w)),
    )
    .unwrap_err();
    assert!(
        message.contains("attestation refused (measurement)"),
        "{message}"
    );

    // Evidence binding other keys than the ones presented.
    let mut param = attestation(&w.producer, &keys, &handshake_challenges(&w));
    param["boundKeys"]["signingPublicKey"] = json!(hex::encode([1u8; 32]));
    let (_, message) = sign(&ca, node, &conditions, &data_hash, &param).unwrap_err();
    assert!(
        message.contains("attestation refused (binding)"),
        "{message}"
    );

    // The allowed image running another configuration (one a host wrote): its evidence binds
    // that configuration faithfully, and the policy's pin refuses it.
    let mut other_config = keys.clone();
    other_config.config_sha256 = [1u8; 32];
    let (_, message) = sign(
        &ca,
        node,
        &conditions,
        &data_hash,
        &attestation(&w.producer, &other_config, &handshake_challenges(&w)),
    )
    .unwrap_err();
    assert!(
        message.contains("attestation refused (config)"),
        "{message}"
    );

    // A condition pinning other allowed sets, or naming another action.
    let other_sets = attested_release(
        w.net.attested_release["actionCid"].as_str().unwrap(),
        &"00".repeat(32),
    );
    let (_, message) = sign(
        &ca,
        node,
        &other_sets,
        &data_hash,
        &attestation(&w.producer, &keys, &handshake_challenges(&w)),
    )
    .unwrap_err();
    assert!(
        message.contains("pins other allowed measurement sets"),
        "{message}"
    );
    let other_action = attested_release(
        "QmSomethingElse",
        &hex::encode(common::attested::allowed_sets()),
    );
    let (_, message) = sign(
        &ca,
        node,
        &other_action,
        &data_hash,
        &attestation(&w.producer, &keys, &handshake_challenges(&w)),
    )
    .unwrap_err();
    assert!(message.contains("unknown Lit Action"), "{message}");

    // No attestation at all.
    let body = json!({ "accessControlConditions": conditions.to_value(), "chain": "ethereum", "dataToEncryptHash": data_hash });
    let err = devnet_ca(&w.dir)
        .agent()
        .post(&format!("{node}/web/encryption/sign"))
        .send_json(body)
        .unwrap_err();
    let ureq::Error::Status(401, r) = err else {
        panic!()
    };
    assert!(r.into_string().unwrap().contains("no jsParams.attestation"));
    let _ = std::fs::remove_dir_all(&w.dir);
}
