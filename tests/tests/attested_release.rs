#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The attested release on the wire, with nothing but what Lit's nodes do: a device encrypts a
//! secret under the attested-release condition; a requester signs in (SIWE, EIP-191) as the
//! address its evidence binds, delegating to a session key, with the evidence and the allowed
//! sets as `litParam` resources; each devnet node checks the session signature, runs the real
//! Lit Action under Node with the wallet's sign-in and answers with its share sealed to the
//! requester, over TLS. Every refusal below differs from an accepted request in one thing: a
//! host replaying another enclave's evidence under its own key, evidence that binds no address
//! of the signer, another root, image, configuration, nonce or allowed sets, another action.
//! (What the nodes check of the session itself is in `lit_devnet.rs`.)

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, BoundKeys, EvidenceProducer};
use aip_client::lit::encrypt_for;
use aip_enclave::release::attested::{decryption_request, SignRequest};
use aip_enclave::release::ReleaseKey;
use aip_lit::conditions::{attested_release, Conditions};
use aip_lit::{Ciphertext, DecryptionShare, NetworkKey};
mod common;
use aip_lit::naga::DecryptionRequest;
use aip_tests::lit_client::{ask, ask_with_body, handshake, NagaNode};
use common::attested::{devnet_ca, world, World};

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

    fn request(&self, data_hash: &str) -> DecryptionRequest {
        let evidence = self.producer.produce(&self.keys, &self.nonce).unwrap();
        decryption_request(
            &SignRequest {
                conditions: &self.conditions,
                allowed_sets: &self.allowed_sets,
                data_hash_hex: data_hash,
                evidence: &evidence,
                keys: &self.keys,
                nonce: &self.claimed_nonce,
                max_price_wei: 0,
            },
            self.signer,
        )
        .unwrap()
    }
}

/// The world's nodes after their handshakes.
fn nodes(w: &World, agent: &ureq::Agent) -> Vec<NagaNode> {
    let key = NetworkKey::from_hex(&w.net.network_public_key).unwrap();
    w.net
        .nodes
        .iter()
        .map(|url| handshake(agent, url, &key).unwrap())
        .collect()
}

/// The action said no: Lit's nodes give no reason beyond the condition's result.
fn assert_condition_false(result: Result<String, String>, what: &str) {
    let message = result.expect_err(what);
    assert!(
        message.contains("failed access control conditions")
            && message.contains("the Lit Action returned \"false\""),
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
    let request = Ask::new(&w, &signer).request(&encrypted.data_to_encrypt_hash);
    let agent = ca.agent();
    let shares: Vec<DecryptionShare> = nodes(&w, &agent)[..w.net.threshold]
        .iter()
        .map(|node| {
            let share = ask(&agent, node, &request).unwrap();
            DecryptionShare::from_json(0, &share).unwrap()
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
    let agent = ca.agent();
    let node = &nodes(&w, &agent)[0];
    let data_hash = aip_lit::identity::data_to_encrypt_hash(b"x");
    let enclave_key = ReleaseKey::generate();
    let host_key = ReleaseKey::generate();

    // The accepted request.
    ask(
        &agent,
        node,
        &Ask::new(&w, &enclave_key).request(&data_hash),
    )
    .unwrap();

    // The host replays the enclave's evidence (binding the enclave's address) under its own
    // sign-in: the action recomputes the binding with the host's address.
    let mut replay = Ask::new(&w, &host_key);
    replay.keys.release_address = enclave_key.address();
    assert_condition_false(
        ask(&agent, node, &replay.request(&data_hash)),
        "replayed evidence",
    );

    // Evidence that binds no address of the signer.
    let mut unbound = Ask::new(&w, &enclave_key);
    unbound.keys.release_address = [0; 20];
    assert_condition_false(
        ask(&agent, node, &unbound.request(&data_hash)),
        "unbound address",
    );

    // Evidence under a dev root the allowed sets do not name.
    let other_root = DevProducer::new(
        DevPki::ephemeral(clock::now()).unwrap(),
        PcrBank::for_image(common::attested::IMAGE, b"aip-enclave"),
        "i-other-root",
    );
    let mut req = Ask::new(&w, &enclave_key);
    req.producer = &other_root;
    assert_condition_false(ask(&agent, node, &req.request(&data_hash)), "another root");

    // The same root, another image: the measurement is not in the sets.
    let other_image = DevProducer::new(
        DevPki::load_or_create(&w.dir.join("pki"), clock::now()).unwrap(),
        PcrBank::for_image(b"another image", b"aip-enclave"),
        "i-other-image",
    );
    let mut req = Ask::new(&w, &enclave_key);
    req.producer = &other_image;
    assert_condition_false(ask(&agent, node, &req.request(&data_hash)), "another image");

    // The allowed image running another configuration (one a host wrote).
    let mut req = Ask::new(&w, &enclave_key);
    req.keys.config_sha256 = [1; 32];
    assert_condition_false(
        ask(&agent, node, &req.request(&data_hash)),
        "another configuration",
    );

    // A nonce other than the one the evidence carries.
    let mut req = Ask::new(&w, &enclave_key);
    req.claimed_nonce = [6; 32];
    assert_condition_false(ask(&agent, node, &req.request(&data_hash)), "another nonce");

    // Allowed sets other than the ones the condition pins (here: admitting any image).
    let mut req = Ask::new(&w, &enclave_key);
    req.allowed_sets = req
        .allowed_sets
        .replace("\"allowDebug\":false", "\"allowDebug\":true");
    assert_condition_false(
        ask(&agent, node, &req.request(&data_hash)),
        "other allowed sets",
    );

    // A condition naming an action this network cannot fetch.
    let mut req = Ask::new(&w, &enclave_key);
    req.conditions = attested_release("QmSomethingElse", &w.policy.allowed_sets_sha256_hex());
    let message = ask(&agent, node, &req.request(&data_hash)).unwrap_err();
    assert!(message.contains("not on this network's IPFS"), "{message}");

    // And the node still serves the accepted request.
    ask(
        &agent,
        node,
        &Ask::new(&w, &enclave_key).request(&data_hash),
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(&w.dir);
}

/// A lying Lit node sees the enclave's whole request (it is sealed to that node): evidence,
/// sign-in, session signature. Replayed to the other nodes, under the requester's own sealing
/// key, it gets no share: the session signature names the node it was made for, and the
/// sign-in delegates to the enclave's session key only.
#[test]
fn what_one_node_sees_gets_no_share_from_another() {
    let w = world("replay");
    let agent = devnet_ca(&w.dir).agent();
    let nodes = nodes(&w, &agent);
    let data_hash = aip_lit::identity::data_to_encrypt_hash(b"replayed");
    let enclave_key = ReleaseKey::generate();
    let request = Ask::new(&w, &enclave_key).request(&data_hash);
    let seen = request
        .body_for(&nodes[0].address, nodes[0].handshake.epoch)
        .unwrap();
    let liar = aip_lit::e2ee::BoxKey::generate();
    for other in &nodes[1..] {
        let refused = ask_with_body(&agent, other, &liar, &seen).unwrap_err();
        assert!(
            refused.contains("does not match our node address"),
            "{refused}"
        );
    }
    // Made for the node it is sent to, the same request is served.
    let honest = request
        .body_for(&nodes[1].address, nodes[1].handshake.epoch)
        .unwrap();
    ask_with_body(&agent, &nodes[1], &liar, &honest).unwrap();
    let _ = std::fs::remove_dir_all(&w.dir);
}
