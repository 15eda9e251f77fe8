//! `aip-devnet`: local stand-ins for the networks aip-signer talks to.
//!
//! `aip-devnet lit` serves a Lit-compatible threshold network (see `lit/`): it prints
//! `{"event":"listening","lit":{"nodes":[URL...],"threshold":T,"networkPublicKey":HEX}}`.
//!
//! `aip-devnet solana` serves Solana JSON-RPC backed by LiteSVM (a real Solana runtime) with a
//! 6-decimal USDC mint at the mainnet address and a faucet. Once listening it prints one JSON
//! line `{"event":"listening","rpc_url":"http://ADDR"}` on standard output, so a caller that
//! asked for port 0 learns the port without racing for it.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};

mod lit;
mod solana;

#[derive(Debug, Parser)]
#[command(
    name = "aip-devnet",
    version,
    about = "Local development networks for aip-signer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Solana JSON-RPC backed by LiteSVM.
    Solana {
        /// Address to listen on (loopback only; port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8899")]
        listen: SocketAddr,
    },
    /// Serve a Lit-compatible threshold network: N nodes on loopback ports.
    Lit {
        /// Number of nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Shares needed to decrypt (default: two thirds of the nodes, at least 2).
        #[arg(long)]
        threshold: Option<usize>,
        /// Where the dealt key shares live (created on first start).
        #[arg(long, default_value = ".aip-dev/lit")]
        data_dir: std::path::PathBuf,
        /// Treat conditions that need a chain as true (tests only).
        #[arg(long)]
        always_true_conditions: bool,
        /// Node index that is down (repeatable).
        #[arg(long)]
        down: Vec<usize>,
        /// NODE=MIN..MAX: node answers after a uniform latency in milliseconds (repeatable).
        #[arg(long, value_parser = lit::faults::parse_slow)]
        slow: Vec<(usize, std::ops::RangeInclusive<u64>)>,
        /// Node index that answers with a wrong share (repeatable).
        #[arg(long)]
        wrong: Vec<usize>,
        /// Evaluate the attested-release Lit Action with this measurement policy (TOML).
        #[arg(long)]
        attested_release_policy: Option<std::path::PathBuf>,
        /// Accept dev evidence under this dev root certificate (PEM).
        #[arg(long, requires = "attested_release_policy")]
        trust_dev_root: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Solana { listen } => runtime.block_on(serve_solana(listen)),
        Command::Lit {
            nodes,
            threshold,
            data_dir,
            always_true_conditions,
            down,
            slow,
            wrong,
            attested_release_policy,
            trust_dev_root,
        } => {
            let faults = lit::faults::Faults { down, slow, wrong };
            let attested = match attested_release(
                attested_release_policy.as_deref(),
                trust_dev_root.as_deref(),
            ) {
                Ok(a) => a,
                Err(error) => {
                    tracing::error!(%error, "cannot configure the attested release");
                    return ExitCode::FAILURE;
                }
            };
            let threshold = threshold.unwrap_or_else(|| lit::default_threshold(nodes));
            match faults.check(nodes) {
                Err(e) => Err(e.into()),
                Ok(()) if nodes == 0 || threshold < 2 || threshold > nodes => Err(format!(
                    "threshold {threshold} of {nodes} nodes: need 2 <= threshold <= nodes"
                )
                .into()),
                Ok(()) => runtime.block_on(lit::serve(lit::LitNetworkConfig {
                    nodes,
                    threshold,
                    data_dir,
                    always_true_conditions,
                    faults,
                    attested,
                })),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "aip-devnet stopped");
            ExitCode::FAILURE
        }
    }
}

fn attested_release(
    policy: Option<&std::path::Path>,
    dev_root: Option<&std::path::Path>,
) -> Result<Option<Arc<lit::attested::AttestedRelease>>, Box<dyn std::error::Error>> {
    let Some(policy) = policy else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(policy)?;
    let root = dev_root.map(std::fs::read).transpose()?;
    Ok(Some(Arc::new(lit::attested::AttestedRelease::new(
        &text,
        root.as_deref(),
    )?)))
}

async fn serve_solana(listen: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    if !listen.ip().is_loopback() {
        return Err(
            format!("refusing to listen on {listen}: the devnet serves loopback only").into(),
        );
    }
    let chain = solana::chain::Chain::new()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    println!(
        "{}",
        serde_json::json!({"event": "listening", "rpc_url": format!("http://{addr}")})
    );
    tracing::info!(%addr, usdc_mint = %solana::chain::USDC_MINT, "solana devnet listening");
    axum::serve(listener, solana::rpc::router(Arc::new(Mutex::new(chain))))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
