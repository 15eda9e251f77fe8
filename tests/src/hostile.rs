//! The hostile host, on the control channel: a proxy between the enclave and `aip-host`'s
//! control socket that speaks the real protocol (aip-wire control frames) and misbehaves on
//! purpose, as an operator with root on the host could: it hides records, drops the reply to
//! a write that the store did make durable, fails writes, and answers time requests with any
//! time. (Older versions of blobs are replayed in the store itself, as a host with root does:
//! see `hostile_host.rs`.)
//!
//! It runs on a thread of its own (its own runtime), so it keeps serving while a test blocks
//! and across restarts of the host and the enclave.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aip_wire::control::{receive, send, ControlRequest, ControlResponse};
use aip_wire::frame::DEFAULT_FRAME_CAP;
use aip_wire::{Endpoint, Listener, Stream};

/// What the hostile host does; change it at any time through [`HostileControl::mischief`].
#[derive(Debug, Default)]
pub struct Mischief {
    /// Records under these prefixes are missing from Get and List.
    pub hide_prefixes: Vec<String>,
    /// The next `n` writes under the prefix reach the store, and the reply is dropped (the
    /// connection closes instead).
    pub drop_write_replies: Option<(String, usize)>,
    /// The next `n` writes under the prefix never reach the store: the host answers that it
    /// failed (as a full disk would).
    pub fail_writes: Option<(String, usize)>,
    /// Time answers are the host's time plus this.
    pub time_ahead_ms: u64,
}

/// Counts of what the hostile host did, for assertions that it really acted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Acted {
    pub hidden: usize,
    pub replies_dropped: usize,
    pub writes_failed: usize,
    pub times_forged: usize,
}

#[derive(Debug, Default)]
struct Shared {
    mischief: Mischief,
    acted: Acted,
}

/// A running hostile control proxy.
#[derive(Debug, Clone)]
pub struct HostileControl {
    pub listen: PathBuf,
    shared: Arc<Mutex<Shared>>,
}

impl HostileControl {
    /// Listens on `listen` and forwards to the host's control socket at `upstream`.
    pub fn start(listen: &Path, upstream: &Path) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (listen_at, upstream) = (listen.to_owned(), upstream.to_owned());
        let serving = Arc::clone(&shared);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the hostile host");
            runtime.block_on(async move {
                let _ = std::fs::remove_file(&listen_at);
                let listener = Listener::bind(&Endpoint::Unix(listen_at))
                    .await
                    .expect("bind the hostile control socket");
                let _ = ready_tx.send(());
                loop {
                    let Ok((enclave, _)) = listener.accept().await else {
                        continue;
                    };
                    let (shared, upstream) = (Arc::clone(&serving), upstream.clone());
                    tokio::spawn(async move {
                        let _ = relay(enclave, &upstream, &shared).await;
                    });
                }
            });
        });
        ready_rx.recv().expect("the hostile host started");
        Self {
            listen: listen.to_owned(),
            shared,
        }
    }

    /// Changes what the hostile host does.
    pub fn mischief<T>(&self, change: impl FnOnce(&mut Mischief) -> T) -> T {
        change(
            &mut self
                .shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .mischief,
        )
    }

    pub fn acted(&self) -> Acted {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).acted
    }
}

/// What to do with one request.
enum Plan {
    Answer(ControlResponse),
    Forward { drop_reply: bool },
}

fn plan(request: &ControlRequest, shared: &Mutex<Shared>) -> Plan {
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    let Shared {
        mischief, acted, ..
    } = &mut *shared;
    let hidden = |key: &str| mischief.hide_prefixes.iter().any(|p| key.starts_with(p));
    match request {
        ControlRequest::Get { key } => {
            if hidden(key) {
                acted.hidden += 1;
                return Plan::Answer(ControlResponse::Missing);
            }
            Plan::Forward { drop_reply: false }
        }
        ControlRequest::Put { key, .. } => {
            if let Some((prefix, left)) = &mut mischief.fail_writes {
                if *left > 0 && key.starts_with(prefix.as_str()) {
                    *left -= 1;
                    acted.writes_failed += 1;
                    return Plan::Answer(ControlResponse::Failed {
                        reason: "the disk is full (hostile host)".into(),
                    });
                }
            }
            let drop_reply = match &mut mischief.drop_write_replies {
                Some((prefix, left)) if *left > 0 && key.starts_with(prefix.as_str()) => {
                    *left -= 1;
                    acted.replies_dropped += 1;
                    true
                }
                _ => false,
            };
            Plan::Forward { drop_reply }
        }
        _ => Plan::Forward { drop_reply: false },
    }
}

/// Rewrites the host's answer: hidden keys leave lists, time runs ahead.
fn rewrite(response: ControlResponse, shared: &Mutex<Shared>) -> ControlResponse {
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    let Shared {
        mischief, acted, ..
    } = &mut *shared;
    match response {
        ControlResponse::Keys { entries } => {
            let before = entries.len();
            let entries: Vec<_> = entries
                .into_iter()
                .filter(|e| !mischief.hide_prefixes.iter().any(|p| e.key.starts_with(p)))
                .collect();
            acted.hidden += before - entries.len();
            ControlResponse::Keys { entries }
        }
        ControlResponse::Time { unix_ms } if mischief.time_ahead_ms > 0 => {
            acted.times_forged += 1;
            ControlResponse::Time {
                unix_ms: unix_ms + mischief.time_ahead_ms,
            }
        }
        other => other,
    }
}

async fn relay(
    mut enclave: Stream,
    upstream: &Path,
    shared: &Mutex<Shared>,
) -> Result<(), aip_wire::WireError> {
    let mut host = Stream::connect(&Endpoint::Unix(upstream.to_owned())).await?;
    loop {
        let Some(request) = receive::<_, ControlRequest>(&mut enclave, DEFAULT_FRAME_CAP).await?
        else {
            return Ok(());
        };
        let response = match plan(&request, shared) {
            Plan::Answer(response) => response,
            Plan::Forward { drop_reply } => {
                send(&mut host, &request, DEFAULT_FRAME_CAP).await?;
                let Some(response) =
                    receive::<_, ControlResponse>(&mut host, DEFAULT_FRAME_CAP).await?
                else {
                    return Ok(());
                };
                if drop_reply {
                    // The write is durable in the store; the enclave never hears so.
                    return Ok(());
                }
                rewrite(response, shared)
            }
        };
        send(&mut enclave, &response, DEFAULT_FRAME_CAP).await?;
    }
}
