//! JSON over HTTPS through the host's egress proxy: Lit nodes and Solana JSON-RPC.
//!
//! The host only connects the bytes (its allowlist decides where); TLS ends here, in the
//! enclave, against trust roots from the measured configuration (the public web PKI for real
//! endpoints, a local CA for the devnets). There is no plain-HTTP path: a host that could read
//! or forge these exchanges would see every transaction and could answer every chain read and
//! Lit request itself (docs/threat-model.md). Answers are capped in size and in time.

use std::sync::Arc;
use std::time::Duration;

use aip_wire::egress::connect_via_host;
use aip_wire::http_pool::{ConnectionPool, PooledError};
use aip_wire::https::{self, ExchangeError};
use aip_wire::Endpoint;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::Value;
use tokio_rustls::TlsConnector;

use crate::config::EgressTlsConfig;

/// Largest node answer read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum EgressTlsError {
    #[error("egress_tls.ca_pem holds no certificate")]
    NoCertificate,
    #[error("egress_tls.ca_pem is not PEM")]
    Pem(#[source] rustls::pki_types::pem::Error),
    #[error("egress_tls.ca_pem: a certificate rustls does not accept as a root")]
    Root(#[source] rustls::Error),
    #[error("the TLS client configuration")]
    Config(#[source] rustls::Error),
}

/// The way out of the enclave: the host's egress proxy, and TLS that ends in here; the
/// connections kept open to each target (a payment talks to each Lit node and RPC endpoint
/// several times).
#[derive(Clone)]
pub struct Egress {
    pub endpoint: Endpoint,
    tls: TlsConnector,
    pool: Arc<ConnectionPool>,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Egress {
    /// Through `endpoint`, trusting the roots `trust` names.
    pub fn new(endpoint: Endpoint, trust: &EgressTlsConfig) -> Result<Self, EgressTlsError> {
        Ok(Self {
            endpoint,
            tls: TlsConnector::from(tls_client_config(trust)?),
            pool: Arc::new(ConnectionPool::new()),
        })
    }
}

/// The egress's TLS client configuration: the roots `trust` names, TLS 1.3 and 1.2, ring.
/// (Test clients of the devnets use it too, with the devnets' CA.)
pub fn tls_client_config(trust: &EgressTlsConfig) -> Result<Arc<ClientConfig>, EgressTlsError> {
    let mut roots = RootCertStore::empty();
    if trust.web_pki {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(pem) = &trust.ca_pem {
        use rustls::pki_types::pem::PemObject;
        let certificates: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(EgressTlsError::Pem)?;
        if certificates.is_empty() {
            return Err(EgressTlsError::NoCertificate);
        }
        for certificate in certificates {
            roots.add(certificate).map_err(EgressTlsError::Root)?;
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(EgressTlsError::Config)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug, thiserror::Error)]
pub enum EgressJsonError {
    #[error("the host refused egress to {target}: {reason}")]
    Refused { target: String, reason: String },
    #[error("egress to {target}")]
    Egress {
        target: String,
        #[source]
        source: aip_wire::WireError,
    },
    #[error("{target} is not a name or address TLS can verify")]
    ServerName { target: String },
    #[error("TLS with {target}")]
    Tls {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP with {target}")]
    Exchange {
        target: String,
        #[source]
        source: ExchangeError,
    },
    #[error("{target} answered {status}: {body}")]
    Status {
        target: String,
        status: u16,
        body: String,
    },
    #[error("{target} answered something that is not JSON")]
    NotJson { target: String },
    #[error("{target} did not answer within {0:?}", .timeout)]
    Timeout { target: String, timeout: Duration },
    #[error("the request body for {target} does not serialize")]
    Body {
        target: String,
        #[source]
        source: serde_json::Error,
    },
}

/// POSTs `body` to `https://host:port/path` through the egress proxy; the JSON answer of a 2xx.
pub async fn post_json(
    egress: &Egress,
    host: &str,
    port: u16,
    path: &str,
    body: &Value,
    timeout: Duration,
) -> Result<Value, EgressJsonError> {
    let target = format!("{host}:{port}");
    let (status, answer) = post(egress, host, port, path, body, timeout).await?;
    if !(200..300).contains(&status) {
        return Err(EgressJsonError::Status {
            target,
            status,
            body: String::from_utf8_lossy(&answer).chars().take(300).collect(),
        });
    }
    serde_json::from_slice(&answer).map_err(|_| EgressJsonError::NotJson { target })
}

/// POSTs `body` as [`post_json`] does; the status and body of any answer (a Naga node seals
/// its refusals too, so the body of a 401 is read like that of a 200). The body is serialized
/// straight from its type: a sealed Lit request, tens of kilobytes of hex, made a
/// `serde_json::Value` first cost a copy and a second pass over it.
pub async fn post(
    egress: &Egress,
    host: &str,
    port: u16,
    path: &str,
    body: &impl serde::Serialize,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), EgressJsonError> {
    let target = format!("{host}:{port}");
    let body = serde_json::to_vec(body).map_err(|source| EgressJsonError::Body {
        target: target.clone(),
        source,
    })?;
    tokio::time::timeout(timeout, exchange(egress, host, port, path, body, &target))
        .await
        .map_err(|_| EgressJsonError::Timeout {
            target: target.clone(),
            timeout,
        })?
}

async fn exchange(
    egress: &Egress,
    host: &str,
    port: u16,
    path: &str,
    body: Vec<u8>,
    target: &str,
) -> Result<(u16, Vec<u8>), EgressJsonError> {
    let server_name =
        ServerName::try_from(host.to_owned()).map_err(|_| EgressJsonError::ServerName {
            target: target.to_owned(),
        })?;
    // A new connection: through the host's proxy (its allowlist decides), then TLS here.
    let connect = || async {
        let stream = connect_via_host(&egress.endpoint, host, port)
            .await
            .map_err(|source| EgressJsonError::Egress {
                target: target.to_owned(),
                source,
            })?
            .map_err(|reason| EgressJsonError::Refused {
                target: target.to_owned(),
                reason,
            })?;
        let stream = egress
            .tls
            .connect(server_name.clone(), stream)
            .await
            .map_err(|source| EgressJsonError::Tls {
                target: target.to_owned(),
                source,
            })?;
        https::handshake(stream)
            .await
            .map_err(|source| EgressJsonError::Exchange {
                target: target.to_owned(),
                source,
            })
    };
    let headers = [("content-type", "application/json")];
    let parts = https::Request {
        host: target,
        method: "POST",
        path,
        headers: &headers,
        cap: MAX_ANSWER_BYTES,
    };
    // Every request the enclave sends this way is safe to repeat (a Lit node answers the
    // same sealed request with the same share; JSON-RPC reads, and a transaction lands once).
    let response = egress
        .pool
        .send(target, connect, &parts, body.into(), true)
        .await
        .map_err(|e| match e {
            PooledError::Connect(e) => e,
            PooledError::Exchange(source) => EgressJsonError::Exchange {
                target: target.to_owned(),
                source,
            },
        })?;
    Ok((response.status, response.body))
}
