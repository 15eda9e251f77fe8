#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The service endpoints over real TLS: creating API keys (the root key, who may mint what,
//! persisted before the answer), bad bodies changing nothing, fresh attestation binding the
//! TLS key, and the ledger export verifying as an auditor would.

use aip_attestation::{clock, BoundKeys, Checks, Evidence, Verifier};
use aip_client::http::{send, Response as HttpResponse};
use aip_enclave::api::keys::KeyRing;
use aip_wire::ledger::{verify_export, LedgerEntry, LedgerHead};
use base64::Engine as _;
use serde_json::{json, Value};

mod common;
use common::api::{start, Api};

async fn call(api: &Api, method: &str, path: &str, key: Option<&str>, body: &[u8]) -> HttpResponse {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    send(
        &api.endpoint,
        api.config(),
        method,
        path,
        &headers,
        body.to_vec(),
    )
    .await
    .unwrap()
}

async fn create(api: &Api, key: Option<&str>, body: Value) -> HttpResponse {
    call(
        api,
        "POST",
        "/v1/agent-keys",
        key,
        body.to_string().as_bytes(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_keys_attestation_and_the_ledger_export() {
    // The operator's root key is pinned by its SHA-256 (the measured configuration does it).
    let root = aip_wire::api_key::generate();
    let mut ring = KeyRing::default();
    ring.pin_root(&aip_wire::api_key::lookup_hex(&root));
    let api = start("endpoints", ring, 0).await;

    // No bootstrap: the operator's certificate alone creates nothing, even with no key stored.
    let bare = create(&api, None, json!({"label": "x", "scopes": ["full"]})).await;
    assert_eq!(
        (bare.status, bare.error_code().as_deref()),
        (401, Some("unauthorized"))
    );
    assert_eq!(api.state.head().unwrap().seq, 0, "nothing recorded");
    let first = create(
        &api,
        Some(&root),
        json!({"label": "operator", "scopes": ["full"]}),
    )
    .await;
    assert_eq!(first.status, 201, "{first:?}");
    let full = first.json()["key"].as_str().unwrap().to_owned();
    assert!(full.starts_with("zai_"));
    assert_eq!(api.state.head().unwrap().seq, 1);

    let manager = create(
        &api,
        Some(&full),
        json!({"label": "delegates", "scopes": ["manage_delegates"]}),
    )
    .await;
    assert_eq!(manager.status, 201, "{manager:?}");
    let manager = manager.json()["key"].as_str().unwrap().to_owned();
    let agent = create(
        &api,
        Some(&manager),
        json!({"label": "agent-7", "scopes": ["create_payments"], "rate": {"burst": 5, "per_minute": 60}}),
    )
    .await;
    assert_eq!(agent.status, 201, "{agent:?}");
    assert_eq!(agent.json()["rate"]["burst"], 5);
    let escalation = create(
        &api,
        Some(&manager),
        json!({"label": "x", "scopes": ["full"]}),
    )
    .await;
    assert_eq!(
        (escalation.status, escalation.error_code().as_deref()),
        (403, Some("scope_missing"))
    );
    let agent_key = agent.json()["key"].as_str().unwrap().to_owned();
    let by_agent = create(
        &api,
        Some(&agent_key),
        json!({"label": "x", "scopes": ["read_analytics"]}),
    )
    .await;
    assert_eq!(by_agent.error_code().as_deref(), Some("scope_missing"));

    // Bad bodies: each refused with its code, nothing stored, the ledger unchanged.
    let seq = api.state.head().unwrap().seq;
    for (body, status, code) in [
        (
            br#"{"label":"x","scopes":["full"],"admin":true}"#.to_vec(),
            400,
            "bad_request",
        ),
        (
            br#"{"label":"x","scopes":["root"]}"#.to_vec(),
            400,
            "bad_request",
        ),
        (br#"{"label":"x","#.to_vec(), 400, "bad_request"),
        (
            br#"{"label":"","scopes":["full"]}"#.to_vec(),
            400,
            "bad_request",
        ),
        (br#"{"label":"x","scopes":[]}"#.to_vec(), 400, "bad_request"),
        (
            br#"{"label":"x","scopes":["full"],"rate":{"burst":0,"per_minute":1}}"#.to_vec(),
            400,
            "bad_request",
        ),
        (vec![b' '; 70_000], 413, "body_too_large"),
    ] {
        let response = call(&api, "POST", "/v1/agent-keys", Some(&full), &body).await;
        assert_eq!(
            (response.status, response.error_code().as_deref()),
            (status, Some(code)),
            "{response:?}"
        );
    }
    assert_eq!(api.state.head().unwrap().seq, seq);
    assert_eq!(api.state.store.list("keys/").await.unwrap().len(), 3);

    // Attestation for a nonce, checked as a client would: dev root, nonce, bound TLS key.
    let nonce = [0x5au8; 24];
    let attested = call(
        &api,
        "GET",
        &format!("/v1/attestation?nonce={}", hex::encode(nonce)),
        None,
        b"",
    )
    .await;
    assert_eq!(attested.status, 200, "{attested:?}");
    let body = attested.json();
    let evidence = Evidence::from_json(&body["evidence"].to_string()).unwrap();
    let bound = &body["boundKeys"];
    let keys = BoundKeys {
        tls_spki_der: base64::engine::general_purpose::STANDARD
            .decode(bound["tlsSpkiDer"].as_str().unwrap())
            .unwrap(),
        signing_public_key: hex::decode(bound["signingPublicKey"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        release_address: hex::decode(
            bound["releaseAddress"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
        )
        .unwrap()
        .try_into()
        .unwrap(),
        config_sha256: hex::decode(bound["configSha256"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
    };
    assert_eq!(keys.tls_spki_der, api.tls.spki_der());
    let verifier = Verifier::new()
        .unwrap()
        .trust_dev_root(api.dev_root_pem.as_bytes())
        .unwrap();
    let mut checks = Checks::at(clock::now());
    checks.nonce = Some(&nonce);
    checks.bound_keys = Some(&keys);
    verifier.verify(&evidence, &checks).unwrap();
    let other_nonce = [0u8; 24];
    checks.nonce = Some(&other_nonce);
    assert!(verifier.verify(&evidence, &checks).is_err());
    for query in ["", "?nonce=", "?nonce=zz", "?nonce=00&x=1"] {
        let refused = call(&api, "GET", &format!("/v1/attestation{query}"), None, b"").await;
        assert_eq!(
            (refused.status, refused.error_code().as_deref()),
            (400, Some("bad_request")),
            "{query}"
        );
    }

    // The ledger export verifies against the signed head and the enclave's key.
    let export = call(&api, "GET", "/v1/ledger?from=1", Some(&full), b"").await;
    assert_eq!(export.status, 200, "{export:?}");
    let body = export.json();
    let entries: Vec<LedgerEntry> = serde_json::from_value(body["entries"].clone()).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.kind == "api_key_created"));
    assert!(
        entries.iter().all(|e| !e.body.contains("zai_")),
        "no key text in the ledger"
    );
    let head = LedgerHead::from_header(body["head"].as_str().unwrap()).unwrap();
    verify_export(&entries, &head, &api.ledger_key.verifying_key()).unwrap();
    let denied = call(&api, "GET", "/v1/ledger?from=1", Some(&agent_key), b"").await;
    assert_eq!(denied.error_code().as_deref(), Some("scope_missing"));
    let _ = std::fs::remove_dir_all(&api.dir);
}
