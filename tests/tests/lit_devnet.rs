#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The local Lit network as real processes speaking Naga's dialect over HTTPS: a device
//! encrypts to it, a client collects end-to-end encrypted shares from faulty nodes and
//! decrypts; and each node enforces what Lit's nodes enforce before it signs, every refusal
//! differing from an accepted request in one thing.

use std::sync::Arc;

use aip_client::lit::{conditions_from_json, encrypt_for};
use aip_enclave::release::ReleaseKey;
use aip_lit::collect::{
    collect, BoxedAnswer, CollectError, CollectOptions, NodeRequest, ReleaseTarget,
};
use aip_lit::e2ee::BoxKey;
use aip_lit::naga::{sign_request_body, DecryptionRequest};
use aip_lit::session_sig::{ResourceAbilityRequest, SessionKey, SessionKeySignedMessage};
use aip_lit::siwe::{rfc3339, AuthSig, SiweMessage};
use aip_lit::{Ciphertext, Conditions, NetworkKey};
use aip_tests::devnet::{DevnetCa, LitDevnet};
use aip_tests::lit_client::{
    ask, ask_with_body, handshake, post, session_terms, wallet_capability, wallet_request, NagaNode,
};
use serde_json::json;

fn data_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("aip-lit-devnet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.display().to_string()
}

/// A network over HTTPS under a CA in `dir`, with these extra arguments.
fn start(dir: &str, args: &[&str]) -> (LitDevnet, DevnetCa) {
    let ca = DevnetCa::in_dir(&std::path::Path::new(dir).join("tls"));
    let tls = ca.tls_dir_arg();
    let mut all = vec!["--data-dir", dir, "--tls-dir", &tls];
    all.extend_from_slice(args);
    (LitDevnet::start(&all), ca)
}

fn conditions() -> Conditions {
    conditions_from_json(&json!({"accessControlConditions": [{"contractAddress":"","chain":"ethereum","standardContractType":"","method":"eth_getBalance","parameters":[":userAddress","latest"],"returnValueTest":{"comparator":">=","value":"0"}}]})).unwrap()
}

/// The handshake of every node that answers.
fn handshakes(net: &LitDevnet, agent: &ureq::Agent) -> Vec<Option<NagaNode>> {
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    net.nodes
        .iter()
        .map(|url| handshake(agent, url, &key).ok())
        .collect()
}

fn sign_requests(
    agent: &ureq::Agent,
    nodes: &[Option<NagaNode>],
    request: &Arc<DecryptionRequest>,
) -> Vec<NodeRequest<BoxedAnswer>> {
    nodes
        .iter()
        .flatten()
        .map(|node| {
            let (agent, node, request) = (agent.clone(), node.clone(), Arc::clone(request));
            let answer: BoxedAnswer = Box::pin(async move {
                tokio::task::spawn_blocking(move || ask(&agent, &node, &request))
                    .await
                    .map_err(|e| e.to_string())?
            });
            NodeRequest {
                answer,
                verification_key: None,
            }
        })
        .collect()
}

/// Asks every node for its share of `request`; the first threshold shares that verify decrypt.
async fn release(
    net: &LitDevnet,
    agent: &ureq::Agent,
    nodes: &[Option<NagaNode>],
    request: &Arc<DecryptionRequest>,
    encrypted: &aip_lit::Encrypted,
) -> (zeroize::Zeroizing<Vec<u8>>, aip_lit::collect::Tally) {
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();
    let target = ReleaseTarget {
        network_key: &key,
        identity: encrypted.identity.as_bytes(),
        ciphertext: &ciphertext,
    };
    collect(
        sign_requests(agent, nodes, request),
        target,
        CollectOptions::new(net.threshold),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_secret_is_released_by_faulty_nodes_over_https() {
    let dir = data_dir("faulty");
    let (net, ca) = start(
        &dir,
        &[
            "--nodes",
            "5",
            "--threshold",
            "3",
            "--always-true-conditions",
            "--down",
            "1",
            "--wrong",
            "2",
            "--slow",
            "3=20..80",
        ],
    );
    assert_eq!(net.nodes.len(), 5);
    let agent = ca.agent();
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = conditions();
    let secret = b"a 32-byte ed25519 session seed!!";
    let encrypted = encrypt_for(&key, &conditions, secret).unwrap();
    let nodes = handshakes(&net, &agent);
    assert!(nodes[1].is_none(), "node 1 is down");
    assert_eq!(nodes.iter().flatten().count(), 4);
    let identity_keys: std::collections::BTreeSet<_> = nodes
        .iter()
        .flatten()
        .map(|n| n.handshake.identity_key)
        .collect();
    assert_eq!(identity_keys.len(), 4, "each node has its own identity key");

    let wallet = ReleaseKey::generate();
    let request = Arc::new(wallet_request(
        &wallet,
        &conditions,
        &encrypted.data_to_encrypt_hash,
    ));
    let (plaintext, tally) = release(&net, &agent, &nodes, &request, &encrypted).await;
    assert_eq!(plaintext.as_slice(), secret);
    assert_eq!(tally.asked, 4, "{tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_always_true_the_nodes_refuse_chain_conditions() {
    let dir = data_dir("strict");
    let (net, ca) = start(&dir, &["--nodes", "3"]);
    assert_eq!(net.threshold, 2);
    let agent = ca.agent();
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = conditions();
    let encrypted = encrypt_for(&key, &conditions, b"secret").unwrap();
    let ciphertext = Ciphertext::from_base64(&encrypted.ciphertext).unwrap();
    let target = ReleaseTarget {
        network_key: &key,
        identity: encrypted.identity.as_bytes(),
        ciphertext: &ciphertext,
    };
    let nodes = handshakes(&net, &agent);
    let wallet = ReleaseKey::generate();
    let request = Arc::new(wallet_request(
        &wallet,
        &conditions,
        &encrypted.data_to_encrypt_hash,
    ));
    let err = collect(
        sign_requests(&agent, &nodes, &request),
        target,
        CollectOptions::new(2),
    )
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
    // The node says why, sealed to the requester.
    let node = nodes[0].as_ref().unwrap();
    let refused = ask(&agent, node, &request).unwrap_err();
    assert!(
        refused.contains("failed access control conditions")
            && refused.contains("needs chain access"),
        "{refused}"
    );
    // An EVM contract condition (Lit's JS SDK vector) is parsed and refused the same way.
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../lit/tests/vectors/evm_contract_vectors.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let evm =
        conditions_from_json(&json!({"evmContractConditions": vectors["cases"][2]["conditions"]}))
            .unwrap();
    let request = wallet_request(&wallet, &evm, &encrypted.data_to_encrypt_hash);
    let refused = ask(&agent, nodes[1].as_ref().unwrap(), &request).unwrap_err();
    assert!(
        refused.contains("evaluating a ethereum condition needs chain access"),
        "{refused}"
    );
}

/// The parts of one sign request, each of which a test changes.
struct Parts {
    wallet: ReleaseKey,
    session: SessionKey,
    conditions: Conditions,
    data_hash: String,
    now: i64,
}

impl Parts {
    fn new() -> Self {
        Self {
            wallet: ReleaseKey::generate(),
            session: SessionKey::generate(),
            conditions: conditions(),
            data_hash: aip_lit::identity::data_to_encrypt_hash(b"parts"),
            now: aip_tests::unix_now(),
        }
    }

    fn identity(&self) -> String {
        self.conditions.identity(&self.data_hash)
    }

    /// The wallet's capability, after `change` to its message, signed.
    fn capability(&self, change: impl FnOnce(&mut SiweMessage)) -> AuthSig {
        let mut message =
            wallet_capability(&self.wallet, &self.session, &self.identity(), self.now);
        change(&mut message);
        self.wallet.sign_in(&message).unwrap()
    }

    fn message(&self, node: &NagaNode, capability: AuthSig) -> SessionKeySignedMessage {
        let terms = session_terms(self.now);
        SessionKeySignedMessage {
            session_key: self.session.public_hex(),
            resource_ability_requests: vec![ResourceAbilityRequest::decryption_of(
                &self.identity(),
            )],
            capabilities: vec![capability],
            issued_at: terms.issued_at,
            expiration: terms.expiration,
            node_address: node.address.clone(),
            max_price: terms.max_price,
        }
    }

    fn body(&self, auth_sig: &AuthSig, epoch: u64) -> serde_json::Value {
        sign_request_body(&self.conditions, &self.data_hash, auth_sig, epoch)
    }

    /// The accepted request, with `change` applied to the session message before signing.
    fn signed(
        &self,
        node: &NagaNode,
        change: impl FnOnce(&mut SessionKeySignedMessage),
    ) -> serde_json::Value {
        let mut message = self.message(node, self.capability(|_| {}));
        change(&mut message);
        self.body(&self.session.sign(&message).unwrap(), 0)
    }
}

#[test]
fn each_node_enforces_what_lits_nodes_enforce_before_signing() {
    let dir = data_dir("enforce");
    let (net, ca) = start(&dir, &["--nodes", "3", "--always-true-conditions"]);
    let agent = ca.agent();
    let nodes = handshakes(&net, &agent);
    let (node, other) = (nodes[0].clone().unwrap(), nodes[1].clone().unwrap());
    let box_key = BoxKey::generate();
    let parts = Parts::new();
    let refused = |body: &serde_json::Value, what: &str, reason: &str| {
        let error = ask_with_body(&agent, &node, &box_key, body).expect_err(what);
        assert!(error.contains(reason), "{what}: {error}");
    };

    // The accepted request, and the same again through the path Lit's Rust SDK asks for.
    let accepted = parts.signed(&node, |_| {});
    ask_with_body(&agent, &node, &box_key, &accepted).unwrap();
    let sdk_node = NagaNode {
        url: format!("{}/", node.url),
        ..node.clone()
    };
    ask_with_body(&agent, &sdk_node, &box_key, &accepted).unwrap();

    // Sealed to another node's identity key: the node cannot open it and says so in the clear.
    let misdirected = NagaNode {
        handshake: other.handshake,
        ..node.clone()
    };
    let error = ask_with_body(&agent, &misdirected, &box_key, &accepted).unwrap_err();
    assert!(error.contains("can't decrypt"), "{error}");
    // The Datil endpoint is retired on Naga nodes.
    let (status, answer) = post(
        &agent,
        &format!("{}/web/encryption/sign", node.url),
        &accepted,
    )
    .unwrap();
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&answer).contains("deprecated"));

    // The session signature.
    let mut tampered = accepted.clone();
    tampered["authSig"]["signedMessage"] = tampered["authSig"]["signedMessage"]
        .as_str()
        .unwrap()
        .replace("\"maxPrice\":\"0\"", "\"maxPrice\":\"1\"")
        .into();
    refused(
        &tampered,
        "changed after signing",
        "Session key signature is not valid",
    );
    refused(
        &parts.signed(&node, |m| m.node_address = other.address.clone()),
        "another node",
        "does not match our node address",
    );
    refused(
        &parts.signed(&node, |m| {
            m.issued_at = rfc3339(parts.now - 7200).unwrap();
            m.expiration = rfc3339(parts.now - 3600).unwrap();
        }),
        "expired",
        "in the past beyond the grace period",
    );
    refused(
        &parts.signed(&node, |m| m.issued_at = rfc3339(parts.now + 3600).unwrap()),
        "issued in the future",
        "in the future",
    );
    refused(
        &parts.signed(&node, |m| {
            m.expiration = rfc3339(parts.now + 40 * 86_400).unwrap()
        }),
        "too long",
        "max expiry",
    );
    let other_identity = parts
        .conditions
        .identity(&aip_lit::identity::data_to_encrypt_hash(b"other"));
    refused(
        &parts.signed(&node, |m| {
            m.resource_ability_requests =
                vec![ResourceAbilityRequest::decryption_of(&other_identity)]
        }),
        "another resource",
        "Could not find requested resource",
    );
    refused(
        &parts.body(&parts.capability(|_| {}), 0),
        "a wallet signature instead of a session's",
        "takes a session signature",
    );
    refused(
        &parts.signed(&node, |m| m.capabilities.clear()),
        "no capability",
        "Empty capabilities",
    );

    // The wallet's capability.
    let capability = |change: &dyn Fn(&mut SiweMessage)| {
        let message = parts.message(&node, parts.capability(change));
        parts.body(&parts.session.sign(&message).unwrap(), 0)
    };
    refused(
        &capability(&|m| m.uri = SessionKey::generate().uri()),
        "delegating to another session key",
        "session pubkey",
    );
    refused(
        &capability(&|m| {
            let recap = aip_lit::recap::Recap::decryption_of(&other_identity);
            m.resources = vec![recap.resource()];
            m.statement = recap.append_to("aip-signer tests.");
        }),
        "a ReCap for another identity",
        "Unable to verify any of the SIWE capability objects",
    );
    refused(
        &capability(&|m| m.statement = "aip-signer tests.".into()),
        "a statement without the ReCap's sentence",
        "Incorrect statement",
    );
    refused(
        &capability(&|m| m.expiration = parts.now - 120),
        "an expired sign-in",
        "not valid",
    );
    let mut forged = parts.capability(|_| {});
    forged.signed_message = forged
        .signed_message
        .replace("Nonce: 0123456789abcdef", "Nonce: 0123456789abcdee");
    let message = parts.message(&node, forged);
    refused(
        &parts.body(&parts.session.sign(&message).unwrap(), 0),
        "a sign-in changed after signing",
        "Wallet signature of session key via SIWE is not valid",
    );

    // The epoch.
    let message = parts.message(&node, parts.capability(|_| {}));
    refused(
        &parts.body(&parts.session.sign(&message).unwrap(), 7),
        "another epoch",
        "epoch 7",
    );
    ask_with_body(
        &agent,
        &node,
        &box_key,
        &parts.body(&parts.session.sign(&message).unwrap(), node.handshake.epoch),
    )
    .unwrap();
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
    let dir = data_dir("thirty");
    let (net, ca) = start(
        &dir,
        &[
            "--nodes",
            "30",
            "--always-true-conditions",
            "--down",
            "0",
            "--wrong",
            "1",
            "--slow",
            "2=10..40",
        ],
    );
    assert_eq!((net.nodes.len(), net.threshold), (30, 20));
    let agent = ca.agent();
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = conditions();
    let encrypted = encrypt_for(&key, &conditions, b"thirty").unwrap();
    let nodes = handshakes(&net, &agent);
    assert_eq!(nodes.iter().flatten().count(), 29);
    let request = Arc::new(wallet_request(
        &ReleaseKey::generate(),
        &conditions,
        &encrypted.data_to_encrypt_hash,
    ));
    let (plaintext, tally) = release(&net, &agent, &nodes, &request, &encrypted).await;
    assert_eq!(plaintext.as_slice(), b"thirty");
    assert!(tally.valid >= 20, "{tally:?}");
}
