//! Kept-alive HTTP/1.1 connections, by target: a request goes out on an idle connection to
//! its target when there is one, and the connection comes back after a whole answer. Every
//! new connection costs a TCP connect through the host, a TLS handshake in here and one on the
//! other side; a payment talks to each Lit node and RPC endpoint several times.
//!
//! Reuse changes nothing a peer or the host can do: a connection is only ever to the server
//! its TLS handshake authenticated, and the host could always cut connections (then a new one
//! is made). A request is repeated on a new connection only when the kept one took none of it,
//! or when the caller says the request is safe to repeat (the enclave's Lit and RPC requests
//! are: a node answers the same request with the same share, a transaction lands once).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::body::Bytes;

use crate::https::{request, ExchangeError, Request, Response, Sender};

/// Idle connections kept per target.
const MAX_IDLE_PER_TARGET: usize = 64;
/// An idle connection older than this is closed rather than reused (servers drop idle ones).
const MAX_IDLE: Duration = Duration::from_secs(20);

/// Idle connections, by target.
#[derive(Default)]
pub struct ConnectionPool {
    idle: Mutex<HashMap<String, Vec<(Sender, Instant)>>>,
}

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("idle", &self.idle())
            .finish()
    }
}

/// Why a pooled request failed.
#[derive(Debug, thiserror::Error)]
pub enum PooledError<E: std::error::Error + 'static> {
    #[error("connecting")]
    Connect(#[source] E),
    #[error("the exchange")]
    Exchange(#[source] ExchangeError),
}

impl ConnectionPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// An idle, open connection to `target`, if any.
    fn take(&self, target: &str) -> Option<Sender> {
        let mut idle = self.idle.lock().ok()?;
        let kept = idle.get_mut(target)?;
        while let Some((sender, since)) = kept.pop() {
            if !sender.is_closed() && since.elapsed() < MAX_IDLE {
                return Some(sender);
            }
        }
        None
    }

    fn give_back(&self, target: &str, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            let kept = idle.entry(target.to_owned()).or_default();
            kept.retain(|(s, since)| !s.is_closed() && since.elapsed() < MAX_IDLE);
            if kept.len() < MAX_IDLE_PER_TARGET {
                kept.push((sender, Instant::now()));
            }
        }
    }

    /// Idle connections kept now (all targets).
    pub fn idle(&self) -> usize {
        self.idle
            .lock()
            .map(|m| m.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Sends `parts` with `body` to `target` on a kept connection, or on a new one from
    /// `connect`. A kept connection that fails is replaced by a new one once: when it took
    /// none of the request, or when `repeatable` says the request is safe to send twice.
    pub async fn send<E, F, Fut>(
        &self,
        target: &str,
        connect: F,
        parts: &Request<'_>,
        body: Bytes,
        repeatable: bool,
    ) -> Result<Response, PooledError<E>>
    where
        E: std::error::Error + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Sender, E>>,
    {
        if let Some(mut sender) = self.take(target) {
            match request(&mut sender, parts, body.clone()).await {
                Ok(response) => {
                    self.give_back(target, sender);
                    return Ok(response);
                }
                Err(failed) if failed.unsent || repeatable => {
                    tracing::debug!(target, error = %failed.error, "a kept connection failed; trying a new one");
                }
                Err(failed) => return Err(PooledError::Exchange(failed.error)),
            }
        }
        let mut sender = connect().await.map_err(PooledError::Connect)?;
        let response = request(&mut sender, parts, body)
            .await
            .map_err(|failed| PooledError::Exchange(failed.error))?;
        self.give_back(target, sender);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A tiny HTTP/1.1 server on loopback that answers every request with its connection's
    /// number and closes each connection after `per_connection` answers.
    async fn server(per_connection: usize) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let served = Arc::new(AtomicUsize::new(0));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| {
                        let count = served.fetch_add(1, Ordering::SeqCst) + 1;
                        async move {
                            let mut response = hyper::Response::new(http_body_util::Full::new(
                                Bytes::from(number.to_string()),
                            ));
                            if count >= per_connection {
                                response.headers_mut().insert(
                                    "connection",
                                    hyper::header::HeaderValue::from_static("close"),
                                );
                            }
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        (addr, accepted)
    }

    async fn get(pool: &ConnectionPool, addr: std::net::SocketAddr) -> String {
        let parts = Request {
            host: "test",
            method: "GET",
            path: "/",
            headers: &[],
            cap: 1024,
        };
        let connect = || async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            crate::https::handshake(tcp)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        };
        let response = pool
            .send("target", connect, &parts, Bytes::new(), false)
            .await
            .unwrap();
        String::from_utf8(response.body).unwrap()
    }

    #[tokio::test]
    async fn connections_are_reused_and_replaced_when_the_server_closes_them() {
        let (addr, accepted) = server(3).await;
        let pool = ConnectionPool::new();
        let answers: Vec<String> = {
            let mut out = Vec::new();
            for _ in 0..7 {
                out.push(get(&pool, addr).await);
            }
            out
        };
        // Three answers per connection, then the server closes it and a new one is made.
        assert_eq!(answers, ["1", "1", "1", "2", "2", "2", "3"]);
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        assert_eq!(pool.idle(), 1);
    }

    #[tokio::test]
    async fn a_kept_connection_the_server_dropped_is_replaced() {
        // A server that answers as if the connection stayed open, then drops it.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut tcp, _) = listener.accept().await.unwrap();
                let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = tcp.read(&mut buf).await.unwrap();
                    request.extend_from_slice(&buf[..n]);
                }
                let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n{number}");
                tcp.write_all(answer.as_bytes()).await.unwrap();
                drop(tcp);
            }
        });
        let pool = ConnectionPool::new();
        assert_eq!(get(&pool, addr).await, "1");
        assert_eq!(get(&pool, addr).await, "2");
        assert_eq!(get(&pool, addr).await, "3");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }
}
