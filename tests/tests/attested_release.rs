#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The attested release on the wire, with nothing but what Lit's nodes do: a device encrypts a
//! secret under the attested-release condition; a requester signs in (SIWE, EIP-191) as the
//! address its evidence binds, with the evidence and the allowed sets as `litParam`
//! resources; each devnet node verifies the sign-in, runs the real Lit Action under Node and
//! answers with its share over TLS. Every refusal below differs from an accepted request in
//! one thing: a host replaying another enclave's evidence under its own key, evidence that
//! binds no address of the signer, another root, image, configuration, nonce or allowed sets,
//! another action, a tampered or missing sign-in.

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, BoundKeys, EvidenceProducer};
use aip_client::lit::encrypt_for;
use aip_enclave::release::attested::{sign_request, SignRequest};
use aip_enclave::release::ReleaseKey;
use aip_lit::conditions::{attested_release, Conditions};
use aip_lit::{Ciphertext, DecryptionShare, NetworkKey};
mod common;
use aip_tests::devnet::DevnetCa;
use common::attested::{devnet_ca, world, World};
use serde_json::Value;

/// One request's parts, each of which a test may change.
struct Ask<'a> {
    conditions: Conditions,
    allowed_sets: String,
    producer: &'a dyn EvidenceProducer,
    /// The keys the evidence binds (the release address among them).
    keys: BoundKeys,
    /// The key that signs in.
    signer: &'a ReleaseKey,
    /// The nonce the evidence carries, and the one the request names.
    nonce: [u8; 32],
    claimed_nonce: [u8; 32],
}

impl<'a> Ask<'a> {
    fn new(w: &'a World, signer: &'a ReleaseKey) -> Self {
        Self {
            conditions: w.condition(),
            allowed_sets: w.allowed_sets(),
            producer: w.producer.as_ref(),
            keys: BoundKeys {
                tls_spki_der: b"tls spki".to_vec(),
                signing_public_key: [7; 32],
                release_address: signer.address(),
                config_sha256: w.bound_config(),
            },
            signer,
            nonce: [5; 32],
            claimed_nonce: [5; 32],
        }
    }

    fn body(&self, data_hash: &str) -> Value {
        let evidence = self.producer.produce(&self.keys, &self.nonce).unwrap();
        sign_request(
            &SignRequest {
                conditions: &self.conditions,
                allowed_sets: &self.allowed_sets,
                data_hash_hex: data_hash,
                evidence: &evidence,
                keys: &self.keys,
                nonce: &self.claimed_nonce,
            },
            self.signer,
        )
        .unwrap()
    }
}

fn post(ca: &DevnetCa, url: &str, body: &Value) -> Result<Value, (u16, String)> {
    match ca
        .agent()
        .post(&format!("{url}/web/encryption/sign"))
        .send_json(body.clone())
    {
        Ok(r) => Ok(r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => Err((code, r.into_string().unwrap())),
        Err(e) => Err((0, e.to_string())),
    }
}

/// The action said no: Lit's nodes give no reason beyond the condition's result.
fn assert_condition_false(result: Result<Value, (u16, String)>, what: &str) {
    let (code, message) = result.expect_err(what);
    assert_eq!(code, 401, "{what}: {message}");
    assert!(
        message.contains("the Lit Action returned \\\"false\\\""),
        "{what}: {message}"
    );
}

#[test]
fn the_signed_in_enclave_gets_shares_that_decrypt_the_secret() {
    let w = world("release");
    let ca = devnet_ca(&w.dir);
    let key = NetworkKey::from_hex(&w.net.network_public_key).unwrap();
    let conditions = w.condition();
    let secret = b"ed25519 seed of the session key.";
    let encrypted = encrypt_for(&key, &conditions, secret).unwrap();
    let signer = ReleaseKey::generate();
    let body = Ask::new(&w, &signer).body(&encrypted.data_to_encrypt_hash);
    let shares: Vec<DecryptionShare> = w.net.nodes[..w.net.threshold]
        .iter()
        .map(|url| {
            let answer = post(&ca, url, &body).unwrap();
            DecryptionShare::from_json(0, &answer["signatureShare"].to_string()).unwrap()
        })
        .collect();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();
    let plaintext =
        aip_lit::combine_verify_decrypt(&key, encrypted.identity.as_bytes(), &ciphertext, &shares)
            .unwrap();
    assert_eq!(plaintext.as_slice(), secret);
    let _ = std::fs::remove_dir_all(&w.dir);
}

#[test]
fn the_action_refuses_every_request_that_differs_in_one_thing() {
    let w = world("refusals");
    let ca = devnet_ca(&w.dir);
    let node = &w.net.nodes[0];
    let data_hash = aip_lit::identity::data_to_encrypt_hash(b"x");
    let enclave_key = ReleaseKey::generate();
    let host_key = ReleaseKey::generate();

    // The accepted request.
    post(&ca, node, &Ask::new(&w, &enclave_key).body(&data_hash)).unwrap();

    // The host replays the enclave's evidence (binding the enclave's address) under its own
    // sign-in: the action recomputes the binding with the host's address.
    let mut replay = Ask::new(&w, &host_key);
    replay.keys.release_address = enclave_key.address();
    assert_condition_false(
        post(&ca, node, &replay.body(&data_hash)),
        "replayed evidence",
    );

    // Evidence that binds no address of the signer.
    let mut unbound = Ask::new(&w, &enclave_key);
    unbound.keys.release_address = [0; 20];
    assert_condition_false(
        post(&ca, node, &unbound.body(&data_hash)),
        "unbound address",
    );

    // Evidence under a dev root the allowed sets do not name.
    let other_root = DevProducer::new(
        DevPki::ephemeral(clock::now()).unwrap(),
        PcrBank::for_image(common::attested::IMAGE, b"aip-enclave"),
        "i-other-root",
    );
    let mut ask = Ask::new(&w, &enclave_key);
    ask.producer = &other_root;
    assert_condition_false(post(&ca, node, &ask.body(&data_hash)), "another root");

    // The same root, another image: the measurement is not in the sets.
    let other_image = DevProducer::new(
        DevPki::load_or_create(&w.dir.join("pki"), clock::now()).unwrap(),
        PcrBank::for_image(b"another image", b"aip-enclave"),
        "i-other-image",
    );
    let mut ask = Ask::new(&w, &enclave_key);
    ask.producer = &other_image;
    assert_condition_false(post(&ca, node, &ask.body(&data_hash)), "another image");

    // The allowed image running another configuration (one a host wrote).
    let mut ask = Ask::new(&w, &enclave_key);
    ask.keys.config_sha256 = [1; 32];
    assert_condition_false(
        post(&ca, node, &ask.body(&data_hash)),
        "another configuration",
    );

    // A nonce other than the one the evidence carries.
    let mut ask = Ask::new(&w, &enclave_key);
    ask.claimed_nonce = [6; 32];
    assert_condition_false(post(&ca, node, &ask.body(&data_hash)), "another nonce");

    // Allowed sets other than the ones the condition pins (here: admitting any image).
    let mut ask = Ask::new(&w, &enclave_key);
    ask.allowed_sets = ask
        .allowed_sets
        .replace("\"allowDebug\":false", "\"allowDebug\":true");
    assert_condition_false(post(&ca, node, &ask.body(&data_hash)), "other allowed sets");

    // A condition naming an action this network cannot fetch.
    let mut ask = Ask::new(&w, &enclave_key);
    ask.conditions = attested_release("QmSomethingElse", &w.policy.allowed_sets_sha256_hex());
    let (code, message) = post(&ca, node, &ask.body(&data_hash)).unwrap_err();
    assert_eq!(code, 401);
    assert!(message.contains("not on this network's IPFS"), "{message}");

    // A sign-in whose message was changed after signing, and none at all.
    let mut body = Ask::new(&w, &enclave_key).body(&data_hash);
    let message = body["authSig"]["signedMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    body["authSig"]["signedMessage"] = message.replace("Chain ID: 1", "Chain ID: 2").into();
    let (code, message) = post(&ca, node, &body).unwrap_err();
    assert_eq!(code, 401);
    assert!(
        message.contains("authSig: the signature recovers to"),
        "{message}"
    );
    let mut body = Ask::new(&w, &enclave_key).body(&data_hash);
    body.as_object_mut().unwrap().remove("authSig");
    let (code, message) = post(&ca, node, &body).unwrap_err();
    assert_eq!(code, 401);
    assert!(message.contains("authSig"), "{message}");

    // And the node still serves the accepted request.
    post(&ca, node, &Ask::new(&w, &enclave_key).body(&data_hash)).unwrap();
    let _ = std::fs::remove_dir_all(&w.dir);
}
