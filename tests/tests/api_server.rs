#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The enclave's API served inside TLS over an aip-wire listener (as the host forwards it):
//! authorization, scopes, rate limits, JSON error codes and the ledger head on every response.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aip_client::tls::OperatorCa;
use aip_enclave::api::keys::{issue, KeyRing};
use aip_enclave::api::rate::RateLimit;
use aip_enclave::api::routes::{router, ApiState};
use aip_enclave::api::scope::Scope;
use aip_enclave::api::server::serve;
use aip_enclave::api::tls::TlsIdentity;
use aip_tests::https::{client_config, request};
use aip_tests::unix_now;
use aip_wire::ledger::LedgerHead;
use aip_wire::{Endpoint, Listener};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_scopes_rate_limits_and_the_ledger_head() {
    let identity = TlsIdentity::generate("localhost").unwrap();
    let operator = OperatorCa::generate("operator").unwrap();
    let ledger_key = SigningKey::generate(&mut OsRng);
    let head = LedgerHead::sign(&ledger_key, 3, [9u8; 32]);

    let (reader, reader_record) = issue(
        "auditor",
        BTreeSet::from([Scope::ReadAnalytics]),
        RateLimit {
            burst: 3,
            per_minute: 1,
        },
        0,
    )
    .unwrap();
    let (payer, payer_record) = issue(
        "backend",
        BTreeSet::from([Scope::CreatePayments]),
        RateLimit::DEFAULT,
        0,
    )
    .unwrap();
    let mut keys = KeyRing::default();
    keys.insert(reader_record);
    keys.insert(payer_record);
    let state = Arc::new(ApiState {
        keys: Mutex::new(keys),
        buckets: Mutex::new(HashMap::new()),
        ledger_head: Mutex::new(head),
        started: Instant::now(),
        platform: "dev".into(),
    });

    let dir = std::env::temp_dir().join(format!("aip-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let endpoint = Endpoint::Unix(dir.join("ingress.sock"));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let tls = identity.server_config(operator.certificate_pem()).unwrap();
    tokio::spawn(serve(listener, tls, router(Arc::clone(&state))));

    let client = operator
        .issue_client("backend", unix_now() - 60, unix_now() + 3600)
        .unwrap();
    let config = client_config(
        identity.spki_sha256(),
        Some((&client.certificate_pem, &client.key_pem)),
    );
    let get = |path: &'static str, headers: Vec<(&'static str, String)>| {
        let config = Arc::clone(&config);
        let endpoint = endpoint.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            request(&endpoint, config, "GET", path, &headers, b"")
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
        assert_eq!(ok.json()["hash"], hex::encode([9u8; 32]));
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
    let anonymous = client_config(identity.spki_sha256(), None);
    assert!(request(&endpoint, anonymous, "GET", "/v1/health", &[], b"")
        .await
        .is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
