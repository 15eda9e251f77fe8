#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The ingress and egress proxies over real sockets: bytes pass unchanged, and egress reaches
//! only what the allowlist names.

use std::sync::Arc;

use aip_host::metrics::HostMetrics;
use aip_host::proxy::{serve_egress, serve_ingress, EgressAllowlist};
use aip_wire::egress::connect_via_host;
use aip_wire::{Endpoint, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn socket(name: &str) -> Endpoint {
    let dir = std::env::temp_dir().join(format!("aip-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Endpoint::Unix(dir.join(name))
}

/// A TCP server that answers every connection by echoing what it reads.
async fn tcp_echo() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn egress_reaches_allowlisted_targets_only() {
    let port = tcp_echo().await;
    let endpoint = socket("egress.sock");
    let listener = Listener::bind(&endpoint).await.unwrap();
    let allowlist = Arc::new(EgressAllowlist::new([format!("127.0.0.1:{port}")]));
    let metrics = HostMetrics::new();
    tokio::spawn(serve_egress(listener, allowlist, Arc::clone(&metrics)));

    let mut stream = connect_via_host(&endpoint, "127.0.0.1", port)
        .await
        .unwrap()
        .expect("allowlisted");
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let (mut r, mut w) = tokio::io::split(&mut stream);
    let writer = async {
        w.write_all(&payload).await.unwrap();
        w.flush().await.unwrap();
    };
    let mut back = vec![0u8; payload.len()];
    let reader = r.read_exact(&mut back);
    let ((), read) = tokio::join!(writer, reader);
    read.unwrap();
    assert_eq!(back, payload);

    for (host, p) in [
        ("127.0.0.1", port.wrapping_add(1)),
        ("localhost", port),
        ("metadata.internal", 80),
    ] {
        let refused = connect_via_host(&endpoint, host, p)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            refused.contains("not on the host's egress allowlist"),
            "{host}:{p}: {refused}"
        );
    }
    let exposed = metrics.render();
    assert!(
        exposed.contains(&format!(
            r#"aip_host_egress_requests_total{{op="127.0.0.1:{port}",outcome="connected"}} 1"#
        )),
        "{exposed}"
    );
    assert!(
        exposed.contains(r#"aip_host_egress_requests_total{op="not_allowed",outcome="refused"} 3"#),
        "{exposed}"
    );
}

#[tokio::test]
async fn ingress_joins_public_clients_to_the_enclave() {
    // The "enclave": echoes on its ingress endpoint.
    let enclave = socket("ingress.sock");
    let inside = Listener::bind(&enclave).await.unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = inside.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = tokio::io::split(&mut s);
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let public = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = public.local_addr().unwrap();
    tokio::spawn(serve_ingress(public, enclave, HostMetrics::new()));

    for _ in 0..3 {
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        let payload = vec![0x5au8; 1 << 20];
        let (mut r, mut w) = client.split();
        let writer = async {
            w.write_all(&payload).await.unwrap();
        };
        let mut back = vec![0u8; payload.len()];
        let ((), read) = tokio::join!(writer, r.read_exact(&mut back));
        read.unwrap();
        assert_eq!(back, payload);
    }
}
