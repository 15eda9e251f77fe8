//! HTTPS for the devnets, as real Lit nodes and RPC providers serve it: the enclave's egress is
//! TLS only (its trust roots are in its measured configuration), so the local stack exercises
//! the production path. `aip-devnet ca --dir DIR` makes a local CA once (`ca.pem`, `ca.key`);
//! each devnet started with `--tls-dir DIR` issues itself a leaf for 127.0.0.1, ::1 and
//! localhost under it and serves HTTPS only.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const CA_NAME: &str = "aip-devnet local CA";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("making a certificate")]
    Certificate(#[from] rcgen::Error),
    #[error("the TLS server configuration")]
    Config(#[from] rustls::Error),
    #[error("{0} exists: the CA is made once")]
    Exists(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// Makes the CA in `dir` (`ca.pem`, `ca.key` 0600); refuses to replace one.
pub fn make_ca(dir: &Path) -> Result<(), TlsError> {
    let (pem_path, key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
    for path in [&pem_path, &key_path] {
        if path.exists() {
            return Err(TlsError::Exists(path.display().to_string()));
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key = KeyPair::generate()?;
    let certificate = ca_params()?.self_signed(&key)?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_path)
            .and_then(|mut file| file.write_all(key.serialize_pem().as_bytes()))
            .map_err(io(&key_path))?;
    }
    std::fs::write(&pem_path, certificate.pem()).map_err(io(&pem_path))?;
    Ok(())
}

/// A fresh server certificate for 127.0.0.1, ::1 and localhost under the CA in `dir`, with its
/// key.
fn issue_leaf(dir: &Path) -> Result<(rcgen::Certificate, KeyPair), TlsError> {
    let key_path = dir.join("ca.key");
    let ca_key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
    let ca_key = KeyPair::from_pem(&ca_key_pem)?;
    // The issuer is identified by its name and key; re-signing its parameters gives the same.
    let issuer = ca_params()?.self_signed(&ca_key)?;
    let leaf_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params.subject_alt_names.extend([
        SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
    ]);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = params.signed_by(&leaf_key, &issuer, &ca_key)?;
    Ok((leaf, leaf_key))
}

/// Writes a server certificate and key for loopback under the CA in `dir` as
/// `NAME.pem` and `NAME.key` (for other local HTTPS servers, such as a test's RPC stand-in).
pub fn write_leaf(dir: &Path, name: &str) -> Result<(), TlsError> {
    let (leaf, key) = issue_leaf(dir)?;
    let (pem_path, key_path) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&pem_path, leaf.pem()).map_err(io(&pem_path))?;
    std::fs::write(&key_path, key.serialize_pem()).map_err(io(&key_path))?;
    Ok(())
}

/// A TLS acceptor with a fresh leaf for loopback, issued by the CA in `dir`.
pub fn acceptor(dir: &Path) -> Result<TlsAcceptor, TlsError> {
    let (leaf, leaf_key) = issue_leaf(dir)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(leaf.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    )?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` over HTTPS on `listener` until the task is dropped; a connection whose
/// handshake or exchange fails is logged and closed without affecting the others.
pub async fn serve_https(
    listener: TcpListener,
    router: Router,
    acceptor: TlsAcceptor,
) -> std::io::Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await?;
        // Answers go out as several TLS records: without this, Nagle holds the second until
        // the client's delayed ACK (40 ms on Linux) on every request.
        tcp.set_nodelay(true)?;
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(error) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            if let Err(error) = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, %error, "HTTPS connection ended with an error");
            }
        });
    }
}

/// Serves plain HTTP or, with a TLS directory, HTTPS.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    acceptor: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    match acceptor {
        Some(acceptor) => serve_https(listener, router, acceptor).await,
        None => {
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, router).await
        }
    }
}
