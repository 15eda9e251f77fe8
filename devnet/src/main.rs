//! `aip-devnet`: local stand-ins for the networks aip-signer talks to.
//!
//! `aip-devnet lit` serves a Lit-compatible threshold network (see `lit/`): it prints
//! `{"event":"listening","lit":{"nodes":[URL...],"threshold":T,"networkPublicKey":HEX}}`.
//!
//! `aip-devnet solana` serves Solana JSON-RPC backed by LiteSVM (a real Solana runtime) with a
//! 6-decimal USDC mint at the mainnet address and a faucet, on one or several endpoints over
//! the one chain. Once listening it prints one JSON line
//! `{"event":"listening","rpc_url":"URL","rpc_urls":[URL...]}` on standard output, so a caller
//! that asked for port 0 learns the port without racing for it.
//!
//! `aip-devnet ca --dir DIR` makes the local CA both serve HTTPS under (`--tls-dir DIR`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};

mod lit;
mod solana;
mod tls;

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
    /// Make a local CA for the devnets' HTTPS in DIR (ca.pem, ca.key); refuses to replace one.
    Ca {
        #[arg(long)]
        dir: std::path::PathBuf,
        /// Instead, issue a loopback server certificate NAME.pem/NAME.key under the CA in DIR.
        #[arg(long)]
        issue: Option<String>,
    },
    /// Serve Solana JSON-RPC backed by LiteSVM.
    Solana {
        /// Address to listen on (loopback only; port 0 picks a free port). Repeat it for
        /// several endpoints over the one chain (an RPC quorum).
        #[arg(long, default_value = "127.0.0.1:8899")]
        listen: Vec<SocketAddr>,
        /// Serve HTTPS with a certificate from the CA in this directory (`aip-devnet ca`).
        #[arg(long)]
        tls_dir: Option<std::path::PathBuf>,
    },
    /// Serve a Lit-compatible threshold network: N nodes on loopback ports.
    Lit {
        /// Number of nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Node i listens on 127.0.0.1:(PORT_BASE + i); 0 picks free ports. A fixed base keeps
        /// the node addresses, and so an enclave configuration naming them, stable across runs.
        #[arg(long, default_value_t = 0)]
        port_base: u16,
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
        /// Node index that seals its answers with a key other than its identity key
        /// (repeatable).
        #[arg(long)]
        foreign_seal: Vec<usize>,
        /// Evaluate Lit Action conditions (the attested release) as Lit's nodes do, running
        /// the action's JavaScript with Node.
        #[arg(long)]
        lit_actions: bool,
        /// The Node.js binary that runs Lit Actions.
        #[arg(long, default_value = "node", requires = "lit_actions")]
        node: std::path::PathBuf,
        /// Serve HTTPS with a certificate from the CA in this directory (`aip-devnet ca`).
        #[arg(long)]
        tls_dir: Option<std::path::PathBuf>,
        /// Serve only node I (one process per node, so one node can be killed on its own);
        /// needs --port-base, so every process names the same node addresses.
        #[arg(long)]
        only: Option<usize>,
    },
    /// Forward TCP connections from LISTEN to TO: a stand-in for one RPC provider's endpoint
    /// in front of the one chain, so the endpoint can die (kill -9) while the chain lives on.
    /// Prints `{"event":"listening","relay":"HOST:PORT"}`.
    Relay {
        /// Loopback address to listen on.
        #[arg(long)]
        listen: SocketAddr,
        /// Address to forward to.
        #[arg(long)]
        to: SocketAddr,
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
        Command::Ca { dir, issue: None } => tls::make_ca(&dir).map_err(Into::into),
        Command::Ca {
            dir,
            issue: Some(name),
        } => tls::write_leaf(&dir, &name).map_err(Into::into),
        Command::Solana { listen, tls_dir } => runtime.block_on(serve_solana(listen, tls_dir)),
        Command::Lit {
            nodes,
            port_base,
            threshold,
            data_dir,
            always_true_conditions,
            down,
            slow,
            wrong,
            foreign_seal,
            lit_actions,
            node,
            tls_dir,
            only,
        } => {
            let faults = lit::faults::Faults {
                down,
                slow,
                wrong,
                foreign_seal,
            };
            let lit_actions = lit_actions.then(|| Arc::new(lit::lit_action::LitActions::new(node)));
            let threshold = threshold.unwrap_or_else(|| lit::default_threshold(nodes));
            match faults.check(nodes) {
                Err(e) => Err(e.into()),
                Ok(()) if nodes == 0 || threshold < 2 || threshold > nodes => Err(format!(
                    "threshold {threshold} of {nodes} nodes: need 2 <= threshold <= nodes"
                )
                .into()),
                Ok(()) if only.is_some_and(|i| i >= nodes) => {
                    Err(format!("--only {only:?}, but nodes are 0..{}", nodes - 1).into())
                }
                Ok(()) if only.is_some() && port_base == 0 => {
                    Err("--only needs --port-base: the nodes' addresses must be fixed".into())
                }
                Ok(()) => runtime.block_on(lit::serve(lit::LitNetworkConfig {
                    nodes,
                    port_base,
                    threshold,
                    data_dir,
                    always_true_conditions,
                    faults,
                    lit_actions,
                    tls_dir,
                    only,
                })),
            }
        }
        Command::Relay { listen, to } => runtime.block_on(relay(listen, to)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "aip-devnet stopped");
            ExitCode::FAILURE
        }
    }
}

async fn serve_solana(
    listen: Vec<SocketAddr>,
    tls_dir: Option<std::path::PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(addr) = listen.iter().find(|a| !a.ip().is_loopback()) {
        return Err(
            format!("refusing to listen on {addr}: the devnet serves loopback only").into(),
        );
    }
    let acceptor = tls_dir.as_deref().map(tls::acceptor).transpose()?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let chain = Arc::new(Mutex::new(solana::chain::Chain::new()?));
    let mut servers = tokio::task::JoinSet::new();
    let mut urls = Vec::with_capacity(listen.len());
    for addr in listen {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        urls.push(format!("{scheme}://{}", listener.local_addr()?));
        let router = solana::rpc::router(Arc::clone(&chain));
        servers.spawn(tls::serve(listener, router, acceptor.clone()));
    }
    println!(
        "{}",
        serde_json::json!({"event": "listening", "rpc_url": urls[0], "rpc_urls": urls})
    );
    tracing::info!(?urls, usdc_mint = %solana::chain::USDC_MINT, "solana devnet listening");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        Some(result) = servers.join_next() => Err(format!("an RPC endpoint stopped: {result:?}").into()),
    }
}

/// Forwards every connection on `listen` to `to`, bytes both ways, until Ctrl-C.
async fn relay(listen: SocketAddr, to: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    if !listen.ip().is_loopback() {
        return Err(
            format!("refusing to listen on {listen}: the devnet serves loopback only").into(),
        );
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    println!(
        "{}",
        serde_json::json!({"event": "listening", "relay": addr.to_string()})
    );
    tracing::info!(%addr, %to, "relay listening");
    let accept = async {
        loop {
            let accepted: std::io::Result<_> = listener.accept().await;
            let (mut inbound, peer) = accepted?;
            inbound.set_nodelay(true)?;
            tokio::spawn(async move {
                let result = async {
                    let mut outbound = tokio::net::TcpStream::connect(to).await?;
                    outbound.set_nodelay(true)?;
                    tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                }
                .await;
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "relayed connection ended with an error");
                }
            });
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        result = accept => {
            let result: std::io::Result<()> = result;
            result.map_err(Into::into)
        }
    }
}
