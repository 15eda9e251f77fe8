//! Keeping the enclave process running (dev and SEV-SNP guests run it as a local process; on
//! Nitro, `nitro-cli run-enclave` does this job). The enclave's own log lines (JSON on its
//! stderr) pass through to the host's stderr. A crash is restarted after a pause that grows
//! with quick successive failures, so a boot that fails closed does not spin.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::sync::watch;

use crate::metrics::HostMetrics;

/// The first pause after a crash, doubled after each crash within a minute of its start, up
/// to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Runs `command` until `stop` turns true; then kills the process and returns.
pub async fn supervise(
    command: Vec<String>,
    env: Vec<(String, String)>,
    metrics: Arc<HostMetrics>,
    mut stop: watch::Receiver<bool>,
) {
    let Some((program, args)) = command.split_first() else {
        tracing::error!("no enclave command configured");
        return;
    };
    let mut pause = FIRST_PAUSE;
    loop {
        let started = Instant::now();
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(error) => {
                tracing::error!(%program, %error, "the enclave process could not start");
                return;
            }
        };
        metrics.enclave_starts.inc();
        tracing::info!(pid = child.id(), "enclave started");
        tokio::select! {
            status = child.wait() => {
                tracing::warn!(status = ?status.ok(), "enclave exited");
            }
            _ = stop.changed() => {
                let _ = child.kill().await;
                tracing::info!("enclave stopped");
                return;
            }
        }
        pause = if started.elapsed() < Duration::from_secs(60) {
            (pause * 2).min(MAX_PAUSE)
        } else {
            FIRST_PAUSE
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}
