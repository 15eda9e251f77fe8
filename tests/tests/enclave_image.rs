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
    let base_default = dockerfile
        .iter()
        .find(|(k, rest)| k == "ARG" && rest.starts_with("BASE="))
        .map(|(_, rest)| rest.trim_start_matches("BASE="))
        .expect("BASE has a default");
    assert!(
        base_default.starts_with("rust:1.95.0-slim-bookworm@sha256:")
            && base_default.len() == "rust:1.95.0-slim-bookworm@sha256:".len() + 64,
        "the default base is the 1.95.0 toolchain pinned by digest: {base_default}"
    );
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

    // One recipe for the static enclave, shared by the Nitro and SEV-SNP builds.
    let recipe = repo("scripts/lib/build-enclave.sh");
    assert!(
        recipe.contains(". \"$root/build.env\""),
        "the flags come from build.env"
    );
    assert!(
        recipe.contains("--locked --release"),
        "a locked release build"
    );
    assert!(
        !recipe.contains("aip-enclave/dev"),
        "never the dev features"
    );
    for (script, command) in [
        ("scripts/build-eif", "build-eif --enclave"),
        ("scripts/build-snp", "build-snp --enclave"),
    ] {
        let text = repo(script);
        assert!(
            text.contains(". \"$root/scripts/lib/build-enclave.sh\""),
            "{script} builds the enclave with the shared recipe"
        );
        assert!(
            !text.contains("cargo build"),
            "{script} has no recipe of its own"
        );
        assert!(text.contains(command), "{script} runs aip-attest {command}");
    }
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

/// A walkthrough's two configurations, parsed by the enclave's and the host's own code.
fn walkthrough_configs(
    doc: &str,
) -> (
    aip_enclave::config::EnclaveConfig,
    aip_host::config::HostConfig,
) {
    let blocks = toml_blocks(&repo(doc));
    assert_eq!(
        blocks.len(),
        2,
        "the enclave's and the host's configuration"
    );
    let enclave = aip_enclave::config::MeasuredConfig::from_toml(&blocks[0])
        .unwrap_or_else(|e| panic!("{}", aip_wire::process::error_chain(&e)))
        .config;
    let host = aip_host::config::HostConfig::from_toml(&blocks[1])
        .unwrap_or_else(|e| panic!("{}", aip_wire::process::error_chain(&e)));
    (enclave, host)
}

#[test]
fn the_nitro_walkthroughs_configurations_are_what_the_binaries_accept() {
    let (enclave, host) = walkthrough_configs("docs/deploy-nitro.md");
    assert_eq!(enclave.platform, aip_enclave::config::Platform::Nitro);
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

#[test]
fn the_sev_walkthroughs_configurations_launch_the_measured_guest() {
    use aip_attestation::image::snp_guest::{self, LaunchSettings, INITRD_FILE, KERNEL, OVMF};
    use aip_wire::Endpoint;

    let (enclave, host) = walkthrough_configs("docs/deploy-sev.md");
    assert_eq!(enclave.platform, aip_enclave::config::Platform::SevSnp);
    // The guest reaches the host at VMADDR_CID_HOST, where /init asks for its configuration.
    for endpoint in [&enclave.transport.control, &enclave.transport.egress] {
        assert!(
            matches!(endpoint, Endpoint::Vsock { cid: 2, .. }),
            "{endpoint} is not the host"
        );
    }
    assert_eq!(
        host.enclave
            .config
            .as_ref()
            .expect("served")
            .listen
            .to_string(),
        "vsock:4294967295:9001"
    );
    let command = host
        .enclave
        .command
        .as_ref()
        .expect("the host launches QEMU");
    assert!(command[0].starts_with("qemu-system-x86_64"));
    let value_of = |flag: &str| -> &str {
        let at = command
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("{flag} missing"));
        &command[at + 1]
    };
    // Every measured argument is the one the measurement was computed for.
    let settings = LaunchSettings {
        vcpus: value_of("-smp").parse().unwrap(),
        vcpu_type: value_of("-cpu").into(),
        guest_features: 0x1,
    };
    let measured = snp_guest::qemu_arguments(&settings, "0x30000");
    for pair in measured.chunks(2) {
        let (flag, expected) = (&pair[0], &pair[1]);
        let given = if flag == "-object" {
            command
                .iter()
                .find(|a| a.starts_with("sev-snp-guest,"))
                .expect("the SNP object")
                .as_str()
        } else {
            value_of(flag)
        };
        match flag.as_str() {
            "-bios" | "-kernel" | "-initrd" => {
                assert!(given.ends_with(&format!("/{expected}")), "{flag} {given}")
            }
            "-machine" => assert!(given.starts_with(expected), "{flag} {given}"),
            _ => assert_eq!(given, expected, "{flag}"),
        }
    }
    assert!(value_of("-kernel").ends_with(KERNEL.name));
    assert!(value_of("-bios").ends_with(OVMF.name));
    assert!(value_of("-initrd").ends_with(INITRD_FILE));
    // The vsock device carries the CID the host dials.
    let Endpoint::Vsock { cid, .. } = host.enclave.ingress else {
        panic!("the host reaches the guest over vsock")
    };
    let device = value_of("-device");
    assert!(
        device.starts_with("vhost-vsock-pci,") && device.contains(&format!("guest-cid={cid},")),
        "{device}"
    );
    for target in enclave
        .lit
        .nodes
        .iter()
        .chain(&enclave.solana.as_ref().expect("a cluster").rpc)
    {
        assert!(
            host.egress.allow.contains(target),
            "{target} is not allowed out"
        );
    }
}
