#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The service as real processes: Lit devnet, aip-host (SQLite store, egress allowlist,
//! metrics) supervising aip-enclave (dev attestation of its own executable). Boot, attested
//! first contact (library and `aip-attest fetch`), the first API key, a restart that recovers
//! the state key through Lit, a rolled-back store caught by the client's ledger head, a
//! tampering proxy that breaks TLS and stores nothing, and a boot that fails closed when the
//! egress allowlist leaves too few Lit nodes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use aip_client::http::send;
use aip_client::tls::pinned_config;
use aip_tests::service::{Stack, StackOptions};
use aip_wire::ledger::{verify_chain, LedgerEntry, LedgerHead};
use aip_wire::Endpoint;
use serde_json::json;

const UP: Duration = Duration::from_secs(90);

/// Requests to the stack's public port (or another address) with the operator's client
/// certificate, trusting the server key `pin`.
struct Client<'a> {
    stack: &'a Stack,
    endpoint: Endpoint,
    pin: [u8; 32],
}

impl Client<'_> {
    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<aip_client::http::Response, aip_client::http::HttpError> {
        let config = pinned_config(self.pin, Some(self.stack.client_pem())).unwrap();
        send(&self.endpoint, config, method, path, headers, body).await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> aip_client::http::Response {
        self.send("GET", path, headers, vec![]).await.unwrap()
    }

    async fn create_key(
        &self,
        bearer: Option<&str>,
        body: serde_json::Value,
    ) -> Result<aip_client::http::Response, aip_client::http::HttpError> {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = bearer {
            headers.push(("authorization", bearer));
        }
        self.send(
            "POST",
            "/v1/agent-keys",
            &headers,
            body.to_string().into_bytes(),
        )
        .await
    }

    async fn head(&self) -> LedgerHead {
        let response = self.get("/v1/health", &[]).await;
        LedgerHead::from_header(response.header("x-ledger-head").unwrap()).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_restart_rollback_and_tampering() {
    let mut stack = Stack::start("main", StackOptions::default());
    let pin = stack.wait_attested(UP).await;
    let endpoint = stack.endpoint();

    // aip-attest fetch: valid with the dev root, refused without it.
    let dir = stack.dir.clone();
    std::fs::write(dir.join("client.pem"), &stack.client.certificate_pem).unwrap();
    std::fs::write(dir.join("client.key"), stack.client.key_pem.as_bytes()).unwrap();
    let fetch = |extra: &[&str]| {
        Command::new(&stack.binaries.attest)
            .args(["fetch", "--url", &endpoint.to_string(), "--json"])
            .arg("--client-cert")
            .arg(dir.join("client.pem"))
            .arg("--client-key")
            .arg(dir.join("client.key"))
            .args(extra)
            .output()
            .unwrap()
    };
    let root = dir.join("dev-root.pem");
    let ok = fetch(&["--trust-dev-root", root.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(printed["spkiSha256"], hex::encode(pin));
    let refused = fetch(&[]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("does not verify"), "{why}");

    // The first API key, made with the operator's root key (pinned in the configuration).
    let client = Client {
        stack: &stack,
        endpoint: endpoint.clone(),
        pin,
    };
    let root = format!("Bearer {}", stack.root_api_key.as_str());
    let created = client
        .create_key(
            Some(&root),
            json!({"label": "operator", "scopes": ["full"]}),
        )
        .await
        .unwrap();
    assert_eq!(
        created.status,
        201,
        "{:?}",
        String::from_utf8_lossy(&created.body)
    );
    let bearer = format!("Bearer {}", created.json()["key"].as_str().unwrap());
    let head_seen = LedgerHead::from_header(created.header("x-ledger-head").unwrap()).unwrap();
    assert_eq!(head_seen.seq, 2, "boot entry, then the key");

    // Snapshot the store, restart: a new TLS key, the same state key, the key still valid.
    stack.stop_host();
    let snapshot = stack.dir.join("store-snapshot.db");
    stack.snapshot_store(&snapshot);
    stack.start_host();
    let client = Client {
        stack: &stack,
        endpoint: endpoint.clone(),
        pin: stack.wait_attested(UP).await,
    };
    assert_ne!(client.pin, pin, "each boot makes its own TLS key");
    let ledger = client
        .get("/v1/ledger?from=1", &[("authorization", &bearer)])
        .await;
    assert_eq!(
        ledger.status, 200,
        "the key made before the restart still works"
    );
    let entries: Vec<LedgerEntry> =
        serde_json::from_value(ledger.json()["entries"].clone()).unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["enclave_booted", "api_key_created", "enclave_booted"]
    );
    // Both boots name the deployment whose state key they derived; the second opened the
    // first one's sealed key record, so it derived the same key.
    for boot in [&entries[0], &entries[2]] {
        assert!(
            boot.body.contains("\"deployment\":\"test-main\""),
            "{}",
            boot.body
        );
    }
    verify_chain((0, [0; 32]), &entries).unwrap();
    let now_ms = aip_tests::unix_now() as u64 * 1000;
    assert!(
        entries.iter().all(|e| e.at_ms.abs_diff(now_ms) < 600_000),
        "ledger times are wall time: {:?} vs {now_ms}",
        entries.iter().map(|e| e.at_ms).collect::<Vec<_>>()
    );
    // A key created after the snapshot.
    let second = client
        .create_key(
            Some(&bearer),
            json!({"label": "agent", "scopes": ["read_analytics"]}),
        )
        .await
        .unwrap();
    assert_eq!(second.status, 201);
    let second_bearer = format!("Bearer {}", second.json()["key"].as_str().unwrap());
    let latest = LedgerHead::from_header(second.header("x-ledger-head").unwrap()).unwrap();
    assert_eq!(latest.seq, 4);

    // The operator restores the older store copy: the enclave boots on it (same state key),
    // and a client that remembers the later head is told its state was rolled back.
    stack.stop_host();
    stack.restore_store(&snapshot);
    stack.start_host();
    let client = Client {
        stack: &stack,
        endpoint: endpoint.clone(),
        pin: stack.wait_attested(UP).await,
    };
    let caught = client
        .get("/v1/health", &[("x-ledger-head", &latest.to_header())])
        .await;
    assert_eq!(
        (caught.status, caught.error_code().as_deref()),
        (409, Some("rollback_detected"))
    );
    // The key created after the snapshot is gone with it; the one before is not.
    let gone = client
        .get("/v1/ledger/head", &[("authorization", &second_bearer)])
        .await;
    assert_eq!(gone.error_code().as_deref(), Some("unauthorized"));
    assert_eq!(
        client
            .get("/v1/ledger/head", &[("authorization", &bearer)])
            .await
            .status,
        200
    );

    // A proxy that flips one byte of the server's handshake: TLS breaks before the request
    // is sent, nothing is created.
    let before = client.head().await;
    let tampering = Client {
        stack: &stack,
        endpoint: Endpoint::Tcp(tampering_proxy(stack.public, 100)),
        pin: client.pin,
    };
    let tampered = tampering
        .create_key(Some(&bearer), json!({"label": "x", "scopes": ["full"]}))
        .await;
    assert!(tampered.is_err(), "{tampered:?}");
    assert_eq!(client.head().await.seq, before.seq, "nothing was recorded");

    // Host metrics: what the host saw (store, egress to the Lit nodes, one enclave start in
    // this host process) and what the enclave reported of itself (requests by route, status
    // and error code; its Lit release at boot).
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = http_get(stack.metrics, "/metrics");
        if metrics.contains("aip_enclave_requests_total")
            && metrics.contains("code=\"unauthorized\"")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for needle in [
        "aip_host_store_operations_total{op=\"put\",outcome=\"stored\"}",
        "aip_host_store_groups_total",
        "outcome=\"connected\"",
        "aip_host_enclave_starts_total 1",
        "aip_enclave_requests_total{code=\"rollback_detected\",route=\"*\",status=\"409\"} 1",
        "aip_enclave_requests_total{code=\"unauthorized\",route=\"/v1/ledger/head\",status=\"401\"} 1",
        "aip_enclave_lit_release_ms_count 1",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_reachable_lit_nodes_and_the_enclave_never_serves() {
    let stack = Stack::start(
        "egress",
        StackOptions {
            allowed_nodes: 1,
            ..StackOptions::default()
        },
    );
    let deadline = std::time::Instant::now() + UP;
    loop {
        let log = stack.host_log();
        if log.contains("boot failed; not serving") {
            assert!(log.contains("\"stage\":\"state_key\""), "{log}");
            assert!(log.contains("lit_threshold_unmet"), "{log}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no boot failure logged:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing answers on the public port: the host forwards, the enclave is not listening.
    let client = Client {
        stack: &stack,
        endpoint: stack.endpoint(),
        pin: [0; 32],
    };
    assert!(client.send("GET", "/v1/health", &[], vec![]).await.is_err());
}

/// A TCP proxy to `target` that flips one bit of the server's bytes after `after` bytes.
fn tampering_proxy(target: std::net::SocketAddr, after: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let server = TcpStream::connect(target).unwrap();
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
            });
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let mut seen = 0usize;
                let mut buffer = [0u8; 4096];
                loop {
                    let Ok(n) = s_read.read(&mut buffer) else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    if seen <= after && after < seen + n {
                        buffer[after - seen] ^= 0x01;
                    }
                    seen += n;
                    if c_write.write_all(&buffer[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    address
}

fn http_get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

/// The request matrix against the real binaries: each bad request refused with its own code
/// (or no TLS at all), and nothing recorded by any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mtls_and_request_matrix_against_the_binaries() {
    let stack = Stack::start("matrix", StackOptions::default());
    let pin = stack.wait_attested(UP).await;
    let endpoint = stack.endpoint();
    let client = Client {
        stack: &stack,
        endpoint: endpoint.clone(),
        pin,
    };
    let root = format!("Bearer {}", stack.root_api_key.as_str());
    let operator = client
        .create_key(
            Some(&root),
            json!({"label": "operator", "scopes": ["full"]}),
        )
        .await
        .unwrap();
    let full = format!("Bearer {}", operator.json()["key"].as_str().unwrap());
    let limited = client
        .create_key(Some(&full), json!({"label": "slow", "scopes": ["read_analytics"], "rate": {"burst": 1, "per_minute": 1}}))
        .await
        .unwrap();
    let limited = format!("Bearer {}", limited.json()["key"].as_str().unwrap());
    let before = client.head().await;

    // TLS: no certificate, another CA's, an expired one.
    let now = aip_tests::unix_now();
    let stranger = aip_client::tls::OperatorCa::generate("another CA").unwrap();
    let foreign = stranger
        .issue_client("backend", now - 60, now + 3600)
        .unwrap();
    let expired = stack
        .operator
        .issue_client("backend", now - 7200, now - 3600)
        .unwrap();
    let no_cert = pinned_config(pin, None).unwrap();
    assert!(send(&endpoint, no_cert, "GET", "/v1/health", &[], vec![])
        .await
        .is_err());
    for issued in [&foreign, &expired] {
        let config = pinned_config(pin, Some((&issued.certificate_pem, &issued.key_pem))).unwrap();
        assert!(send(&endpoint, config, "GET", "/v1/health", &[], vec![])
            .await
            .is_err());
    }

    // Requests: (method, path, authorization, body, status, code)
    let wrong = format!("Bearer zai_{}", "7".repeat(64));
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/v1/ledger/head",
            Some(&wrong),
            vec![],
            401,
            "unauthorized",
        ),
        ("GET", "/v1/ledger/head", None, vec![], 401, "unauthorized"),
        (
            "POST",
            "/v1/agent-keys",
            Some(&limited),
            br#"{"label":"x","scopes":["full"]}"#.to_vec(),
            403,
            "scope_missing",
        ),
        (
            "POST",
            "/v1/agent-keys",
            Some(&full),
            vec![b'x'; 100_000],
            413,
            "body_too_large",
        ),
        (
            "POST",
            "/v1/agent-keys",
            Some(&full),
            b"{not json".to_vec(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/agent-keys",
            Some(&full),
            br#"{"label":"x","scopes":["full"],"extra":1}"#.to_vec(),
            400,
            "bad_request",
        ),
        ("GET", "/v1/ledger/head", Some(&limited), vec![], 200, ""),
        (
            "GET",
            "/v1/ledger/head",
            Some(&limited),
            vec![],
            429,
            "rate_limited",
        ),
        (
            "GET",
            "/v1/attestation?nonce=xyz",
            None,
            vec![],
            400,
            "bad_request",
        ),
    ];
    for (method, path, auth, body, status, code) in cases {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = auth {
            headers.push(("authorization", auth));
        }
        let response = client.send(method, path, &headers, body).await.unwrap();
        assert_eq!(
            response.status,
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&response.body)
        );
        if !code.is_empty() {
            assert_eq!(
                response.error_code().as_deref(),
                Some(code),
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        client.head().await.seq,
        before.seq,
        "no refused request recorded anything"
    );
}
