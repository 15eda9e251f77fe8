//! The enclave's client of the host's blob store (the control channel). The host holds only
//! sealed bytes; versions make every write a compare-and-set, so a host or a second enclave
//! that wrote in between turns a write into a `Conflict` instead of a silent overwrite.

use std::sync::atomic::{AtomicUsize, Ordering};

use aip_wire::control::{receive, send, ControlRequest, ControlResponse, KeyVersion, MetricSample};
use aip_wire::frame::DEFAULT_FRAME_CAP;
use aip_wire::{Endpoint, Stream, WireError};
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum HostStoreError {
    #[error("the host's control channel")]
    Wire(#[from] WireError),
    #[error("the host closed the control channel")]
    Closed,
    #[error("the host did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    #[error("the host's store failed: {0}")]
    Failed(String),
    #[error("the host answered {0:?} to a {1} request")]
    Unexpected(Box<ControlResponse>, &'static str),
}

/// How often a write whose answer was lost is tried in all, and the pause before the n-th
/// read-back (n times this).
const PUT_ATTEMPTS: u32 = 4;
const PUT_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);
/// A host that holds a request longer than this is treated as having lost it (SQLite's fsync
/// takes milliseconds; a wedged connection must not hold the store's lock forever).
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The outcome of a versioned write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Stored { version: u64 },
    Conflict { current: Option<u64> },
}

/// How many connections to the host's control endpoint one store keeps at most. A
/// connection carries one request at a time; with several, payments in flight write at once
/// and the host commits their writes together (one fsync for all) instead of in turn.
pub const CONNECTIONS: usize = 8;

/// Connections to the host's control endpoint, opened as concurrent requests need them and
/// reopened after a failure.
#[derive(Debug)]
pub struct HostStore {
    endpoint: Endpoint,
    connections: [Mutex<Option<Stream>>; CONNECTIONS],
    /// Which connection a request waits for when all are busy.
    next: AtomicUsize,
}

impl HostStore {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            connections: std::array::from_fn(|_| Mutex::new(None)),
            next: AtomicUsize::new(0),
        }
    }

    /// One request, one answer, on a free connection (or, all busy, the next in turn). A
    /// broken connection is dropped, so the next call reconnects; the failed call itself is
    /// reported, never retried blindly (a write may have landed).
    async fn ask(&self, request: &ControlRequest) -> Result<ControlResponse, HostStoreError> {
        let free = self
            .connections
            .iter()
            .find_map(|slot| slot.try_lock().ok());
        let mut slot = match free {
            Some(slot) => slot,
            None => {
                let turn = self.next.fetch_add(1, Ordering::Relaxed) % CONNECTIONS;
                self.connections[turn].lock().await
            }
        };
        if slot.is_none() {
            *slot = Some(Stream::connect(&self.endpoint).await?);
        }
        let outcome = match slot.as_mut() {
            Some(stream) => tokio::time::timeout(ANSWER_TIMEOUT, exchange(stream, request))
                .await
                .unwrap_or(Err(HostStoreError::TimedOut(ANSWER_TIMEOUT))),
            None => Err(HostStoreError::Closed),
        };
        if outcome.is_err() {
            *slot = None;
        }
        outcome
    }

    /// A compare-and-set write, safe to repeat: when the answer is lost (the connection broke
    /// after the request went out, or the host dropped the reply), the record is read back
    /// over a new connection. Our exact bytes at our version mean the write landed (sealed
    /// bytes carry a random nonce, so no other write produces them); the expected version
    /// still in place means it did not, and it is sent again; anything else is a conflict.
    /// Without this, a lost reply left the caller's version stale and every later write to
    /// that record (an account, the ledger head) failed until a restart.
    pub async fn put(
        &self,
        key: &str,
        expected: Option<u64>,
        version: u64,
        data: Vec<u8>,
    ) -> Result<Written, HostStoreError> {
        let request = ControlRequest::Put {
            key: key.to_owned(),
            expected,
            version,
            data,
        };
        let ControlRequest::Put { data, .. } = &request else {
            return Err(HostStoreError::Closed);
        };
        let mut attempt = 0;
        loop {
            let lost = match self.ask(&request).await {
                Ok(ControlResponse::Stored { version }) => return Ok(Written::Stored { version }),
                Ok(ControlResponse::Conflict { current }) => {
                    return Ok(Written::Conflict { current })
                }
                Ok(ControlResponse::Failed { reason }) => {
                    return Err(HostStoreError::Failed(reason))
                }
                Ok(other) => return Err(HostStoreError::Unexpected(Box::new(other), "put")),
                Err(
                    lost @ (HostStoreError::Wire(_)
                    | HostStoreError::Closed
                    | HostStoreError::TimedOut(_)),
                ) => lost,
                Err(other) => return Err(other),
            };
            attempt += 1;
            tracing::warn!(record = key, attempt, error = %lost, "the answer to a store write was lost; reading the record back");
            tokio::time::sleep(PUT_RETRY_PAUSE * attempt).await;
            match self.get(key).await {
                Ok(Some((current, stored))) if current == version && stored == *data => {
                    return Ok(Written::Stored { version })
                }
                Ok(Some((current, _))) if Some(current) != expected => {
                    return Ok(Written::Conflict {
                        current: Some(current),
                    })
                }
                Ok(None) if expected.is_some() => return Ok(Written::Conflict { current: None }),
                // Still as before the write: it did not land.
                Ok(_) if attempt < PUT_ATTEMPTS => continue,
                Ok(_) => return Err(lost),
                Err(error) if attempt < PUT_ATTEMPTS => {
                    tracing::warn!(record = key, %error, "reading a record back failed");
                    continue;
                }
                Err(_) => return Err(lost),
            }
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, HostStoreError> {
        match self
            .ask(&ControlRequest::Get {
                key: key.to_owned(),
            })
            .await?
        {
            ControlResponse::Found { version, data } => Ok(Some((version, data))),
            ControlResponse::Missing => Ok(None),
            ControlResponse::Failed { reason } => Err(HostStoreError::Failed(reason)),
            other => Err(HostStoreError::Unexpected(Box::new(other), "get")),
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<KeyVersion>, HostStoreError> {
        match self
            .ask(&ControlRequest::List {
                prefix: prefix.to_owned(),
            })
            .await?
        {
            ControlResponse::Keys { entries } => Ok(entries),
            ControlResponse::Failed { reason } => Err(HostStoreError::Failed(reason)),
            other => Err(HostStoreError::Unexpected(Box::new(other), "list")),
        }
    }
}

impl HostStore {
    /// The host's wall clock (a hint: see `crate::clock`).
    pub async fn time_hint(&self) -> Result<u64, HostStoreError> {
        match self.ask(&ControlRequest::Time).await? {
            ControlResponse::Time { unix_ms } => Ok(unix_ms),
            ControlResponse::Failed { reason } => Err(HostStoreError::Failed(reason)),
            other => Err(HostStoreError::Unexpected(Box::new(other), "time")),
        }
    }

    /// A batch of the enclave's log lines for the host to write.
    pub async fn ship_logs(&self, lines: Vec<String>, dropped: u64) -> Result<(), HostStoreError> {
        match self.ask(&ControlRequest::Logs { lines, dropped }).await? {
            ControlResponse::Healthy => Ok(()),
            ControlResponse::Failed { reason } => Err(HostStoreError::Failed(reason)),
            other => Err(HostStoreError::Unexpected(Box::new(other), "logs")),
        }
    }

    /// The enclave's counters for the host's `/metrics`.
    pub async fn report_metrics(&self, samples: Vec<MetricSample>) -> Result<(), HostStoreError> {
        match self.ask(&ControlRequest::Metrics { samples }).await? {
            ControlResponse::Healthy => Ok(()),
            ControlResponse::Failed { reason } => Err(HostStoreError::Failed(reason)),
            other => Err(HostStoreError::Unexpected(Box::new(other), "metrics")),
        }
    }
}

async fn exchange(
    stream: &mut Stream,
    request: &ControlRequest,
) -> Result<ControlResponse, HostStoreError> {
    send(stream, request, DEFAULT_FRAME_CAP).await?;
    receive(stream, DEFAULT_FRAME_CAP)
        .await?
        .ok_or(HostStoreError::Closed)
}
