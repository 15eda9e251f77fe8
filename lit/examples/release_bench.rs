//! Inputs for, and our side of, the comparison with Lit's own WASM (scripts/bench).
//!
//! `release_bench write FILE [NODES THRESHOLD]`: deal a network, encrypt 32 bytes, write the
//! key, identity, ciphertext and `threshold` v2 share JSON strings.
//! `release_bench measure FILE RUNS`: the full release path on those inputs (parse the share
//! JSON, combine, verify against the network key, decrypt), RUNS times; prints the median.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use aip_lit::identity::{data_to_encrypt_hash, identity};
use aip_lit::node::deal;
use aip_lit::{encrypt, release_from_json, Ciphertext, NetworkKey};
use serde_json::{json, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => write(
            &args[1],
            args.get(2).map_or(30, |n| n.parse().unwrap()),
            args.get(3).map_or(20, |t| t.parse().unwrap()),
        ),
        Some("measure") => measure(&args[1], args.get(2).map_or(200, |r| r.parse().unwrap())),
        _ => {
            eprintln!("usage: release_bench write FILE [NODES THRESHOLD] | measure FILE RUNS");
            std::process::exit(2);
        }
    }
}

fn write(path: &str, nodes: usize, threshold: usize) {
    let (key, shares) = deal(threshold, nodes).unwrap();
    let plaintext = [42u8; 32];
    let id = identity(&"ab".repeat(32), &data_to_encrypt_hash(&plaintext));
    let ciphertext = encrypt(&key, &plaintext, id.as_bytes()).unwrap();
    // Every other node first, so the answering identifiers are not simply 1..t.
    let order = (0..nodes).step_by(2).chain((1..nodes).step_by(2));
    let share_json: Vec<String> = order
        .take(threshold)
        .map(|i| shares[i].sign(id.as_bytes()).unwrap().to_v2_json())
        .collect();
    let doc = json!({
        "nodes": nodes,
        "threshold": threshold,
        "networkPublicKey": key.to_hex(),
        "identity": id,
        "ciphertext": ciphertext.to_base64(),
        "plaintextHex": hex::encode(plaintext),
        "shares": share_json,
    });
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

fn measure(path: &str, runs: usize) {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let key = NetworkKey::from_hex(doc["networkPublicKey"].as_str().unwrap()).unwrap();
    let identity = doc["identity"].as_str().unwrap().to_owned();
    let ciphertext = Ciphertext::from_base64(doc["ciphertext"].as_str().unwrap()).unwrap();
    let shares: Vec<String> = doc["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let expected = hex::decode(doc["plaintextHex"].as_str().unwrap()).unwrap();
    let run = || {
        let json: Vec<&str> = shares.iter().map(String::as_str).collect();
        release_from_json(&key, identity.as_bytes(), &ciphertext, &json).unwrap()
    };
    assert_eq!(
        run().as_slice(),
        expected.as_slice(),
        "our release path must decrypt the input"
    );
    for _ in 0..runs.min(20) {
        run();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let plaintext = run();
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(plaintext.len(), expected.len());
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({ "median_ms": times[times.len() / 2], "runs": runs })
    );
}
