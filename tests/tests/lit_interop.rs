#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Lit's own client code against our Lit devnet: `interop/lit-rust-sdk` (lit-rust-sdk 1.0 and
//! lit-sdk 2.0, no line of ours) handshakes, hashes conditions, encrypts, signs in with a
//! wallet and a session key, asks every node twice (as `LitClient::decrypt` does, and through
//! lit-sdk's `EncryptionSignRequest`), and decrypts with the shares. The devnet is what the
//! enclave's tests run against, so the enclave's Lit dialect is checked against code that no
//! one here wrote, in both directions (aip-lit's E2EE and session vectors cover the enclave's
//! side byte for byte).

use std::process::Command;

use aip_tests::devnet::LitDevnet;

/// The interop client: `AIP_LIT_INTEROP_BIN`, or its debug build in the repository
/// (`scripts/test` builds it).
fn interop_binary() -> std::path::PathBuf {
    std::env::var_os("AIP_LIT_INTEROP_BIN")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../interop/lit-rust-sdk/target/debug/lit-interop")
        })
}

fn run(net: &LitDevnet) -> serde_json::Value {
    let binary = interop_binary();
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build --locked --manifest-path interop/lit-rust-sdk/Cargo.toml` (scripts/test does)",
        binary.display()
    );
    let mut command = Command::new(binary);
    command.args(["--threshold", &net.threshold.to_string()]);
    for node in &net.nodes {
        command.args(["--node", node]);
    }
    let output = command.output().unwrap();
    let line = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("{e}: {line} {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(
        output.status.success(),
        report["ok"] == true,
        "exit status and report disagree: {report}"
    );
    report
}

fn data_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("aip-lit-interop-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.display().to_string()
}

#[test]
fn lits_rust_sdk_decrypts_through_the_devnet() {
    // Plain HTTP: Lit's clients trust only the web PKI, and the dialect is what is checked here
    // (the enclave's tests run the same nodes over HTTPS).
    let net = LitDevnet::start(&[
        "--nodes",
        "4",
        "--data-dir",
        &data_dir("ok"),
        "--always-true-conditions",
    ]);
    let report = run(&net);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["shares"]["client"], 4, "{report}");
    assert_eq!(report["shares"]["sdk"], 4, "{report}");
    assert!(report["identity"]
        .as_str()
        .unwrap()
        .starts_with("lit-accesscontrolcondition://"));
}

#[test]
fn lits_rust_sdk_gets_the_nodes_refusal() {
    // The same client, nodes that cannot evaluate the chain condition: no share, and the
    // node's reason reaches Lit's client through the sealed answer.
    let net = LitDevnet::start(&["--nodes", "3", "--data-dir", &data_dir("refused")]);
    let report = run(&net);
    assert_eq!(report["ok"], false, "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("needs chain access"), "{error}");
}
