//! Decrypts a secret through a Lit network with nothing but Lit's own client code, pointed at
//! the nodes given on the command line (the aip-signer Lit devnet in the tests):
//!
//! - handshake: lit-sdk's `HandshakeRequest`;
//! - the conditions' hash and the identity: lit-rust-sdk's `accs` (the JS SDK's canonical
//!   form), encryption to the network key: lit-rust-sdk's `bls_encrypt`;
//! - the wallet sign-in with its ReCap, the session key and the per-node session signatures:
//!   lit-rust-sdk's `create_siwe_message_with_resources`, `sign_siwe_with_eoa`,
//!   `generate_session_key_pair`, `issue_session_sigs`;
//! - round 1, the request as lit-rust-sdk's `LitClient::decrypt` sends it (unified
//!   conditions, `wallet_encrypt` to each node's identity key, `epoch` beside the payload),
//!   answers opened with its `wallet_decrypt`;
//! - round 2, the request through lit-sdk's own `EncryptionSignRequest` (typed
//!   `accessControlConditions`, its `EncryptedPayload` both ways, its URL joining);
//! - each round's shares combined, verified and decrypted by lit-rust-sdk's
//!   `bls_verify_and_decrypt_with_signature_shares`.
//!
//! `LitClient` itself finds nodes through Lit's staking contract, so its request plumbing is
//! reproduced here from its `decrypt_inner` and `send_encrypted_node_request` (lit-rust-sdk
//! 1.0.0 `src/client.rs`). Prints one JSON line; exits non-zero on any failure.
//!
//! Usage: lit-interop --threshold T --node http://127.0.0.1:PORT [--node ...]

use std::collections::HashMap;

use lit_rust_sdk::accs::{
    canonicalize_unified_access_control_conditions, hash_unified_access_control_conditions,
};
use lit_rust_sdk::crypto::{bls_encrypt, bls_verify_and_decrypt_with_signature_shares};
use lit_rust_sdk::e2ee::{wallet_decrypt, wallet_encrypt, EncryptedPayload};
use lit_rust_sdk::session::issue_session_sigs;
use lit_rust_sdk::{
    create_siwe_message_with_resources, generate_session_key_pair, sign_siwe_with_eoa, AuthConfig,
    AuthSig, LitAbility, ResourceAbilityRequest,
};
use lit_sdk::lit_node_core::request::EncryptionSignRequest as InnerRequest;
use lit_sdk::lit_node_core::{AuthSigItem, JsonAuthSig, NodeSet};
use lit_sdk::{EndpointRequest, HandshakeRequest, UrlPrefix};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

type Failure = Box<dyn std::error::Error>;

struct Node {
    url: String,
    epoch: u64,
    socket_address: String,
    identity_key: [u8; 32],
}

struct Args {
    threshold: usize,
    nodes: Vec<String>,
}

fn args() -> Result<Args, Failure> {
    let mut threshold = None;
    let mut nodes = Vec::new();
    let mut all = std::env::args().skip(1);
    while let Some(flag) = all.next() {
        let value = all.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--threshold" => threshold = Some(value.parse()?),
            "--node" => nodes.push(value),
            _ => return Err(format!("unknown argument {flag}").into()),
        }
    }
    Ok(Args {
        threshold: threshold.ok_or("--threshold is required")?,
        nodes,
    })
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(report) => println!("{report}"),
        Err(e) => {
            println!("{}", json!({ "ok": false, "error": e.to_string() }));
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<Value, Failure> {
    let args = args()?;
    let (nodes, network_key, nonce) = handshakes(&args.nodes).await?;

    // What a device does: hash the conditions, encrypt to the identity.
    let mut unified = condition();
    unified["conditionType"] = json!("evmBasic");
    let unified = json!([unified]);
    let canonical = canonicalize_unified_access_control_conditions(&unified)?;
    let conditions_hash = hex::encode(hash_unified_access_control_conditions(&canonical)?);
    let mut plaintext = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut plaintext);
    let data_hash = hex::encode(Sha256::digest(plaintext));
    let identity = format!("lit-accesscontrolcondition://{conditions_hash}/{data_hash}");
    let ciphertext = bls_encrypt(&network_key, &plaintext, identity.as_bytes())?;

    // What a wallet does: sign in, delegating decryption to a session key.
    let mut wallet = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut wallet);
    let wallet = hex::encode(wallet);
    let wallet_address = sign_siwe_with_eoa(&wallet, "address probe").await?.address;
    let session = generate_session_key_pair();
    let expiration = (chrono::Utc::now() + chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let auth_config = AuthConfig {
        capability_auth_sigs: vec![],
        expiration,
        statement: "lit-interop against the aip-signer devnet.".into(),
        domain: "localhost".into(),
        resources: vec![ResourceAbilityRequest {
            ability: LitAbility::AccessControlConditionDecryption,
            resource_id: "*".into(),
            data: None,
        }],
    };
    let siwe = create_siwe_message_with_resources(
        &wallet_address,
        &session.public_key,
        &auth_config,
        &nonce,
    )?;
    let delegation = sign_siwe_with_eoa(&wallet, &siwe).await?;
    let urls: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();
    let session_sigs = issue_session_sigs(&session, &auth_config, &delegation, &urls)?;

    let round1 = client_round(&nodes, &session_sigs, &canonical, &data_hash).await?;
    let round2 = sdk_round(&nodes, &session_sigs, &data_hash).await?;
    for (round, shares) in [("client", &round1), ("sdk", &round2)] {
        let decrypted = bls_verify_and_decrypt_with_signature_shares(
            &network_key,
            identity.as_bytes(),
            &ciphertext,
            &shares[..args.threshold],
        )?;
        if decrypted != plaintext {
            return Err(format!("the {round} round decrypted to other bytes").into());
        }
    }
    Ok(json!({
        "ok": true,
        "identity": identity,
        "shares": { "client": round1.len(), "sdk": round2.len() },
    }))
}

/// The one condition (an EVM balance check, which the devnet holds with
/// `--always-true-conditions`), as `accessControlConditions` write it; the unified form adds
/// `conditionType`, and both hash the same on Lit's nodes.
fn condition() -> Value {
    json!({
        "contractAddress": "",
        "standardContractType": "",
        "chain": "ethereum",
        "method": "eth_getBalance",
        "parameters": [":userAddress", "latest"],
        "returnValueTest": { "comparator": ">=", "value": "0" }
    })
}

/// lit-sdk's handshake with every node: their identity keys, the network key they agree on,
/// and the latest blockhash (lit-rust-sdk's sign-in nonce).
async fn handshakes(urls: &[String]) -> Result<(Vec<Node>, String, String), Failure> {
    let node_set: Vec<NodeSet> = urls
        .iter()
        .map(|url| NodeSet {
            socket_address: url.trim_start_matches("http://").to_owned(),
            value: 0,
        })
        .collect();
    let mut challenge = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut challenge);
    let response = HandshakeRequest::new()
        .url_prefix(UrlPrefix::Http)
        .node_set(node_set.clone())
        .client_public_key("lit-interop".into())
        .challenge(hex::encode(challenge))
        .build()?
        .send()
        .await?;
    let mut nodes = Vec::new();
    let mut network_keys = Vec::new();
    let mut nonce = String::new();
    for ((answer, url), set) in response.results().iter().zip(urls).zip(node_set) {
        let data = answer
            .data
            .as_ref()
            .filter(|_| answer.ok)
            .ok_or(format!("{url}: handshake refused: {:?}", answer.error))?;
        let key = hex::decode(&data.node_identity_key)?;
        nodes.push(Node {
            url: url.clone(),
            epoch: data.epoch,
            socket_address: set.socket_address,
            identity_key: key
                .try_into()
                .map_err(|_| format!("{url}: identity key is not 32 bytes"))?,
        });
        network_keys.push(data.network_public_key.clone());
        nonce = data.latest_blockhash.clone();
    }
    network_keys.dedup();
    match network_keys.as_slice() {
        [key] => Ok((nodes, key.clone(), nonce)),
        _ => Err(format!("the nodes report {} network keys", network_keys.len()).into()),
    }
}

/// The request as `LitClient::decrypt_inner` sends it, one node at a time.
async fn client_round(
    nodes: &[Node],
    session_sigs: &HashMap<String, AuthSig>,
    unified: &Value,
    data_hash: &str,
) -> Result<Vec<String>, Failure> {
    let http = reqwest::Client::new();
    let mut shares = Vec::new();
    for node in nodes {
        let request_data = json!({
            "dataToEncryptHash": data_hash,
            "authSig": session_sigs[&node.url],
            "chain": "ethereum",
            "unifiedAccessControlConditions": unified,
        });
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let encrypted = wallet_encrypt(
            &secret,
            &node.identity_key,
            request_data.to_string().as_bytes(),
        )?;
        let mut body = serde_json::to_value(&encrypted)?;
        if let Some(object) = body.as_object_mut() {
            object.insert("epoch".into(), json!(node.epoch));
        }
        let answer: Value = http
            .post(format!("{}/web/encryption/sign/v2", node.url))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let sealed: EncryptedPayload = serde_json::from_value(answer.clone())
            .map_err(|e| format!("{}: the answer is not sealed ({e}): {answer}", node.url))?;
        let opened: Value = serde_json::from_slice(&wallet_decrypt(&secret, &sealed)?)?;
        shares.push(share_json(&node.url, &opened)?);
    }
    Ok(shares)
}

/// The same request through lit-sdk's `EncryptionSignRequest`, to every node at once.
async fn sdk_round(
    nodes: &[Node],
    session_sigs: &HashMap<String, AuthSig>,
    data_hash: &str,
) -> Result<Vec<String>, Failure> {
    let conditions = json!([condition()]);
    let mut endpoints = Vec::new();
    for node in nodes {
        let auth_sig: JsonAuthSig =
            serde_json::from_value(serde_json::to_value(&session_sigs[&node.url])?)?;
        endpoints.push(EndpointRequest {
            node_set: NodeSet {
                socket_address: node.socket_address.clone(),
                value: 0,
            },
            identity_key: node.identity_key,
            body: InnerRequest {
                access_control_conditions: Some(serde_json::from_value(conditions.clone())?),
                evm_contract_conditions: None,
                sol_rpc_conditions: None,
                unified_access_control_conditions: None,
                chain: Some("ethereum".into()),
                data_to_encrypt_hash: data_hash.to_owned(),
                auth_sig: AuthSigItem::Single(auth_sig),
                epoch: 0,
            },
        });
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let response = lit_sdk::EncryptionSignRequest::new()
        .url_prefix(UrlPrefix::Http)
        .node_set(endpoints)
        .build()?
        .send(&secret)
        .await?;
    let mut shares = Vec::new();
    for (answer, node) in response.results().iter().zip(nodes) {
        let opened = serde_json::to_value(answer)?;
        shares.push(share_json(&node.url, &opened)?);
    }
    Ok(shares)
}

/// `{"ProofOfPossession":{identifier, value}}` from an opened `{ok, data: {signatureShare}}`,
/// as `decrypt_inner` rebuilds it.
fn share_json(url: &str, opened: &Value) -> Result<String, Failure> {
    if opened["ok"] != json!(true) {
        return Err(format!("{url} refused: {opened}").into());
    }
    let share = &opened["data"]["signatureShare"]["ProofOfPossession"];
    if !share["identifier"].is_string() || !share["value"].is_string() {
        return Err(format!("{url}: no share in {opened}").into());
    }
    Ok(json!({ "ProofOfPossession": { "identifier": share["identifier"], "value": share["value"] } }).to_string())
}
