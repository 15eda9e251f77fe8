#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The two build paths of the enclave image are one (issue 15): `Dockerfile.enclave` is
//! parsed here (no Docker engine on these machines) and must pin its base by digest, fetch
//! before it builds, build without network, run `scripts/build-eif` and nothing else; and
//! `scripts/build-eif` must read `build.env` and call `aip-attest build-eif`. The deployment
//! walkthrough's configurations are parsed by the binaries' own code.

use std::path::PathBuf;

fn repo(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Dockerfile instructions: continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, rest) = current.split_once(' ').unwrap_or((current.as_str(), ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_owned()));
        current.clear();
    }
    assert!(current.is_empty(), "a continuation never ends");
    out
}

#[test]
fn the_dockerfile_pins_its_base_builds_offline_and_runs_the_one_implementation() {
    let dockerfile = instructions(&repo("Dockerfile.enclave"));
    let known = ["ARG", "FROM", "RUN", "WORKDIR", "COPY", "ENV"];
    for (keyword, _) in &dockerfile {
        assert!(
            known.contains(&keyword.as_str()),
            "unexpected instruction {keyword}"
        );
    }
    let froms: Vec<&String> = dockerfile
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, rest)| rest)
        .collect();
    assert!(!froms.is_empty());
    for from in &froms {
        let image = from.split_whitespace().next().unwrap();
        assert!(
            image == "${BASE}" || image == "scratch" || image.contains("@sha256:"),
            "FROM {from}: a base must be pinned by digest (or be BASE, which is checked)"
        );
    }
    let runs: Vec<&String> = dockerfile
        .iter()
        .filter(|(k, _)| k == "RUN")
        .map(|(_, rest)| rest)
        .collect();
    let check = runs
        .iter()
        .position(|r| r.contains("@sha256:") && r.contains("exit 1"))
        .expect("a step that refuses a BASE without a digest");
    let fetch = runs
        .iter()
        .position(|r| r.contains("cargo fetch --locked"))
        .expect("crates fetched while the network is allowed");
    let build = runs
        .iter()
        .position(|r| r.contains("scripts/build-eif"))
        .expect("the build runs scripts/build-eif");
    assert!(check < fetch && fetch < build, "check, fetch, then build");
    assert!(
        runs[build].starts_with("--network=none"),
        "the build has no network: {}",
        runs[build]
    );
    assert!(
        runs.iter().all(|r| !r.contains("cargo build")),
        "no second build recipe: scripts/build-eif is the only one"
    );

    let script = repo("scripts/build-eif");
    assert!(
        script.contains(". \"$root/build.env\""),
        "the flags come from build.env"
    );
    assert!(
        script.contains("build-eif --enclave"),
        "aip-attest build-eif writes the image"
    );
    assert!(
        script.contains("--locked --release"),
        "a locked release build"
    );
    assert!(
        !script.contains("aip-enclave/dev"),
        "never the dev features"
    );
    let env = repo("build.env");
    assert!(env.contains("+crt-static"), "a static enclave");
    assert!(env.contains("AIP_ENCLAVE_TARGET=x86_64-unknown-linux-gnu"));
}

/// The ```toml blocks of a document, in order.
fn toml_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_nitro_walkthroughs_configurations_are_what_the_binaries_accept() {
    let blocks = toml_blocks(&repo("docs/deploy-nitro.md"));
    assert_eq!(
        blocks.len(),
        2,
        "the enclave's and the host's configuration"
    );
    let enclave = aip_enclave::config::MeasuredConfig::from_toml(&blocks[0])
        .unwrap_or_else(|e| panic!("{}", aip_wire::process::error_chain(&e)))
        .config;
    assert_eq!(enclave.platform, aip_enclave::config::Platform::Nitro);
    let host = aip_host::config::HostConfig::from_toml(&blocks[1])
        .unwrap_or_else(|e| panic!("{}", aip_wire::process::error_chain(&e)));
    let served = host
        .enclave
        .config
        .as_ref()
        .expect("the host serves the configuration");
    assert_eq!(
        served.listen.to_string(),
        "vsock:4294967295:9001",
        "where the enclave's /init asks for it"
    );
    assert!(
        host.enclave.command.is_none(),
        "nitro-cli starts the enclave, not the host"
    );
    // Every egress target the enclave names is on the host's allowlist.
    let solana = enclave.solana.as_ref().expect("a cluster");
    for target in enclave.lit.nodes.iter().chain(&solana.rpc) {
        assert!(
            host.egress.allow.contains(target),
            "{target} is not allowed out"
        );
    }
}
