//! `aip-enclave explain-tx` as operators run it: exit codes and JSON on standard output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../engine/tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn explain_tx(args: &[&str], stdin: Option<&str>) -> (i32, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aip-enclave"))
        .arg("explain-tx")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    let Output { status, stdout, .. } = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&stdout)));
    (status.code().unwrap(), json)
}

fn vector_path(name: &str) -> String {
    common::testdata_dir()
        .join("solana")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn explains_a_signable_transaction_from_a_file() {
    let (code, json) = explain_tx(&[&vector_path("walletcore_token_transfer.b58")], None);
    assert_eq!(code, 0);
    assert_eq!(json["version"], "legacy");
    assert_eq!(
        json["instructions"][0]["action"]["kind"],
        "token_transfer_checked"
    );
    assert_eq!(json["instructions"][0]["action"]["amount"], 4000);
    assert_eq!(json["refusals"], Value::Array(vec![]));
}

#[test]
fn reads_standard_input_in_any_encoding() {
    let bytes = common::solana_vector("tkhq_legacy_sol_transfer_full.hex");
    for text in [
        hex::encode(&bytes),
        bs58::encode(&bytes).into_string(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes),
    ] {
        let (code, json) = explain_tx(&["-"], Some(&text));
        assert_eq!(code, 0, "{json}");
        assert_eq!(json["instructions"][0]["action"]["lamports"], 111);
    }
}

#[test]
fn refusals_exit_1_with_the_reason_and_the_explanation() {
    let (code, json) = explain_tx(
        &[&vector_path("walletcore_transfer_with_durable_nonce.b58")],
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(json["error"]["code"], "durable_nonce_refused");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("AdvanceNonceAccount"));
    assert_eq!(
        json["explanation"]["instructions"][0]["action"]["kind"],
        "advance_nonce_account"
    );

    let (code, json) = explain_tx(&[&vector_path("tkhq_v0_jupiter_full.hex")], None);
    assert_eq!(code, 1);
    assert_eq!(json["error"]["code"], "program_not_allowed");
}

#[test]
fn bad_input_exits_with_its_own_code() {
    let (code, json) = explain_tx(&["-"], Some("abc"));
    assert_eq!(
        (code, json["error"]["code"].as_str()),
        (3, Some("bad_encoding"))
    );
    let (code, json) = explain_tx(&["-"], Some("0102"));
    assert_eq!(
        (code, json["error"]["code"].as_str()),
        (3, Some("malformed_transaction"))
    );
    let (code, json) = explain_tx(&["/nonexistent/tx.b58"], None);
    assert_eq!(
        (code, json["error"]["code"].as_str()),
        (4, Some("input_unreadable"))
    );
}
