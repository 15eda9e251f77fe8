//! What Lit nodes send back, as the enclave reads it: the handshake answer, the sign answer
//! (sealed to the enclave's box key, or a refusal in the clear), and the decryption share
//! inside. Any single node may lie, so none of this may panic, and a share the enclave
//! accepts must never decrypt to anything but the real plaintext.
//!
//! The first input byte picks the stage; the rest is what the node sent at that stage.

use std::path::Path;
use std::sync::OnceLock;

use aip_lit::e2ee::BoxKey;
use aip_lit::naga::{self, NagaError, NodeHandshake};
use aip_lit::wire::{EncryptionSignResponse, GenericResponse, HandshakeData};
use aip_lit::{Ciphertext, DecryptionShare, NetworkKey};
use serde::Deserialize;

/// Js-sdk's v7 BLS vector (network key, identity, three shares, ciphertext, plaintext).
const VECTOR: &str = include_str!("../../../shared/testdata/lit/jssdk_v7_bls_vector.json");

#[derive(Deserialize)]
struct Vector {
    network_public_key_hex: String,
    identity_hex: String,
    signature_shares_v1_hex: Vec<String>,
    ciphertext_b64: String,
    plaintext_b64: String,
}

struct Known {
    network_key: NetworkKey,
    identity: Vec<u8>,
    shares: Vec<DecryptionShare>,
    ciphertext: Ciphertext,
    plaintext: Vec<u8>,
    vector: Vector,
}

fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let vector: Vector = serde_json::from_str(VECTOR).expect("the v7 vector");
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        Known {
            network_key: NetworkKey::from_hex(&vector.network_public_key_hex).expect("key"),
            identity: hex::decode(&vector.identity_hex).expect("identity"),
            shares: vector
                .signature_shares_v1_hex
                .iter()
                .enumerate()
                .map(|(i, s)| DecryptionShare::from_v1_hex(i, s).expect("share"))
                .collect(),
            ciphertext: Ciphertext::from_base64(&vector.ciphertext_b64).expect("ciphertext"),
            plaintext: b64.decode(&vector.plaintext_b64).expect("plaintext"),
            vector,
        }
    })
}

/// The enclave's box key for one exchange, and the node's identity key (fixed: the fuzzer
/// must be able to build answers that open).
fn keys() -> (BoxKey, BoxKey) {
    (BoxKey::from_bytes([2; 32]), BoxKey::from_bytes([1; 32]))
}

/// The stages, by the selector byte (modulo their count).
pub const STAGES: [&str; 4] = ["handshake", "sealed answer", "opened answer", "share"];

/// How far an input got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// Refused before a share (not JSON, a refusal, a bad seal, another network...).
    Refused,
    /// A handshake was read.
    Handshake,
    /// A share parsed, but combined with the vector's real shares it decrypts nothing.
    Share,
    /// A share parsed and, combined with a real share, decrypted the real plaintext.
    Decrypted,
}

/// A share as a node sends it: parses, or is refused; if it parses, it combines with a real
/// share only into the real plaintext, or not at all.
fn share(json: &str) -> Reached {
    let Ok(share) = DecryptionShare::from_json(1, json) else {
        return Reached::Refused;
    };
    let known = known();
    let mut reached = Reached::Share;
    for other in [&known.shares[0], &known.shares[2]] {
        if let Ok(plaintext) = aip_lit::combine_verify_decrypt(
            &known.network_key,
            &known.identity,
            &known.ciphertext,
            &[*other, share],
        ) {
            assert_eq!(
                plaintext.as_slice(),
                known.plaintext,
                "a share decrypted elsewhere"
            );
            reached = Reached::Decrypted;
        }
    }
    reached
}

/// Runs the stage `stage` names (an index into [`STAGES`]) on `answer`.
pub fn stage(stage: usize, answer: &[u8]) -> Reached {
    let (enclave, node) = keys();
    let handshake = NodeHandshake {
        identity_key: node.public_key(),
        epoch: 1,
    };
    match stage % STAGES.len() {
        0 => match naga::read_handshake(answer, &known().network_key) {
            Ok(_) => Reached::Handshake,
            Err(_) => Reached::Refused,
        },
        1 => match naga::open_answer(&enclave, &handshake, answer) {
            Ok(share_json) => share(&share_json),
            Err(_) => Reached::Refused,
        },
        _ if stage % STAGES.len() == 2 => {
            // Sealed properly by the node: opening never fails on the seal.
            let sealed = node
                .seal_with(&enclave.public_key(), answer, 1_700_000_000, [9; 16])
                .expect("seal");
            let body = serde_json::to_vec(&sealed).expect("serialises");
            match naga::open_answer(&enclave, &handshake, &body) {
                Ok(share_json) => share(&share_json),
                Err(NagaError::E2ee(e)) => panic!("a proper seal did not open: {e}"),
                Err(NagaError::WrongSender) => panic!("the node's own seal was refused"),
                Err(_) => Reached::Refused,
            }
        }
        _ => match std::str::from_utf8(answer) {
            Ok(text) => share(text),
            Err(_) => Reached::Refused,
        },
    }
}

/// First byte: the stage; the rest: the node's bytes.
pub fn check(data: &[u8]) {
    if let Some((selector, answer)) = data.split_first() {
        let _ = stage(usize::from(*selector), answer);
    }
}

fn seed(stage: u8, body: &[u8]) -> Vec<u8> {
    let mut seed = vec![stage];
    seed.extend_from_slice(body);
    seed
}

/// Answers as Naga nodes send them: a handshake, a sealed share, an opened share envelope and
/// a refusal, and the vector's shares in both dialects.
pub fn seeds(_testdata: &Path) -> Vec<Vec<u8>> {
    let known = known();
    let (enclave, node) = keys();
    let handshake = GenericResponse::ok(HandshakeData {
        server_public_key: hex::encode([5u8; 32]),
        subnet_public_key: known.vector.network_public_key_hex.clone(),
        network_public_key: known.vector.network_public_key_hex.clone(),
        network_public_key_set: known.vector.network_public_key_hex.clone(),
        client_sdk_version: "8.0.0".into(),
        hd_root_pubkeys: Vec::new(),
        attestation: None,
        latest_blockhash: hex::encode([6u8; 32]),
        node_version: "8.0.0".into(),
        node_identity_key: hex::encode(node.public_key()),
        epoch: 3,
        git_commit_hash: "0".repeat(40),
    });
    let handshake = serde_json::to_value(handshake).expect("serialises");
    let v1 = |i: usize| serde_json::json!({"ProofOfPossession": known.vector.signature_shares_v1_hex[i]});
    let envelope = serde_json::to_value(GenericResponse::ok(EncryptionSignResponse {
        result: "success".into(),
        signature_share: v1(1),
        share_id: "1".into(),
    }))
    .expect("serialises");
    let refusal = serde_json::json!({"ok": false, "error": "access denied", "errorObject": "condition false"});
    let sealed = node
        .seal_with(
            &enclave.public_key(),
            envelope.to_string().as_bytes(),
            1_700_000_000,
            [3; 16],
        )
        .expect("seal");
    let share_bytes = &known.vector.signature_shares_v1_hex[1];
    let v2 = serde_json::json!({"ProofOfPossession": {
        "identifier": format!("{:0<64}", "02"),
        "value": share_bytes[2..],
    }});
    vec![
        seed(0, handshake.to_string().as_bytes()),
        seed(1, &serde_json::to_vec(&sealed).expect("serialises")),
        seed(1, refusal.to_string().as_bytes()),
        seed(2, envelope.to_string().as_bytes()),
        seed(2, refusal.to_string().as_bytes()),
        seed(3, v1(1).to_string().as_bytes()),
        seed(3, v2.to_string().as_bytes()),
    ]
}
