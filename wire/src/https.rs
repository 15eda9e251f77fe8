//! HTTP/1.1 for both directions that need it: [`exchange`] sends one request over any byte
//! stream and reads the capped answer (the enclave uses it to Lit nodes through the egress
//! proxy); [`send`] does that over mutual TLS to the signer, on any aip-wire endpoint
//! (`tcp:` to a host's public port, `unix:` in tests). One connection per request.

use std::sync::Arc;

use crate::{Endpoint, Stream};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

/// Largest answer read.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connecting to {0}")]
    Connect(String, #[source] crate::WireError),
    #[error("TLS with {0}")]
    Tls(String, #[source] std::io::Error),
    #[error("HTTP with {0}")]
    Exchange(String, #[source] ExchangeError),
}

/// What can go wrong in one request/answer on an established stream.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("HTTP/1.1")]
    Http(#[source] hyper::Error),
    #[error("building the request: {0}")]
    Request(String),
    #[error("the answer is larger than {0} bytes or broke off")]
    Body(usize),
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The `error.code` of a JSON error answer.
    pub fn error_code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }
}

/// Sends one request over `io` and reads the whole answer, at most `cap` bytes of body.
pub async fn exchange<IO>(
    io: IO,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    cap: usize,
) -> Result<Response, ExchangeError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(ExchangeError::Http)?;
    let driver = tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| ExchangeError::Request(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(ExchangeError::Http)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = Limited::new(response.into_body(), cap)
        .collect()
        .await
        .map_err(|_| ExchangeError::Body(cap))?
        .to_bytes()
        .to_vec();
    driver.abort();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Sends one request with `config` (which decides the client certificate and how the server
/// is trusted) and reads the whole answer.
pub async fn send(
    endpoint: &Endpoint,
    config: Arc<ClientConfig>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Response, HttpError> {
    let target = endpoint.to_string();
    let stream = Stream::connect(endpoint)
        .await
        .map_err(|e| HttpError::Connect(target.clone(), e))?;
    let name = ServerName::try_from("aip-signer")
        .map_err(|e| HttpError::Exchange(target.clone(), ExchangeError::Request(e.to_string())))?;
    let tls = TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|e| HttpError::Tls(target.clone(), e))?;
    exchange(
        tls,
        "aip-signer",
        method,
        path,
        headers,
        body,
        MAX_RESPONSE_BYTES,
    )
    .await
    .map_err(|e| HttpError::Exchange(target, e))
}
