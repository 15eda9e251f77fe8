//! Keeping the enclave process running (dev and SEV-SNP guests run it as a local process; on
//! Nitro, `nitro-cli run-enclave` does this job). The enclave's own log lines (JSON on its
//! stderr) pass through to the host's stderr. A crash is restarted after a pause that grows
//! with quick successive failures, so a boot that fails closed does not spin. The child gets
//! a parent-death signal: if the host dies, however it dies, the enclave process goes too.

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

/// Makes the kernel send SIGKILL to the child when this process dies (`kill -9` included),
/// so no enclave outlives its host; a parent that died before the child set it up is caught
/// by comparing the parent pid.
fn die_with_parent(command: &mut Command) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec and calls only prctl and
    // getppid, which are async-signal-safe; it allocates nothing and touches no lock.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "the host died while starting the enclave",
                ));
            }
            Ok(())
        });
    }
}

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
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        die_with_parent(&mut command);
        let child = command.spawn();
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
