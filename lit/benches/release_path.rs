//! The release path once t shares have arrived: parse them (v2 JSON), combine, verify the
//! combined signature against the network key, decrypt. At n=3/t=2 and n=30/t=20 (Lit's
//! two-thirds threshold). Goal (issue): at most 3 ms median at n=30/t=20 with every check kept.
//! "full" starts from the JSON answers; "received" from parsed shares.
//!
//! `cargo bench -p aip-lit --bench release_path`
#![allow(clippy::expect_used, clippy::unwrap_used)]

use aip_lit::identity::{data_to_encrypt_hash, identity};
use aip_lit::node::deal;
use aip_lit::{
    combine, combine_verify_decrypt, decrypt, encrypt, release_from_json, Ciphertext,
    DecryptionShare, NetworkKey, PreparedCheck,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

struct Input {
    key: NetworkKey,
    identity: String,
    ciphertext: Ciphertext,
    shares_json: Vec<String>,
}

/// `threshold` shares of an n-node network, from every other node first (so the answering
/// identifiers are not simply 1..t).
fn input(threshold: usize, nodes: usize) -> Input {
    let (key, node_shares) = deal(threshold, nodes).expect("deal");
    let secret = [7u8; 32];
    let identity = identity(&"ab".repeat(32), &data_to_encrypt_hash(&secret));
    let ciphertext = encrypt(&key, &secret, identity.as_bytes()).expect("encrypt");
    let order = (0..nodes).step_by(2).chain((1..nodes).step_by(2));
    let shares_json = order
        .take(threshold)
        .map(|i| {
            node_shares[i]
                .sign(identity.as_bytes())
                .expect("sign")
                .to_v2_json()
        })
        .collect();
    Input {
        key,
        identity,
        ciphertext,
        shares_json,
    }
}

fn parse(input: &Input) -> Vec<DecryptionShare> {
    input
        .shares_json
        .iter()
        .enumerate()
        .map(|(i, j)| DecryptionShare::from_json(i, j).expect("share"))
        .collect()
}

fn release_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("release");
    for (t, n) in [(2, 3), (20, 30)] {
        let input = input(t, n);
        let label = format!("n{n}_t{t}");
        let release = |shares: &[DecryptionShare]| {
            combine_verify_decrypt(
                &input.key,
                input.identity.as_bytes(),
                &input.ciphertext,
                shares,
            )
            .expect("release")
        };
        // Shares received as JSON: parse, combine, verify, decrypt (scripts/bench's path).
        group.bench_with_input(BenchmarkId::new("full", &label), &input, |b, input| {
            let json: Vec<&str> = input.shares_json.iter().map(String::as_str).collect();
            b.iter(|| {
                release_from_json(
                    &input.key,
                    input.identity.as_bytes(),
                    &input.ciphertext,
                    &json,
                )
                .expect("release")
            })
        });
        // Shares already parsed (the "t shares already received").
        let shares = parse(&input);
        group.bench_with_input(BenchmarkId::new("received", &label), &shares, |b, s| {
            b.iter(|| release(s))
        });
        // The parts (combine uses blst's threads from 32 expanded points, i.e. t >= 8).
        let signature = combine(&shares).expect("combine");
        group.bench_with_input(BenchmarkId::new("parse", &label), &input, |b, input| {
            b.iter(|| parse(input))
        });
        group.bench_with_input(BenchmarkId::new("combine", &label), &shares, |b, s| {
            b.iter(|| combine(s).expect("combine"))
        });
        group.bench_with_input(BenchmarkId::new("prepare_check", &label), &input, |b, i| {
            b.iter(|| PreparedCheck::new(&i.key, i.identity.as_bytes()))
        });
        let check = PreparedCheck::new(&input.key, input.identity.as_bytes());
        group.bench_with_input(
            BenchmarkId::new("verify_prepared", &label),
            &signature,
            |b, s| b.iter(|| check.verify(s).expect("verify")),
        );
        group.bench_with_input(BenchmarkId::new("decrypt", &label), &signature, |b, s| {
            b.iter(|| decrypt(&input.ciphertext, s).expect("decrypt"))
        });
    }
    group.finish();
}

criterion_group!(benches, release_path);
criterion_main!(benches);
