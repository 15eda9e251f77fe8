//! The host end of the control channel: the enclave's blob store, time hints and health.
//!
//! One request, one answer, in order, per connection. Store calls run on the blocking pool
//! (SQLite fsyncs); an answer is sent only after the store returned, so `Stored` means
//! durable. A malformed frame or message ends that connection and is logged; it changes
//! nothing in the store.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aip_wire::control::{receive, send, ControlRequest, ControlResponse};
use aip_wire::frame::DEFAULT_FRAME_CAP;
use aip_wire::process::error_chain;
use aip_wire::{Listener, Stream, WireError};

use crate::metrics::{HostMetrics, OpLabels};
use crate::store::{BlobStore, PutOutcome};

/// Accepts control connections until the listener fails.
pub async fn serve_control(
    listener: Listener,
    store: Arc<Mutex<BlobStore>>,
    metrics: Arc<HostMetrics>,
) -> Result<(), WireError> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let store = Arc::clone(&store);
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(error) = serve_connection(stream, store, metrics).await {
                tracing::warn!(%peer, %error, "control connection closed");
            }
        });
    }
}

async fn serve_connection(
    mut stream: Stream,
    store: Arc<Mutex<BlobStore>>,
    metrics: Arc<HostMetrics>,
) -> Result<(), WireError> {
    while let Some(request) = receive::<_, ControlRequest>(&mut stream, DEFAULT_FRAME_CAP).await? {
        if let ControlRequest::Metrics { samples } = request {
            let response = match metrics.set_enclave(samples) {
                Ok(()) => ControlResponse::Healthy,
                Err(reason) => ControlResponse::Failed { reason },
            };
            send(&mut stream, &response, DEFAULT_FRAME_CAP).await?;
            continue;
        }
        if let ControlRequest::Logs { lines, dropped } = request {
            let response = crate::enclave_logs::write(&lines, dropped, &metrics);
            send(&mut stream, &response, DEFAULT_FRAME_CAP).await?;
            continue;
        }
        let store = Arc::clone(&store);
        let op = operation(&request);
        let started = std::time::Instant::now();
        let response = tokio::task::spawn_blocking(move || answer(&store, request))
            .await
            .unwrap_or_else(|_| ControlResponse::Failed {
                reason: "the store task failed".into(),
            });
        metrics
            .store_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics
            .store_ops
            .get_or_create(&OpLabels {
                op: op.into(),
                outcome: outcome(&response).into(),
            })
            .inc();
        send(&mut stream, &response, DEFAULT_FRAME_CAP).await?;
    }
    Ok(())
}

/// The answer to one request.
pub fn answer(store: &Mutex<BlobStore>, request: ControlRequest) -> ControlResponse {
    let failed = |reason: String| ControlResponse::Failed { reason };
    match request {
        ControlRequest::Time => match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(now) => ControlResponse::Time {
                unix_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            },
            Err(_) => failed("the host clock is before 1970".into()),
        },
        ControlRequest::Health => ControlResponse::Healthy,
        store_request => {
            let Ok(mut store) = store.lock() else {
                return failed("the store is unavailable after an earlier failure".into());
            };
            let result = match store_request {
                ControlRequest::Put {
                    key,
                    expected,
                    version,
                    data,
                } => store
                    .put(&key, expected, version, &data)
                    .map(|outcome| match outcome {
                        PutOutcome::Stored { version } => ControlResponse::Stored { version },
                        PutOutcome::Conflict { current } => ControlResponse::Conflict { current },
                    }),
                ControlRequest::Get { key } => store.get(&key).map(|found| match found {
                    Some((version, data)) => ControlResponse::Found { version, data },
                    None => ControlResponse::Missing,
                }),
                ControlRequest::List { prefix } => store
                    .list(&prefix)
                    .map(|entries| ControlResponse::Keys { entries }),
                // Answered above without the store.
                ControlRequest::Time
                | ControlRequest::Health
                | ControlRequest::Metrics { .. }
                | ControlRequest::Logs { .. } => Ok(failed("not a store request".into())),
            };
            result.unwrap_or_else(|e| failed(error_chain(&e)))
        }
    }
}

fn operation(request: &ControlRequest) -> &'static str {
    match request {
        ControlRequest::Put { .. } => "put",
        ControlRequest::Get { .. } => "get",
        ControlRequest::List { .. } => "list",
        ControlRequest::Time => "time",
        ControlRequest::Health => "health",
        ControlRequest::Metrics { .. } => "metrics",
        ControlRequest::Logs { .. } => "logs",
    }
}

fn outcome(response: &ControlResponse) -> &'static str {
    match response {
        ControlResponse::Stored { .. } => "stored",
        ControlResponse::Found { .. } => "found",
        ControlResponse::Missing => "missing",
        ControlResponse::Conflict { .. } => "conflict",
        ControlResponse::Keys { .. } => "keys",
        ControlResponse::Time { .. } => "time",
        ControlResponse::Healthy => "healthy",
        ControlResponse::Failed { .. } => "failed",
    }
}
