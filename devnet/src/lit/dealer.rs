//! The network key: dealt once, persisted as node shares (never the secret) under the data dir.

use std::fs;
use std::path::Path;

use aip_lit::node::{deal, NodeKeyShare};
use aip_lit::NetworkKey;
use serde::{Deserialize, Serialize};

const FILE: &str = "lit-network.json";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Stored {
    threshold: usize,
    nodes: usize,
    network_public_key: String,
    /// `identifier:value`, little-endian hex scalars, one per node.
    shares: Vec<String>,
}

/// Loads the network from `dir`, or deals a new one and writes it (mode 0600).
pub fn load_or_deal(
    dir: &Path,
    threshold: usize,
    nodes: usize,
) -> Result<(NetworkKey, Vec<NodeKeyShare>), Box<dyn std::error::Error>> {
    let path = dir.join(FILE);
    if path.exists() {
        let stored: Stored = serde_json::from_slice(&fs::read(&path)?)?;
        if stored.threshold != threshold || stored.nodes != nodes || stored.shares.len() != nodes {
            return Err(format!(
                "{} holds a {}-of-{} network, asked for {threshold}-of-{nodes}: use another --data-dir or remove it",
                path.display(),
                stored.threshold,
                stored.nodes
            )
            .into());
        }
        let key = NetworkKey::from_hex(&stored.network_public_key)?;
        let shares = stored
            .shares
            .iter()
            .map(|s| NodeKeyShare::from_secret_hex(s))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((key, shares));
    }
    let (key, shares) = deal(threshold, nodes)?;
    let stored = Stored {
        threshold,
        nodes,
        network_public_key: key.to_hex(),
        shares: shares
            .iter()
            .map(|s| s.to_secret_hex().to_string())
            .collect(),
    };
    fs::create_dir_all(dir)?;
    write_private(&path, serde_json::to_string_pretty(&stored)?.as_bytes())?;
    Ok((key, shares))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::write(path, bytes)
}
