//! An HTTP resource that answers 402 (x402 v2), paid through the signer: fetch it; on 402,
//! read its requirements (the `PAYMENT-REQUIRED` header, base64 JSON, or else the JSON body),
//! have the signer pay them within the session's intent (`POST /v1/x402/pay`), and fetch it
//! again with the `PAYMENT-SIGNATURE` header. The signer decides what may be paid; this side
//! only carries documents. `http://` and `https://` (the web's roots) URLs.

use std::sync::Arc;

use aip_wire::https::{handshake, request, ExchangeError, Request, Response};
use aip_wire::payments::{X402Pay, X402PayAnswer};
use base64::Engine as _;
use hyper::body::Bytes;
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::signer::{Signer, SignerError};

/// Most bytes of a resource's answer read.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{0:?} is not an http:// or https:// URL with a host")]
    Url(String),
    #[error("connecting to {0}")]
    Connect(String, #[source] std::io::Error),
    #[error("TLS with {0}")]
    Tls(String, #[source] std::io::Error),
    #[error("TLS configuration")]
    TlsConfig(#[source] rustls::Error),
    #[error("HTTP with {0}")]
    Http(String, #[source] ExchangeError),
    #[error("the 402 answer carries no x402 payment requirements (no PAYMENT-REQUIRED header, no JSON body)")]
    NoRequirements,
    #[error("the signer did not pay")]
    Signer(#[source] SignerError),
    #[error("the resource refused the payment: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
}

/// What fetching a resource came to.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// It did not ask for payment: its answer as is.
    Unpaid(Response),
    /// It asked, the signer paid, and it answered the paid request.
    Paid {
        payment: Box<X402PayAnswer>,
        answer: Response,
        /// The decoded `PAYMENT-RESPONSE` header (the facilitator's settlement), if sent.
        settlement: Option<Value>,
    },
}

/// Fetches `url` (GET), paying a 402 with `agent_id`'s session on `session_key_id` under
/// `idempotency_key` (the same key again never pays twice).
pub async fn get_paying(
    signer: &Signer,
    url: &str,
    agent_id: &str,
    session_key_id: &str,
    idempotency_key: &str,
) -> Result<Fetched, ResourceError> {
    let first = get(url, None).await?;
    if first.status != 402 {
        return Ok(Fetched::Unpaid(first));
    }
    let payment_required = requirements(&first).ok_or(ResourceError::NoRequirements)?;
    let payment = signer
        .x402_pay(&X402Pay {
            agent_id: agent_id.to_owned(),
            session_key_id: session_key_id.to_owned(),
            payment_required,
            idempotency_key: idempotency_key.to_owned(),
        })
        .await
        .map_err(ResourceError::Signer)?;
    let answer = get(url, Some(&payment.payment_signature_header)).await?;
    if !(200..300).contains(&answer.status) {
        return Err(ResourceError::Refused {
            status: answer.status,
            body: String::from_utf8_lossy(&answer.body)
                .chars()
                .take(512)
                .collect(),
        });
    }
    let settlement = answer.header("PAYMENT-RESPONSE").and_then(decode_header);
    Ok(Fetched::Paid {
        payment: Box::new(payment),
        answer,
        settlement,
    })
}

/// The requirements of a 402 answer: the v2 header, or the body (v1 servers, or v2 servers
/// that repeat it there).
fn requirements(answer: &Response) -> Option<Value> {
    answer
        .header("PAYMENT-REQUIRED")
        .and_then(decode_header)
        .or_else(|| serde_json::from_slice::<Value>(&answer.body).ok())
        .filter(|document| document.get("accepts").is_some())
}

fn decode_header(value: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// One GET on a connection of its own.
async fn get(url: &str, payment_signature: Option<&str>) -> Result<Response, ResourceError> {
    let bad = || ResourceError::Url(url.to_owned());
    let uri: hyper::Uri = url.parse().map_err(|_| bad())?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(bad()),
    };
    let host = uri.host().ok_or_else(bad)?.to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri.authority().map(ToString::to_string).ok_or_else(bad)?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| ResourceError::Connect(authority.clone(), e))?;
    let http_error = |e| ResourceError::Http(authority.clone(), e);
    let mut sender = if https {
        let name = ServerName::try_from(host.clone()).map_err(|_| bad())?;
        let tls = tokio_rustls::TlsConnector::from(web_roots()?)
            .connect(name, tcp)
            .await
            .map_err(|e| ResourceError::Tls(authority.clone(), e))?;
        handshake(tls).await.map_err(http_error)?
    } else {
        handshake(tcp).await.map_err(http_error)?
    };
    let mut headers = vec![("accept", "application/json")];
    if let Some(value) = payment_signature {
        headers.push(("PAYMENT-SIGNATURE", value));
    }
    request(
        &mut sender,
        &Request {
            host: &authority,
            method: "GET",
            path: &path,
            headers: &headers,
            cap: MAX_BODY_BYTES,
        },
        Bytes::new(),
    )
    .await
    .map_err(|e| ResourceError::Http(authority.clone(), e.error))
}

fn web_roots() -> Result<Arc<rustls::ClientConfig>, ResourceError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(ResourceError::TlsConfig)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}
