//! A local Lit-compatible threshold network: N nodes on loopback, each an HTTP(S) server
//! speaking Naga's dialect (`/web/handshake`, the end-to-end encrypted
//! `/web/encryption/sign/v2` with session signatures), holding one share of a dealer-split BLS
//! key persisted under a data dir.
//!
//! Conditions are evaluated for real where no chain is needed; conditions that need a chain
//! are refused unless the network runs with `--always-true-conditions` (tests). Faults can be
//! injected per node: down, slow (a latency range), or answering with a wrong share.

pub mod action_runner;
pub mod dealer;
pub mod faults;
pub mod lit_action;
pub mod node;
pub mod session_check;

use std::path::PathBuf;
use std::sync::Arc;

use faults::Faults;

/// How to run the network.
#[derive(Debug, Clone)]
pub struct LitNetworkConfig {
    pub nodes: usize,
    /// First node port (0: free ports).
    pub port_base: u16,
    pub threshold: usize,
    pub data_dir: PathBuf,
    pub always_true_conditions: bool,
    pub faults: Faults,
    /// Run Lit Action conditions (the attested release) with Node.
    pub lit_actions: Option<Arc<lit_action::LitActions>>,
    /// Serve HTTPS under the CA in this directory.
    pub tls_dir: Option<PathBuf>,
    /// Serve only this node (the others run in processes of their own).
    pub only: Option<usize>,
}

/// Lit's rule for the threshold: two thirds of the nodes, rounded down, at least 2.
pub fn default_threshold(nodes: usize) -> usize {
    (nodes * 2 / 3).max(2)
}

/// Starts every node and serves until Ctrl-C. Prints one JSON line with the node URLs.
pub async fn serve(config: LitNetworkConfig) -> Result<(), Box<dyn std::error::Error>> {
    let (network_key, shares) =
        dealer::load_or_deal(&config.data_dir, config.threshold, config.nodes)?;
    let acceptor = config
        .tls_dir
        .as_deref()
        .map(crate::tls::acceptor)
        .transpose()?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let mut urls = Vec::with_capacity(config.nodes);
    let mut servers = tokio::task::JoinSet::new();
    let mut down = Vec::new();
    for (index, share) in shares.into_iter().enumerate() {
        let port = match config.port_base {
            0 => 0,
            base => u16::try_from(index)
                .ok()
                .and_then(|i| base.checked_add(i))
                .ok_or("--port-base + nodes goes past port 65535")?,
        };
        if config.only.is_some_and(|only| only != index) {
            // Another process serves this node, at its fixed address.
            urls.push(format!("{scheme}://127.0.0.1:{port}"));
            continue;
        }
        if config.faults.is_down(index) {
            // Bound but not listening: connections are refused, and the port stays this
            // node's (no other process can take it and answer in its place).
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
            let addr = socket.local_addr()?;
            urls.push(format!("{scheme}://{addr}"));
            tracing::info!(index, %addr, "lit node down (fault injection)");
            down.push(socket);
            continue;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        urls.push(format!("{scheme}://{addr}"));
        let state = Arc::new(node::NodeState::new(node::NodeSetup {
            index,
            share,
            network_key,
            address: addr.to_string(),
            always_true_conditions: config.always_true_conditions,
            faults: config.faults.for_node(index),
            lit_actions: config.lit_actions.clone(),
        }));
        servers.spawn(crate::tls::serve(
            listener,
            node::router(state),
            acceptor.clone(),
        ));
    }
    println!(
        "{}",
        serde_json::json!({
            "event": "listening",
            "lit": {
                "nodes": urls,
                "threshold": config.threshold,
                "networkPublicKey": network_key.to_hex(),
                "attestedRelease": config.lit_actions.as_ref().map(|_| serde_json::json!({
                    "actionCid": aip_lit::action::attested_release_cid(),
                })),
            }
        })
    );
    tracing::info!(
        nodes = config.nodes,
        threshold = config.threshold,
        "lit devnet listening"
    );
    let result = tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        Some(result) = servers.join_next() => Err(format!("a lit node stopped: {result:?}").into()),
    };
    drop(down);
    result
}

#[cfg(test)]
mod tests {
    /// aip-lit's combination on the pure-Rust backend (this workspace's build), end to end:
    /// dealt shares combine, verify and decrypt; a wrong share does not verify.
    #[test]
    fn the_rust_backend_combines_verifies_and_decrypts() {
        let (key, nodes) = aip_lit::node::deal(3, 5).unwrap();
        // Identifiers are random scalars, as on Lit's networks, not 1..n.
        let ids: std::collections::BTreeSet<String> = nodes
            .iter()
            .map(|n| n.to_secret_hex().split(':').next().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 5);
        for small in 1u8..=5 {
            let mut le = [0u8; 32];
            le[0] = small;
            assert!(!ids.contains(&hex::encode(le)), "identifier {small}");
        }
        let identity = b"lit-accesscontrolcondition://aa/bb";
        let ciphertext = aip_lit::encrypt(&key, b"secret", identity).unwrap();
        let shares: Vec<_> = nodes.iter().map(|n| n.sign(identity).unwrap()).collect();
        for subset in [[0, 1, 2], [4, 2, 1], [1, 3, 4]] {
            let chosen: Vec<_> = subset.iter().map(|i| shares[*i]).collect();
            let plaintext =
                aip_lit::combine_verify_decrypt(&key, identity, &ciphertext, &chosen).unwrap();
            assert_eq!(plaintext.as_slice(), b"secret");
        }
        let wrong = nodes[3].sign(b"another identity").unwrap();
        let err = aip_lit::combine_verify_decrypt(
            &key,
            identity,
            &ciphertext,
            &[shares[0], shares[1], wrong],
        );
        assert!(err.is_err());
    }

    #[test]
    fn the_default_threshold_is_two_thirds_and_at_least_two() {
        let table = [(2, 2), (3, 2), (4, 2), (5, 3), (6, 4), (10, 6), (30, 20)];
        for (nodes, threshold) in table {
            assert_eq!(super::default_threshold(nodes), threshold, "{nodes} nodes");
        }
    }
}
