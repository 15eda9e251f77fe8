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
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration is not valid TOML for this enclave")]
    Parse(#[source] toml::de::Error),
    #[error("configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// Where the enclave listens for the host's ingress connections.
    pub ingress: Endpoint,
    /// The host's control channel (blob store, time, health).
    pub control: Endpoint,
    /// The host's egress proxy.
    pub egress: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LitConfig {
    /// The network's BLS public key (G1, hex), pinned.
    pub network_public_key: String,
    pub threshold: usize,
    /// Node addresses as `host:port`, reached through the host's egress proxy.
    pub nodes: Vec<String>,
    /// IPFS CID of the attested-release Lit Action.
    pub action_cid: String,
    /// The allowed measurement sets the action checks: the measurement policy's canonical
    /// JSON (`aip-attest policy-hash --canonical`). The condition pins its SHA-256, and the
    /// enclave hands the sets to the action with each request (SIWE resource
    /// `litParam:allowedSets`). Not part of the configuration's identity: the policy pins
    /// that identity, so the identity cannot contain the policy.
    pub allowed_sets: String,
    #[serde(default = "default_node_timeout_ms")]
    pub node_timeout_ms: u64,
    /// The most one release may cost, in wei (the session signature's `maxPrice`). Naga
    /// charges decryption to the signed-in address's Lit ledger balance; 0 suits networks
    /// that do not charge (the devnet) and is refused by ones that do (docs/lit.md).
    #[serde(default)]
    pub max_price_wei: u64,
    /// The most payments of one session key that one release signs. Payments of a key that
    /// wait for its release at the same time share it: each is decided, reserved and persisted
    /// on its own first, and the key, once released, signs them in one synchronous step and is
    /// wiped (`payments/release_batch.rs`). 1 releases once per payment. Left out of the
    /// serialized configuration at its default, so configurations that do not set it keep
    /// their identity.
    #[serde(
        default = "default_payments_per_release",
        skip_serializing_if = "is_default_payments_per_release"
    )]
    pub payments_per_release: usize,
}

/// Whom the enclave's egress TLS trusts (every egress connection is TLS that ends in the
/// enclave; there is no plain-HTTP option).
impl LitConfig {
    /// SHA-256 of `allowed_sets`: what the attested-release condition names.
    pub fn allowed_sets_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.allowed_sets.as_bytes()).into()
    }

    pub fn allowed_sets_sha256_hex(&self) -> String {
        hex::encode(self.allowed_sets_sha256())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressTlsConfig {
    /// The public web PKI (the Mozilla roots built into this image): real Lit nodes and RPC
    /// providers.
    #[serde(default)]
    pub web_pki: bool,
    /// PEM of further roots (the devnets' local CA, a private RPC's CA).
    #[serde(default)]
    pub ca_pem: Option<String>,
}

/// The Solana cluster the enclave pays on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolanaConfig {
    /// JSON-RPC endpoints as `host:port` (HTTPS), reached through the host's egress proxy:
    /// in production, run by distinct operators. One endpoint is one liar (docs/threat-model.md).
    pub rpc: Vec<String>,
    /// How many endpoints must answer (and agree, where agreement is asked): at least 2.
    pub rpc_quorum: usize,
    #[serde(default = "default_rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// Signatures per `getSignaturesForAddress` page when reading a wallet's history.
    #[serde(default = "default_history_page_size")]
    pub history_page_size: usize,
    /// Mints paid in as USDC (6 decimals): the cluster's USDC mint.
    pub usdc_mints: Vec<String>,
    /// Priority fee the enclave adds, micro-lamports per compute unit (0: none).
    #[serde(default)]
    pub compute_unit_price_micro_lamports: u64,
    /// The highest priority fee any payment may carry, micro-lamports per compute unit: a
    /// caller's transaction above it is refused, and the enclave's own price must not exceed it.
    #[serde(default = "default_max_compute_unit_price")]
    pub max_compute_unit_price_micro_lamports: u64,
    /// Lamports the service's fee payer may spend on fees and rent per rolling day, every
    /// session key together (each key's own share is capped by the limits its user signed).
    #[serde(default = "default_fee_payer_lamports_per_day")]
    pub fee_payer_lamports_per_day: u64,
    /// The cluster's CAIP-2 id as x402 names networks (`solana:` and the first 32 characters
    /// of its genesis hash, e.g. `solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp` for mainnet): x402
    /// requirements on any other network are refused. Absent: x402 payments are refused.
    #[serde(default)]
    pub x402_network: Option<String>,
}

fn default_max_compute_unit_price() -> u64 {
    100_000
}

fn default_fee_payer_lamports_per_day() -> u64 {
    1_000_000_000
}

fn default_rpc_timeout_ms() -> u64 {
    10_000
}

fn default_history_page_size() -> usize {
    1000
}

fn default_node_timeout_ms() -> u64 {
    10_000
}

const DEFAULT_PAYMENTS_PER_RELEASE: usize = 32;

fn default_payments_per_release() -> usize {
    DEFAULT_PAYMENTS_PER_RELEASE
}

fn is_default_payments_per_release(value: &usize) -> bool {
    *value == DEFAULT_PAYMENTS_PER_RELEASE
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnclaveConfig {
    /// This deployment's label: its state key is derived from it (`state::state_key`), so
    /// two deployments of one image never share sealed state.
    pub deployment: String,
    /// SHA-256 (hex) of the operator's root API key (scope `full`). Bootstrapping is this
    /// line, once per deployment: no request can mint a first key, so a host that hides the
    /// key records at boot opens nothing (docs/threat-model.md).
    pub root_api_key_sha256: String,
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
    pub egress_tls: EgressTlsConfig,
    pub lit: LitConfig,
    /// Without it the service registers keys and sessions but cannot pay.
    #[serde(default)]
    pub solana: Option<SolanaConfig>,
}

fn default_max_body_bytes() -> usize {
    64 * 1024
}

/// A parsed configuration with what the attestation says of it.
///
/// `identity` is what a measurement policy entry pins: SHA-256 of the configuration's canonical
/// JSON (its parsed values, so comments and layout do not count) with `lit.allowed_sets` left
/// empty, because those are the policy, and the policy covers the pin.
/// `sha256` is what the binding carries: `aip_attestation::bound_config_digest(identity,
/// SHA-256 of the allowed sets)`, so a verifier holding the policy checks both halves
/// (docs/threat-model.md, "The measured config").
#[derive(Debug, Clone)]
pub struct MeasuredConfig {
    pub config: EnclaveConfig,
    pub identity: [u8; 32],
    pub sha256: [u8; 32],
}

impl MeasuredConfig {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: EnclaveConfig = toml::from_str(text).map_err(ConfigError::Parse)?;
        config.invariant()?;
        let identity = config.identity()?;
        Ok(Self {
            sha256: aip_attestation::bound_config_digest(
                &identity,
                &config.lit.allowed_sets_sha256(),
            ),
            identity,
            config,
        })
    }
}

/// Whether an address list names one address twice (a node or endpoint counted twice would
/// count twice towards a threshold or a quorum).
fn lists_twice(list: &[String]) -> bool {
    let distinct: std::collections::BTreeSet<&String> = list.iter().collect();
    distinct.len() != list.len()
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
        if self.deployment.is_empty()
            || self.deployment.len() > 64
            || !self
                .deployment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return invalid(format!(
                "deployment {:?} must be 1..64 characters of [A-Za-z0-9._-]",
                self.deployment
            ));
        }
        if self.root_api_key_sha256.len() != 64
            || !self
                .root_api_key_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return invalid("root_api_key_sha256 is not 64 lowercase hex characters".into());
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
        if lists_twice(&lit.nodes) {
            return invalid("lit.nodes lists a node twice".into());
        }
        if lit.action_cid.is_empty() || !lit.action_cid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return invalid("lit.action_cid is not a CID".into());
        }
        match serde_json::from_str::<serde_json::Value>(&lit.allowed_sets) {
            Ok(serde_json::Value::Object(sets)) if sets.get("entries").is_some_and(|e| e.is_array()) => {}
            _ => {
                return invalid(
                    "lit.allowed_sets is not a measurement policy's canonical JSON (aip-attest policy-hash --canonical)".into(),
                )
            }
        }
        if !(100..=120_000).contains(&lit.node_timeout_ms) {
            return invalid("lit.node_timeout_ms is outside 100..120000".into());
        }
        if !(1..=256).contains(&lit.payments_per_release) {
            return invalid("lit.payments_per_release is outside 1..256".into());
        }
        if !self.egress_tls.web_pki && self.egress_tls.ca_pem.is_none() {
            return invalid(
                "egress_tls trusts nothing: set web_pki = true, ca_pem, or both".into(),
            );
        }
        if let Some(pem) = &self.egress_tls.ca_pem {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return invalid("egress_tls.ca_pem holds no PEM certificate".into());
            }
        }
        if let Some(solana) = &self.solana {
            if let Some(bad) = solana.rpc.iter().find(|r| host_port(r).is_none()) {
                return invalid(format!("solana.rpc entry {bad:?} is not host:port"));
            }
            if lists_twice(&solana.rpc) {
                return invalid("solana.rpc lists an endpoint twice".into());
            }
            if solana.rpc_quorum < 2 || solana.rpc_quorum > solana.rpc.len() {
                return invalid(format!(
                    "solana.rpc_quorum {} must be at least 2 and at most the {} endpoints",
                    solana.rpc_quorum,
                    solana.rpc.len()
                ));
            }
            if solana.compute_unit_price_micro_lamports
                > solana.max_compute_unit_price_micro_lamports
            {
                return invalid(format!(
                    "solana.compute_unit_price_micro_lamports {} exceeds solana.max_compute_unit_price_micro_lamports {}",
                    solana.compute_unit_price_micro_lamports,
                    solana.max_compute_unit_price_micro_lamports
                ));
            }
            if !(1..=1000).contains(&solana.history_page_size) {
                return invalid("solana.history_page_size is outside 1..1000".into());
            }
            if !(100..=120_000).contains(&solana.rpc_timeout_ms) {
                return invalid("solana.rpc_timeout_ms is outside 100..120000".into());
            }
            if let Some(network) = &solana.x402_network {
                let reference = network.strip_prefix("solana:").unwrap_or_default();
                let base58 = bs58::decode(reference).into_vec().is_ok();
                if reference.len() != 32 || !base58 {
                    return invalid(format!(
                        "solana.x402_network {network:?} is not `solana:` and 32 base58 characters of a genesis hash"
                    ));
                }
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

    /// The identity a policy entry pins (see [`MeasuredConfig`]).
    pub fn identity(&self) -> Result<[u8; 32], ConfigError> {
        let mut blanked = self.clone();
        blanked.lit.allowed_sets.clear();
        let canonical = serde_json::to_vec(&blanked)
            .map_err(|e| ConfigError::Invalid(format!("serializing the configuration: {e}")))?;
        Ok(Sha256::digest(&canonical).into())
    }

    /// The Solana RPC endpoints as (host, port), if configured.
    pub fn solana_rpc(&self) -> Option<Vec<(String, u16)>> {
        let solana = self.solana.as_ref()?;
        Some(
            solana
                .rpc
                .iter()
                .filter_map(|r| host_port(r).map(|(h, p)| (h.to_owned(), p)))
                .collect(),
        )
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
