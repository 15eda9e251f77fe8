//! `aip-devnet`: local stand-ins for the networks aip-signer talks to.
//!
//! `aip-devnet solana` serves Solana JSON-RPC backed by LiteSVM (a real Solana runtime) with a
//! 6-decimal USDC mint at the mainnet address and a faucet. Once listening it prints one JSON
//! line `{"event":"listening","rpc_url":"http://ADDR"}` on standard output, so a caller that
//! asked for port 0 learns the port without racing for it.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "aip-devnet stopped");
            ExitCode::FAILURE
        }
    }
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
