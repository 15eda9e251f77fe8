#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The API's mutual TLS over real sockets: the enclave's server configuration against the
//! client's pinning verifier, with good and bad client certificates.

use std::sync::Arc;

use aip_client::tls::pinned_config;
use aip_client::tls::{spki_sha256, Issued, OperatorCa};
use aip_enclave::api::tls::TlsIdentity;
use aip_tests::unix_now;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A TLS echo server with the enclave's configuration; returns its port.
async fn server(identity: &TlsIdentity, operator_ca_pem: &str) -> u16 {
    let acceptor = TlsAcceptor::from(identity.server_config(operator_ca_pem).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut byte = [0u8; 1];
                    if tls.read_exact(&mut byte).await.is_ok() {
                        let _ = tls.write_all(&byte).await;
                        let _ = tls.flush().await;
                    }
                }
            });
        }
    });
    port
}

fn with(pin: [u8; 32], issued: &Issued) -> Arc<ClientConfig> {
    pinned_config(pin, Some((&issued.certificate_pem, &issued.key_pem))).unwrap()
}

/// Whether one byte makes the round trip: the handshake and the server's client check passed.
async fn echoes(port: u16, config: Arc<ClientConfig>) -> bool {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let Ok(mut tls) = TlsConnector::from(config).connect(name, tcp).await else {
        return false;
    };
    if tls.write_all(&[42]).await.is_err() || tls.flush().await.is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    tls.read_exact(&mut byte).await.is_ok() && byte == [42]
}

#[tokio::test]
async fn the_client_certificate_matrix() {
    let identity = TlsIdentity::generate("localhost").unwrap();
    assert_eq!(
        spki_sha256(identity.certificate_der()),
        Some(identity.spki_sha256())
    );
    let operator = OperatorCa::generate("operator CA").unwrap();
    let port = server(&identity, operator.certificate_pem()).await;
    let pin = identity.spki_sha256();

    let good = operator
        .issue_client("backend", unix_now() - 60, unix_now() + 3600)
        .unwrap();
    assert!(echoes(port, with(pin, &good)).await);

    // No certificate, another CA's certificate, an expired one, one not yet valid.
    assert!(!echoes(port, pinned_config(pin, None).unwrap()).await);
    let stranger = OperatorCa::generate("another CA").unwrap();
    let foreign = stranger
        .issue_client("backend", unix_now() - 60, unix_now() + 3600)
        .unwrap();
    assert!(!echoes(port, with(pin, &foreign)).await);
    let expired = operator
        .issue_client("backend", unix_now() - 7200, unix_now() - 3600)
        .unwrap();
    assert!(!echoes(port, with(pin, &expired)).await);
    let early = operator
        .issue_client("backend", unix_now() + 3600, unix_now() + 7200)
        .unwrap();
    assert!(!echoes(port, with(pin, &early)).await);

    // The client refuses a server whose key is not the attested one.
    let mut wrong_pin = pin;
    wrong_pin[0] ^= 1;
    assert!(!echoes(port, with(wrong_pin, &good)).await);
}

#[test]
fn the_operator_ca_must_be_a_certificate() {
    let identity = TlsIdentity::generate("localhost").unwrap();
    assert!(identity.server_config("").is_err());
    assert!(identity
        .server_config("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .is_err());
    assert!(!format!("{identity:?}").contains("PRIVATE"));
}
