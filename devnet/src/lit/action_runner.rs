//! Long-lived Node processes that run Lit Actions (`action-worker.mjs`): each action in a fresh
//! context, as before, but without starting Node for every node of every release. A runner
//! that stops, or an action that runs past its time, takes its process down; the next action
//! starts a new one.
//!
//! Node runs without its optimizing compiler (`--no-opt`): an action runs once, in a fresh
//! context, so what TurboFan compiled for its hot loops (base64, CBOR, DER) was thrown away with
//! the context, and compiling it took a third of the runner's CPU (17 ms per attested-release
//! action with it, 11 ms without, measured on 2 vCPUs; the rest is mostly WebCrypto's four
//! P-384 verifications). The action's semantics do not depend on the tier its code runs in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::oneshot;

const WORKER: &str = include_str!("action-worker.mjs");

type Answer = Result<String, String>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Answer>>>>;

/// One Node process and the actions waiting for its answers.
struct Worker {
    stdin: tokio::sync::Mutex<ChildStdin>,
    pending: Pending,
    alive: Arc<AtomicBool>,
    _child: Child,
}

impl Worker {
    fn spawn(node: &Path) -> Result<Self, String> {
        let mut child = tokio::process::Command::new(node)
            .args(["--no-opt", "--input-type=module", "-e", WORKER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", node.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin for the action runner")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout from the action runner")?;
        let pending: Pending = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));
        let (answers, flag) = (Arc::clone(&pending), Arc::clone(&alive));
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(answer) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let Some(id) = answer["id"].as_u64() else {
                    continue;
                };
                let result = match (&answer["response"], &answer["error"]) {
                    (_, serde_json::Value::String(error)) => Err(error.clone()),
                    (serde_json::Value::String(response), _) => Ok(response.clone()),
                    _ => Err("the Lit Action set no response".to_owned()),
                };
                let waiter = answers.lock().ok().and_then(|mut p| p.remove(&id));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(result);
                }
            }
            flag.store(false, Ordering::SeqCst);
            // Whoever still waits learns that the runner is gone (dropping their senders).
            if let Ok(mut waiting) = answers.lock() {
                waiting.clear();
            }
        });
        Ok(Self {
            stdin: tokio::sync::Mutex::new(stdin),
            pending,
            alive,
            _child: child,
        })
    }
}

/// A few runners, used in turn.
pub struct ActionRunners {
    node: PathBuf,
    slots: Vec<tokio::sync::Mutex<Option<Arc<Worker>>>>,
    next: AtomicUsize,
    ids: AtomicU64,
}

impl std::fmt::Debug for ActionRunners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionRunners")
            .field("node", &self.node)
            .field("runners", &self.slots.len())
            .finish()
    }
}

impl ActionRunners {
    /// `count` runners of `node` (started on first use).
    pub fn new(node: PathBuf, count: usize) -> Self {
        Self {
            node,
            slots: (0..count.max(1)).map(|_| Default::default()).collect(),
            next: AtomicUsize::new(0),
            ids: AtomicU64::new(0),
        }
    }

    /// Runs `code` (an action with Lit's wrapper): the response it set, or why it has none.
    pub async fn run(&self, code: &str, timeout: Duration) -> Answer {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let worker = {
            let mut current = slot.lock().await;
            match current.as_ref() {
                Some(worker) if worker.alive.load(Ordering::SeqCst) => Arc::clone(worker),
                _ => {
                    let worker = Arc::new(Worker::spawn(&self.node)?);
                    *current = Some(Arc::clone(&worker));
                    worker
                }
            }
        };
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let (sender, answer) = oneshot::channel();
        worker
            .pending
            .lock()
            .map_err(|_| "the action runner's table is poisoned")?
            .insert(id, sender);
        let mut line = serde_json::json!({ "id": id, "code": code }).to_string();
        line.push('\n');
        // Written by a task of its own: a caller dropped mid-write (a node's HTTP handler is
        // dropped when its client hangs up, as a signer does once it has the threshold) left
        // half a line in the pipe, which swallowed the next request's line and stalled it
        // until the caller's timeout. A line is written whole or the runner is gone.
        let writer = Arc::clone(&worker);
        let written =
            tokio::spawn(async move { writer.stdin.lock().await.write_all(line.as_bytes()).await })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if let Err(e) = written {
            worker.alive.store(false, Ordering::SeqCst);
            return Err(format!("the action runner stopped: {e}"));
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the action runner stopped before answering".into()),
            Err(_) => {
                // A runaway action holds its runner: take the process down.
                let mut current = slot.lock().await;
                if current.as_ref().is_some_and(|w| Arc::ptr_eq(w, &worker)) {
                    *current = None;
                }
                Err("the Lit Action timed out".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRAP: &str = "\nconst litAsyncWrapper = async () => {const r = await go(); Lit.Actions.setResponse({response: r.toString()});}\n litAsyncWrapper();";

    /// Needs Node on the PATH (CI installs it; the end-to-end tests need it too).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn actions_run_in_fresh_contexts_and_a_runaway_costs_only_its_runner() {
        let runners = ActionRunners::new(PathBuf::from("node"), 1);
        let timeout = Duration::from_secs(10);
        // A response; and the next action does not see the first one's globals.
        let first = format!(
            "globalThis.leftover = 1; async function go() {{ return 'a' + typeof process; }}{WRAP}"
        );
        assert_eq!(runners.run(&first, timeout).await.unwrap(), "aundefined");
        let second = format!("async function go() {{ return typeof leftover; }}{WRAP}");
        assert_eq!(runners.run(&second, timeout).await.unwrap(), "undefined");
        // WebCrypto is there.
        let digest = format!("async function go() {{ const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')); return new Uint8Array(d)[0]; }}{WRAP}");
        assert_eq!(runners.run(&digest, timeout).await.unwrap(), "186");
        // A throw is the action's failure, not the runner's.
        let throws = format!("async function go() {{ throw new Error('no'); }}{WRAP}");
        let error = runners.run(&throws, timeout).await.unwrap_err();
        assert!(error.contains("Error: no"), "{error}");
        // A runaway action times out; its runner is replaced and the next action runs.
        let spins = format!("async function go() {{ for (;;) {{}} }}{WRAP}");
        let error = runners
            .run(&spins, Duration::from_millis(500))
            .await
            .unwrap_err();
        assert!(error.contains("timed out"), "{error}");
        assert_eq!(runners.run(&second, timeout).await.unwrap(), "undefined");
    }
}
