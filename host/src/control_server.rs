//! The host end of the control channel: the enclave's blob store, time hints and health.
//!
//! One request, one answer, in order, per connection; the enclave keeps several connections
//! so its payments do not queue behind one another's writes. Store requests from every
//! connection go to one committer thread, which runs those waiting together as one group (one
//! transaction, one fsync: `store`), so concurrent writes share a commit instead of each
//! waiting for its own. An answer is sent only after its group committed, so `Stored` means
//! durable. A malformed frame or message ends that connection and is logged; it changes
//! nothing in the store.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aip_wire::control::{receive, send, ControlRequest, ControlResponse};
use aip_wire::frame::DEFAULT_FRAME_CAP;
use aip_wire::process::error_chain;
use aip_wire::{Listener, Stream, WireError};
use tokio::sync::{mpsc, oneshot};

use crate::metrics::{HostMetrics, OpLabels};
use crate::store::{BlobStore, Group, PutOutcome};

/// Most requests one group commits (a bound on how long the first of them waits).
pub const MAX_GROUP: usize = 64;

/// A store request and where its answer goes.
type Queued = (ControlRequest, oneshot::Sender<ControlResponse>);

/// Accepts control connections until the listener fails.
pub async fn serve_control(
    listener: Listener,
    store: Arc<Mutex<BlobStore>>,
    metrics: Arc<HostMetrics>,
) -> Result<(), WireError> {
    let committer = start_committer(store, Arc::clone(&metrics));
    loop {
        let (stream, peer) = listener.accept().await?;
        let committer = committer.clone();
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(error) = serve_connection(stream, committer, metrics).await {
                tracing::warn!(%peer, %error, "control connection closed");
            }
        });
    }
}

async fn serve_connection(
    mut stream: Stream,
    committer: mpsc::Sender<Queued>,
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
        let op = operation(&request);
        let started = std::time::Instant::now();
        let (reply, answered) = oneshot::channel();
        let stopped = || ControlResponse::Failed {
            reason: "the store's committer stopped".into(),
        };
        let response = match committer.send((request, reply)).await {
            Ok(()) => answered.await.unwrap_or_else(|_| stopped()),
            Err(_) => stopped(),
        };
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

/// The committer: a thread that takes the queued store requests, up to [`MAX_GROUP`] at a
/// time, runs them as one group and answers each after the group's commit. It stops when
/// every connection (and `serve_control`) has dropped its sender.
fn start_committer(
    store: Arc<Mutex<BlobStore>>,
    metrics: Arc<HostMetrics>,
) -> mpsc::Sender<Queued> {
    let (queue, mut queued) = mpsc::channel::<Queued>(4 * MAX_GROUP);
    std::thread::Builder::new()
        .name("store-committer".into())
        .spawn(move || {
            while let Some(first) = queued.blocking_recv() {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match queued.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                let (requests, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                if requests
                    .iter()
                    .any(|r| matches!(r, ControlRequest::Put { .. }))
                {
                    metrics.store_groups.inc();
                }
                for (reply, response) in replies.into_iter().zip(answer_group(&store, requests)) {
                    // A connection that went away no longer wants its answer.
                    let _ = reply.send(response);
                }
            }
        })
        .map_or_else(
            |error| {
                // Without a committer every store request is answered `Failed`.
                tracing::error!(%error, "the store's committer thread could not start");
                mpsc::channel(1).0
            },
            |_| queue,
        )
}

/// The answer to one request, alone in its group.
pub fn answer(store: &Mutex<BlobStore>, request: ControlRequest) -> ControlResponse {
    answer_group(store, vec![request])
        .pop()
        .unwrap_or_else(|| ControlResponse::Failed {
            reason: "no answer".into(),
        })
}

/// The answers to `requests`, run in order as one group: one per request, all given after the
/// group's commit; if the commit fails, every request in the group is answered `Failed`
/// (nothing it wrote was kept).
pub fn answer_group(
    store: &Mutex<BlobStore>,
    requests: Vec<ControlRequest>,
) -> Vec<ControlResponse> {
    let failed = |reason: String| ControlResponse::Failed { reason };
    let count = requests.len();
    let Ok(mut store) = store.lock() else {
        return vec![failed("the store is unavailable after an earlier failure".into()); count];
    };
    let answers = store.group(|group| {
        requests
            .into_iter()
            .map(|request| answer_in(group, request))
            .collect::<Vec<_>>()
    });
    answers.unwrap_or_else(|error| vec![failed(error_chain(&error)); count])
}

fn answer_in(group: &mut Group<'_>, request: ControlRequest) -> ControlResponse {
    let failed = |reason: String| ControlResponse::Failed { reason };
    let result = match request {
        ControlRequest::Time => {
            return match SystemTime::now().duration_since(UNIX_EPOCH) {
                Ok(now) => ControlResponse::Time {
                    unix_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
                },
                Err(_) => failed("the host clock is before 1970".into()),
            }
        }
        ControlRequest::Health => return ControlResponse::Healthy,
        ControlRequest::Put {
            key,
            expected,
            version,
            data,
        } => group
            .put(&key, expected, version, &data)
            .map(|outcome| match outcome {
                PutOutcome::Stored { version } => ControlResponse::Stored { version },
                PutOutcome::Conflict { current } => ControlResponse::Conflict { current },
            }),
        ControlRequest::Get { key } => group.get(&key).map(|found| match found {
            Some((version, data)) => ControlResponse::Found { version, data },
            None => ControlResponse::Missing,
        }),
        ControlRequest::List { prefix } => group
            .list(&prefix)
            .map(|entries| ControlResponse::Keys { entries }),
        // Answered by the connection, without the store.
        ControlRequest::Metrics { .. } | ControlRequest::Logs { .. } => {
            return failed("not a store request".into())
        }
    };
    result.unwrap_or_else(|e| failed(error_chain(&e)))
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
