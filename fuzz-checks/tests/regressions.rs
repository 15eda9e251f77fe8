//! Every fuzz target's seeds and every input a fuzzer once crashed on
//! (`fuzz/regressions/<target>/`) go through the target's check on every `cargo test`, so a
//! fixed crash stays fixed without a fuzzer. And the seeds reach what they are meant to reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use aip_fuzz_checks::{api_bodies, lit_answers, store_frames, TARGETS};
use aip_wire::control::ControlResponse;

fn testdata() -> PathBuf {
    std::env::var_os("AIP_TESTDATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"),
        PathBuf::from,
    )
}

fn regressions() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

#[test]
fn every_target_has_seeds_and_survives_them() {
    for target in TARGETS {
        let seeds = (target.seeds)(&testdata());
        assert!(seeds.len() >= 2, "{}: {} seeds", target.name, seeds.len());
        for seed in &seeds {
            (target.check)(seed);
        }
    }
}

#[test]
fn every_kept_crash_input_passes_its_check() {
    let mut replayed = 0;
    for entry in std::fs::read_dir(regressions()).expect("fuzz/regressions") {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let target = aip_fuzz_checks::target(&name)
            .unwrap_or_else(|| panic!("fuzz/regressions/{name} names no fuzz target"));
        for input in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(input.unwrap().path()).unwrap();
            (target.check)(&bytes);
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} kept crash inputs");
}

#[test]
fn every_api_body_example_parses_as_its_type_and_only_strictly() {
    for (kind, json) in api_bodies::examples() {
        assert!(
            api_bodies::parse(kind, json.as_bytes()),
            "{}: {json}",
            api_bodies::KINDS[kind]
        );
        // Requests refuse unknown fields (the answers the SDK reads tolerate none either).
        let extra = json.replacen('{', r#"{"unexpected":1,"#, 1);
        if kind <= 6 || kind == 10 {
            assert!(
                !api_bodies::parse(kind, extra.as_bytes()),
                "{}",
                api_bodies::KINDS[kind]
            );
        }
    }
}

#[test]
fn the_lit_seeds_reach_a_share_that_decrypts() {
    use lit_answers::Reached;
    let seeds = lit_answers::seeds(&testdata());
    let reached: Vec<Reached> = seeds
        .iter()
        .map(|s| lit_answers::stage(usize::from(s[0]), &s[1..]))
        .collect();
    // handshake; sealed share; sealed-stage refusal; opened share; opened refusal; v1; v2.
    assert_eq!(
        reached,
        [
            Reached::Handshake,
            Reached::Decrypted,
            Reached::Refused,
            Reached::Decrypted,
            Reached::Refused,
            Reached::Decrypted,
            Reached::Decrypted,
        ]
    );
    // A share under another network's key parses but never decrypts the vector's ciphertext.
    let (_, nodes) = aip_lit::node::deal(2, 3).unwrap();
    let foreign = nodes[0].sign(b"encrypt_decrypt_works").unwrap();
    assert_eq!(
        lit_answers::stage(3, foreign.to_v2_json().as_bytes()),
        Reached::Share
    );
}

#[test]
fn the_store_seeds_reach_writes_conflicts_reads_and_listings() {
    let seeds = store_frames::seeds(&testdata());
    let kinds: Vec<&str> = store_frames::answers(&seeds[0])
        .iter()
        .map(|a| match a {
            ControlResponse::Stored { .. } => "stored",
            ControlResponse::Conflict { .. } => "conflict",
            ControlResponse::Found { .. } => "found",
            ControlResponse::Keys { entries } if entries.len() == 2 => "keys(2)",
            ControlResponse::Keys { entries } if entries.len() == 1 => "keys(1)",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["stored", "stored", "conflict", "found", "stored", "keys(2)", "keys(1)"]
    );
    // A stream cut inside a frame yields the frames before it, no more.
    let cut = &seeds[0][..seeds[0].len() - 3];
    assert_eq!(store_frames::answers(cut).len(), 6);
}

#[test]
fn every_check_has_a_cargo_fuzz_target_and_no_target_lacks_one() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    let bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "aip-fuzz")
        .collect();
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(bins, names);
    for name in names {
        let source = std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{name}.rs"))).unwrap();
        assert!(
            source.contains("aip_fuzz_checks::"),
            "{name} calls its check"
        );
    }
}
