//! The enclave's client of the host's blob store (the control channel). The host holds only
//! sealed bytes; versions make every write a compare-and-set, so a host or a second enclave
//! that wrote in between turns a write into a `Conflict` instead of a silent overwrite.

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
    #[error("the host's store failed: {0}")]
    Failed(String),
    #[error("the host answered {0:?} to a {1} request")]
    Unexpected(Box<ControlResponse>, &'static str),
}

/// The outcome of a versioned write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Stored { version: u64 },
    Conflict { current: Option<u64> },
}

/// One connection to the host's control endpoint, reopened after a failure.
#[derive(Debug)]
pub struct HostStore {
    endpoint: Endpoint,
    connection: Mutex<Option<Stream>>,
}

impl HostStore {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            connection: Mutex::new(None),
        }
    }

    /// One request, one answer. A broken connection is dropped, so the next call reconnects;
    /// the failed call itself is reported, never retried blindly (a write may have landed).
    async fn ask(&self, request: &ControlRequest) -> Result<ControlResponse, HostStoreError> {
        let mut slot = self.connection.lock().await;
        if slot.is_none() {
            *slot = Some(Stream::connect(&self.endpoint).await?);
        }
        let outcome = match slot.as_mut() {
            Some(stream) => exchange(stream, request).await,
            None => Err(HostStoreError::Closed),
        };
        if outcome.is_err() {
            *slot = None;
        }
        outcome
    }

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
        match self.ask(&request).await? {
            ControlResponse::Stored { version } => Ok(Written::Stored { version }),
            ControlResponse::Conflict { current } => Ok(Written::Conflict { current }),
            ControlResponse::Failed { reason } => Err(HostStoreError::Failed(reason)),
            other => Err(HostStoreError::Unexpected(Box::new(other), "put")),
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
