//! The host's configuration (TOML, unknown fields refused). The host is untrusted: nothing
//! here can weaken the enclave, only decide where bytes go and where blobs are kept.

use std::net::SocketAddr;
use std::path::PathBuf;

use aip_wire::Endpoint;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum HostConfigError {
    #[error("the host configuration is not valid TOML for aip-host")]
    Parse(#[source] toml::de::Error),
    #[error("host configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The SQLite blob store.
    pub store: PathBuf,
    pub listen: Listen,
    pub enclave: EnclaveSide,
    pub egress: Egress,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// The public API port (TLS passes through to the enclave).
    pub public: SocketAddr,
    /// Where the enclave reaches the control channel.
    pub control: Endpoint,
    /// Where the enclave reaches the egress proxy.
    pub egress: Endpoint,
    /// Prometheus metrics (plain HTTP; keep it on a private interface).
    pub metrics: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnclaveSide {
    /// The enclave's ingress endpoint.
    pub ingress: Endpoint,
    /// Dev: the enclave process to start and keep running (program and arguments). On Nitro
    /// the enclave is started with `nitro-cli run-enclave` instead and this is absent.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Dev: extra environment for the enclave process.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// The enclave's configuration, served to it at boot (a Nitro image holds only the
    /// enclave binary). The enclave binds the configuration's identity into its attestation
    /// and the measurement policy pins it: serving another one only stops the enclave from
    /// getting its keys.
    #[serde(default)]
    pub config: Option<ConfigServer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigServer {
    /// The enclave's TOML configuration.
    pub file: PathBuf,
    /// Where the enclave asks for it (`vsock:4294967295:9001` on Nitro).
    pub listen: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    /// Exact `host:port` targets the enclave may reach.
    pub allow: Vec<String>,
}

impl HostConfig {
    pub fn from_toml(text: &str) -> Result<Self, HostConfigError> {
        let config: HostConfig = toml::from_str(text).map_err(HostConfigError::Parse)?;
        if config.enclave.command.as_ref().is_some_and(Vec::is_empty) {
            return Err(HostConfigError::Invalid("enclave.command is empty".into()));
        }
        for target in &config.egress.allow {
            let valid = target.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
            });
            if !valid {
                return Err(HostConfigError::Invalid(format!(
                    "egress.allow entry {target:?} is not host:port"
                )));
            }
        }
        Ok(config)
    }
}
