//! The enclave's configuration: part of what is measured. In a Nitro image it is baked into
//! the EIF (PCR2 covers it); in every case its SHA-256 is bound into the attestation, so the
//! Lit nodes release the state key only to an enclave running this exact configuration.
//!
//! Unknown fields are refused everywhere (a typo must not silently fall back to a default),
//! and `invariant()` checks what types cannot. The `dev` platform exists only in debug
//! builds: a release build refuses it, so dev attestation cannot be switched on by a config.

use std::str::FromStr;

pub use aip_attestation::Platform;
use aip_lit::NetworkKey;
use aip_wire::Endpoint;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration is not valid TOML for this enclave")]
    Parse(#[source] toml::de::Error),
    #[error("configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// Where the enclave listens for the host's ingress connections.
    pub ingress: Endpoint,
    /// The host's control channel (blob store, time, health).
    pub control: Endpoint,
    /// The host's egress proxy.
    pub egress: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LitConfig {
    /// The network's BLS public key (G1, hex), pinned.
    pub network_public_key: String,
    pub threshold: usize,
    /// Node addresses as `host:port`, reached through the host's egress proxy.
    pub nodes: Vec<String>,
    /// IPFS CID of the attested-release Lit Action.
    pub action_cid: String,
    /// SHA-256 (hex) of the allowed measurement sets the action checks.
    pub allowed_sets_sha256: String,
    #[serde(default = "default_node_timeout_ms")]
    pub node_timeout_ms: u64,
}

/// The Solana cluster the enclave pays on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolanaConfig {
    /// JSON-RPC endpoint as `host:port`, reached through the host's egress proxy.
    pub rpc: String,
    #[serde(default = "default_rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// Mints paid in as USDC (6 decimals): the cluster's USDC mint.
    pub usdc_mints: Vec<String>,
    /// Priority fee the enclave adds, micro-lamports per compute unit (0: none).
    #[serde(default)]
    pub compute_unit_price_micro_lamports: u64,
}

fn default_rpc_timeout_ms() -> u64 {
    10_000
}

fn default_node_timeout_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnclaveConfig {
    /// The name in the enclave's TLS certificate.
    pub server_name: String,
    /// nitro, sev-snp, or dev (debug builds only).
    pub platform: Platform,
    /// PEM of the operator CA that client certificates must chain to.
    pub operator_ca_pem: String,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    pub transport: Transport,
    pub lit: LitConfig,
    /// Without it the service registers keys and sessions but cannot pay.
    #[serde(default)]
    pub solana: Option<SolanaConfig>,
}

fn default_max_body_bytes() -> usize {
    64 * 1024
}

/// A parsed configuration and the SHA-256 of its exact bytes (bound in the attestation).
#[derive(Debug, Clone)]
pub struct MeasuredConfig {
    pub config: EnclaveConfig,
    pub sha256: [u8; 32],
}

impl MeasuredConfig {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: EnclaveConfig = toml::from_str(text).map_err(ConfigError::Parse)?;
        config.invariant()?;
        Ok(Self {
            config,
            sha256: Sha256::digest(text.as_bytes()).into(),
        })
    }
}

fn host_port(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = u16::from_str(port).ok().filter(|p| *p != 0)?;
    (!host.is_empty() && !host.contains('/')).then_some((host, port))
}

impl EnclaveConfig {
    /// What the types cannot say.
    pub fn invariant(&self) -> Result<(), ConfigError> {
        let invalid = |what: String| Err(ConfigError::Invalid(what));
        if cfg!(not(debug_assertions)) && self.platform == Platform::Dev {
            return invalid("platform \"dev\" exists only in debug builds".into());
        }
        if self.server_name.is_empty() {
            return invalid("server_name is empty".into());
        }
        if !self.operator_ca_pem.contains("-----BEGIN CERTIFICATE-----") {
            return invalid("operator_ca_pem holds no PEM certificate".into());
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return invalid(format!(
                "max_body_bytes {} is outside 1 KiB..16 MiB",
                self.max_body_bytes
            ));
        }
        let lit = &self.lit;
        if let Err(e) = NetworkKey::from_hex(&lit.network_public_key) {
            return invalid(format!("lit.network_public_key: {e}"));
        }
        if lit.threshold < 2 || lit.threshold > lit.nodes.len() {
            return invalid(format!(
                "lit.threshold {} must be at least 2 and at most the {} nodes",
                lit.threshold,
                lit.nodes.len()
            ));
        }
        for node in &lit.nodes {
            if host_port(node).is_none() {
                return invalid(format!("lit.nodes entry {node:?} is not host:port"));
            }
        }
        let mut sorted = lit.nodes.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != lit.nodes.len() {
            return invalid("lit.nodes lists a node twice".into());
        }
        if lit.action_cid.is_empty() || !lit.action_cid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return invalid("lit.action_cid is not a CID".into());
        }
        if lit.allowed_sets_sha256.len() != 64 || hex::decode(&lit.allowed_sets_sha256).is_err() {
            return invalid("lit.allowed_sets_sha256 is not 32 bytes of hex".into());
        }
        if !(100..=120_000).contains(&lit.node_timeout_ms) {
            return invalid("lit.node_timeout_ms is outside 100..120000".into());
        }
        if let Some(solana) = &self.solana {
            if host_port(&solana.rpc).is_none() {
                return invalid(format!("solana.rpc {:?} is not host:port", solana.rpc));
            }
            if !(100..=120_000).contains(&solana.rpc_timeout_ms) {
                return invalid("solana.rpc_timeout_ms is outside 100..120000".into());
            }
            if solana.usdc_mints.is_empty() {
                return invalid("solana.usdc_mints is empty".into());
            }
            if let Some(bad) = solana
                .usdc_mints
                .iter()
                .find(|m| m.parse::<solana_address::Address>().is_err())
            {
                return invalid(format!("solana.usdc_mints entry {bad:?} is not an address"));
            }
        }
        Ok(())
    }

    /// The Solana RPC endpoint as (host, port), if configured.
    pub fn solana_rpc(&self) -> Option<(String, u16)> {
        let solana = self.solana.as_ref()?;
        host_port(&solana.rpc).map(|(h, p)| (h.to_owned(), p))
    }

    /// The Lit nodes as (host, port).
    pub fn lit_nodes(&self) -> Vec<(String, u16)> {
        self.lit
            .nodes
            .iter()
            .filter_map(|n| host_port(n).map(|(h, p)| (h.to_owned(), p)))
            .collect()
    }
}
