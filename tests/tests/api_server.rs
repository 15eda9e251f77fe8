#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The enclave's API served inside TLS over an aip-wire listener (as the host forwards it):
//! authorization, scopes, rate limits, JSON error codes and the ledger head on every response.

use std::collections::BTreeSet;
use std::sync::Arc;

use aip_client::http::send;
use aip_client::tls::pinned_config;
use aip_enclave::api::keys::{issue, KeyRing};
use aip_enclave::api::rate::RateLimit;
use aip_enclave::api::scope::Scope;
use aip_wire::ledger::LedgerHead;

mod common;
use common::api::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_scopes_rate_limits_and_the_ledger_head() {
    let (reader, reader_record) = issue(
        "auditor",
        BTreeSet::from([Scope::ReadAnalytics]),
        RateLimit {
            burst: 3,
            per_minute: 1,
        },
        None,
        0,
    )
    .unwrap();
    let (payer, payer_record) = issue(
        "backend",
        BTreeSet::from([Scope::CreatePayments]),
        RateLimit::DEFAULT,
        None,
        0,
    )
    .unwrap();
    let mut keys = KeyRing::default();
    keys.insert(reader_record);
    keys.insert(payer_record);
    let api = start("authorization", keys, 3).await;
    let head = api.state.head().unwrap();
    assert_eq!(head.seq, 3);
    let ledger_key = api.ledger_key.clone();
    let (endpoint, config, identity, dir) = (
        api.endpoint.clone(),
        api.config(),
        &api.tls,
        api.dir.clone(),
    );
    let get = |path: &'static str, headers: Vec<(&'static str, String)>| {
        let config = Arc::clone(&config);
        let endpoint = endpoint.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            send(&endpoint, config, "GET", path, &headers, b"".to_vec())
                .await
                .unwrap()
        }
    };
    let bearer = |key: &str| vec![("authorization", format!("Bearer {key}"))];

    let health = get("/v1/health", vec![]).await;
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(health.json()["status"], "serving");
    let signed = LedgerHead::from_header(health.header("x-ledger-head").unwrap()).unwrap();
    assert_eq!(signed, head);
    signed.verify(&ledger_key.verifying_key()).unwrap();

    // (request, status, code)
    let no_key = get("/v1/ledger/head", vec![]).await;
    assert_eq!(
        (no_key.status, no_key.error_code().as_deref()),
        (401, Some("unauthorized"))
    );
    let wrong = get(
        "/v1/ledger/head",
        bearer(&format!("zai_{}", "1".repeat(64))),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.error_code().as_deref()),
        (401, Some("unauthorized"))
    );
    let malformed = get("/v1/ledger/head", bearer("zai_short")).await;
    assert_eq!(malformed.error_code().as_deref(), Some("unauthorized"));
    let unscoped = get("/v1/ledger/head", bearer(&payer.secret)).await;
    assert_eq!(
        (unscoped.status, unscoped.error_code().as_deref()),
        (403, Some("scope_missing"))
    );

    for _ in 0..3 {
        let ok = get("/v1/ledger/head", bearer(&reader.secret)).await;
        assert_eq!(ok.status, 200, "{ok:?}");
        assert_eq!(ok.json()["seq"], 3);
        assert_eq!(ok.json()["hash"], hex::encode(head.hash));
    }
    let limited = get("/v1/ledger/head", bearer(&reader.secret)).await;
    assert_eq!(
        (limited.status, limited.error_code().as_deref()),
        (429, Some("rate_limited"))
    );
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(limited.header("x-ledger-head").is_some());

    // A client that saw a later head: the enclave's state was rolled back.
    let ahead = LedgerHead::sign(&ledger_key, 4, [1u8; 32]).to_header();
    let rollback = get("/v1/health", vec![("x-ledger-head", ahead)]).await;
    assert_eq!(
        (rollback.status, rollback.error_code().as_deref()),
        (409, Some("rollback_detected"))
    );
    let same = get("/v1/health", vec![("x-ledger-head", head.to_header())]).await;
    assert_eq!(same.status, 200);
    let garbled = get("/v1/health", vec![("x-ledger-head", "3:zz".into())]).await;
    assert_eq!(
        (garbled.status, garbled.error_code().as_deref()),
        (400, Some("bad_request"))
    );

    let missing = get("/v1/nothing", vec![]).await;
    assert_eq!(
        (missing.status, missing.error_code().as_deref()),
        (404, Some("not_found"))
    );

    // Without a client certificate there is no HTTP at all.
    let anonymous = pinned_config(identity.spki_sha256(), None).unwrap();
    assert!(
        send(&endpoint, anonymous, "GET", "/v1/health", &[], b"".to_vec())
            .await
            .is_err()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
