//! `aip-host --config FILE`: the untrusted parent. Opens the blob store, listens for the
//! enclave's control and egress channels and for public API clients, serves Prometheus
//! metrics, and (when configured) starts and supervises the enclave process. Ctrl-C stops
//! everything, the enclave first.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use aip_host::config::HostConfig;
use aip_host::control_server::serve_control;
use aip_host::metrics::HostMetrics;
use aip_host::proxy::{serve_egress, serve_ingress, EgressAllowlist};
use aip_host::store::BlobStore;
use aip_host::supervisor::supervise;
use aip_wire::Listener;
use clap::Parser;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "aip-host",
    version,
    about = "aip-signer host (untrusted parent)"
)]
struct Cli {
    #[arg(long)]
    config: PathBuf,
}

const EXIT_CONFIG: u8 = 2;
const EXIT_START: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    aip_wire::process::init_json_logs();
    let config = match std::fs::read_to_string(&cli.config)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            HostConfig::from_toml(&text).map_err(|e| aip_wire::process::error_chain(&e))
        }) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, path = %cli.config.display(), "host configuration");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match aip_wire::process::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "no async runtime");
            return ExitCode::from(EXIT_START);
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "host stopped");
            ExitCode::from(EXIT_START)
        }
    }
}

async fn run(config: HostConfig) -> Result<(), String> {
    let metrics = HostMetrics::new();
    let store = BlobStore::open(&config.store).map_err(|e| format!("opening the store: {e}"))?;
    let store = Arc::new(Mutex::new(store));
    let control = Listener::bind(&config.listen.control)
        .await
        .map_err(|e| format!("control: {e}"))?;
    let egress = Listener::bind(&config.listen.egress)
        .await
        .map_err(|e| format!("egress: {e}"))?;
    let public = TcpListener::bind(config.listen.public)
        .await
        .map_err(|e| format!("public: {e}"))?;
    let metrics_listener = TcpListener::bind(config.listen.metrics)
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    tracing::info!(
        public = %config.listen.public,
        control = %config.listen.control,
        egress = %config.listen.egress,
        metrics = %config.listen.metrics,
        "host listening"
    );
    if let Some(served) = &config.enclave.config {
        let listener = Listener::bind(&served.listen)
            .await
            .map_err(|e| format!("enclave configuration: {e}"))?;
        tokio::spawn(log_end(
            "config",
            aip_host::config_server::serve_config(listener, served.file.clone()),
        ));
    }
    let allowlist = Arc::new(EgressAllowlist::new(config.egress.allow.clone()));
    tokio::spawn(log_end(
        "control",
        serve_control(control, store, Arc::clone(&metrics)),
    ));
    tokio::spawn(log_end(
        "egress",
        serve_egress(egress, allowlist, Arc::clone(&metrics)),
    ));
    tokio::spawn(log_end(
        "ingress",
        serve_ingress(public, config.enclave.ingress.clone(), Arc::clone(&metrics)),
    ));
    tokio::spawn(aip_host::metrics_server::serve(
        metrics_listener,
        Arc::clone(&metrics),
    ));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let supervisor = config.enclave.command.clone().map(|command| {
        tokio::spawn(supervise(
            command,
            config.enclave.env.clone(),
            Arc::clone(&metrics),
            stop_rx,
        ))
    });
    let signal = stop_signal().await?;
    tracing::info!(signal, "stopping");
    let _ = stop_tx.send(true);
    if let Some(supervisor) = supervisor {
        let _ = supervisor.await;
    }
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM (`kill`, systemd, container runtimes): either stops the host,
/// and the host stops the enclave first.
async fn stop_signal() -> Result<&'static str, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("listening for SIGTERM: {e}"))?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted
            .map(|()| "SIGINT")
            .map_err(|e| format!("listening for SIGINT: {e}")),
        _ = terminate.recv() => Ok("SIGTERM"),
    }
}

async fn log_end<E: std::fmt::Display>(
    what: &'static str,
    task: impl std::future::Future<Output = Result<(), E>>,
) {
    if let Err(error) = task.await {
        tracing::error!(channel = what, %error, "listener stopped");
    }
}
