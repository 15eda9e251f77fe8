//! HTTP/1.1 for both directions that need it: [`handshake`] starts it over any byte stream
//! and [`request`] sends one request on it and reads the capped answer (the enclave's egress
//! to Lit nodes and RPC endpoints, through `http_pool`); [`send`] does that over mutual TLS to
//! the signer, on any aip-wire endpoint (`tcp:` to a host's public port, `unix:` in tests), on
//! a connection of its own, and [`send_kept`] on connections kept open (`http_pool`).

use std::sync::Arc;

use crate::http_pool::{ConnectionPool, PooledError};
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

/// HTTP/1.1's request half of a connection (the connection itself runs on a task of its own
/// until either side closes it or every sender is dropped).
pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One request, as [`request`] sends it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The `host` header.
    pub host: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// Most body bytes read from the answer.
    pub cap: usize,
}

/// Starts HTTP/1.1 over `io`.
pub async fn handshake<IO>(io: IO) -> Result<Sender, ExchangeError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(ExchangeError::Http)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "an HTTP/1.1 client connection ended with an error");
        }
    });
    Ok(sender)
}

/// Why a request on an established connection failed, and whether it was never sent.
#[derive(Debug)]
pub struct RequestError {
    pub error: ExchangeError,
    /// The connection took none of the request: sending it elsewhere cannot repeat it.
    pub unsent: bool,
}

/// Sends one request on `sender` and reads the whole answer, at most `request.cap` bytes of
/// body.
pub async fn request(
    sender: &mut Sender,
    request: &Request<'_>,
    body: Bytes,
) -> Result<Response, RequestError> {
    let failed = |error, unsent| RequestError { error, unsent };
    sender
        .ready()
        .await
        .map_err(|e| failed(ExchangeError::Http(e), true))?;
    let mut builder = hyper::Request::builder()
        .method(request.method)
        .uri(request.path)
        .header("host", request.host);
    for (name, value) in request.headers {
        builder = builder.header(*name, *value);
    }
    let built = builder
        .body(Full::new(body))
        .map_err(|e| failed(ExchangeError::Request(e.to_string()), true))?;
    let response = sender.try_send_request(built).await.map_err(|mut e| {
        let unsent = e.take_message().is_some();
        failed(ExchangeError::Http(e.into_error()), unsent)
    })?;
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
    let body = Limited::new(response.into_body(), request.cap)
        .collect()
        .await
        .map_err(|_| failed(ExchangeError::Body(request.cap), false))?
        .to_bytes()
        .to_vec();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A new mutually authenticated connection to the signer at `endpoint`, ready for HTTP/1.1.
async fn connect_signer(
    endpoint: &Endpoint,
    config: Arc<ClientConfig>,
) -> Result<Sender, HttpError> {
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
    handshake(tls)
        .await
        .map_err(|e| HttpError::Exchange(target, e))
}

/// Sends one request with `config` (which decides the client certificate and how the server
/// is trusted) on a connection of its own, and reads the whole answer.
pub async fn send(
    endpoint: &Endpoint,
    config: Arc<ClientConfig>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Response, HttpError> {
    // A pool of its own, dropped (and the connection closed) with the answer.
    let pool = ConnectionPool::new();
    send_kept(&pool, endpoint, &config, method, path, headers, body).await
}

/// As [`send`], on a connection kept in `pool` when there is one. Only a `GET` is repeated
/// on a new connection after the kept one failed mid-request (a `POST` is repeated only if
/// the kept connection took none of it).
pub async fn send_kept(
    pool: &ConnectionPool,
    endpoint: &Endpoint,
    config: &Arc<ClientConfig>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Response, HttpError> {
    let target = endpoint.to_string();
    let parts = Request {
        host: "aip-signer",
        method,
        path,
        headers,
        cap: MAX_RESPONSE_BYTES,
    };
    let connect = || connect_signer(endpoint, Arc::clone(config));
    pool.send(&target, connect, &parts, Bytes::from(body), method == "GET")
        .await
        .map_err(|e| match e {
            PooledError::Connect(e) => e,
            PooledError::Exchange(e) => HttpError::Exchange(target.clone(), e),
        })
}
