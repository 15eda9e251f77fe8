//! `aip-enclave serve`: boot (fail closed) and serve the API. `aip-enclave dev-policy`: the
//! measurement policy entry of this very binary under dev attestation, for the Lit devnet.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use aip_attestation::EvidenceProducer;
use aip_enclave::boot::{boot, serve};
use aip_enclave::config::{EnclaveConfig, Platform};

/// The configuration's text, from its file or from the host (retrying while the host starts).
async fn read_config(source: &ConfigSource) -> Result<String, String> {
    match source {
        ConfigSource::File(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
        }
        ConfigSource::Host(endpoint) => {
            let deadline = std::time::Instant::now() + CONFIG_WAIT;
            loop {
                match from_host(endpoint).await {
                    Ok(text) => return Ok(text),
                    Err(reason) if std::time::Instant::now() >= deadline => return Err(reason),
                    Err(reason) => {
                        tracing::warn!(%endpoint, %reason, "no configuration from the host yet");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }
}

async fn from_host(endpoint: &aip_wire::Endpoint) -> Result<String, String> {
    let mut stream = aip_wire::Stream::connect(endpoint)
        .await
        .map_err(|e| aip_wire::process::error_chain(&e))?;
    let bytes = aip_wire::frame::read_frame(&mut stream, MAX_CONFIG_BYTES)
        .await
        .map_err(|e| aip_wire::process::error_chain(&e))?
        .ok_or("the host closed without sending a configuration")?;
    String::from_utf8(bytes).map_err(|_| "the configuration is not UTF-8".to_owned())
}

/// Boot failures exit with this code after logging the stage and reason.
const EXIT_BOOT_FAILED: u8 = 20;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    File(PathBuf),
    /// The host, over this endpoint: one frame holding the TOML.
    Host(aip_wire::Endpoint),
}

/// Largest configuration accepted from the host.
const MAX_CONFIG_BYTES: u32 = 1024 * 1024;
/// How long to keep asking the host for the configuration at boot.
const CONFIG_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub fn run(source: &ConfigSource, dev_pki: Option<PathBuf>) -> ExitCode {
    let runtime = match aip_wire::process::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "no async runtime");
            return ExitCode::from(EXIT_BOOT_FAILED);
        }
    };
    let text = match runtime.block_on(read_config(source)) {
        Ok(text) => text,
        Err(reason) => {
            tracing::error!(stage = "load_config", %reason, "boot failed");
            return ExitCode::from(EXIT_BOOT_FAILED);
        }
    };
    let outcome = runtime.block_on(async move {
        let booted = boot(&text, |config| producer_for(config, dev_pki.as_deref())).await?;
        serve(booted).await
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(stage = %error.stage, reason = %error.reason, "boot failed; not serving");
            ExitCode::from(EXIT_BOOT_FAILED)
        }
    }
}

fn producer_for(
    config: &EnclaveConfig,
    dev_pki: Option<&Path>,
) -> Result<Arc<dyn EvidenceProducer>, String> {
    match config.platform {
        Platform::Nitro => aip_attestation::nitro::nsm::NsmProducer::open()
            .map(|p| Arc::new(p) as Arc<dyn EvidenceProducer>)
            .map_err(|e| e.to_string()),
        Platform::SevSnp => Ok(Arc::new(aip_attestation::snp::producer::SnpProducer::new(
            0, None,
        ))),
        Platform::Dev => dev::producer(dev_pki),
    }
}

#[cfg(feature = "dev")]
pub mod dev {
    use std::path::Path;
    use std::sync::Arc;

    use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
    use aip_attestation::{clock, EvidenceProducer};

    /// The dev PCRs measure this executable's bytes, as PCR0 measures a Nitro image.
    pub fn bank() -> Result<PcrBank, String> {
        let image =
            std::fs::read("/proc/self/exe").map_err(|e| format!("reading /proc/self/exe: {e}"))?;
        Ok(PcrBank::for_image(&image, b"aip-enclave"))
    }

    pub fn producer(pki: Option<&Path>) -> Result<Arc<dyn EvidenceProducer>, String> {
        let dir = pki.ok_or("platform dev needs --dev-pki DIR")?;
        let pki = DevPki::load_or_create(dir, clock::now()).map_err(|e| e.to_string())?;
        Ok(Arc::new(DevProducer::new(pki, bank()?, "aip-enclave-dev")))
    }

    /// The dev root certificate (PEM), creating the PKI under `dir` if needed.
    pub fn root_pem(dir: &Path) -> Result<String, String> {
        let pki = DevPki::load_or_create(dir, clock::now()).map_err(|e| e.to_string())?;
        pki.root_pem().map_err(|e| e.to_string())
    }

    /// A `[[nitro]]` policy entry for this binary's dev PCRs, pinning `config` if given, after
    /// the dev root of the dev PKI in `dev_pki` if given.
    pub fn policy(config: Option<&[u8; 32]>, dev_pki: Option<&Path>) -> Result<String, String> {
        let bank = bank()?;
        let pcr = |i: usize| {
            bank.get(i)
                .map(hex::encode)
                .ok_or(format!("PCR{i} missing"))
        };
        let pin = config.map_or(String::new(), |c| {
            format!("config = \"{}\"\n", hex::encode(c))
        });
        let root = match dev_pki {
            Some(dir) => format!("dev_root = \"\"\"\n{}\"\"\"\n\n", root_pem(dir)?),
            None => String::new(),
        };
        Ok(format!(
            "{root}[[nitro]]\nname = \"aip-enclave dev build\"\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\n{pin}",
            pcr(0)?,
            pcr(1)?,
            pcr(2)?
        ))
    }
}

#[cfg(not(feature = "dev"))]
pub mod dev {
    use std::path::Path;
    use std::sync::Arc;

    use aip_attestation::EvidenceProducer;

    const ABSENT: &str = "this build has no dev attestation (a debug build with --features dev)";

    pub fn producer(_: Option<&Path>) -> Result<Arc<dyn EvidenceProducer>, String> {
        Err(ABSENT.into())
    }

    pub fn policy(_: Option<&[u8; 32]>, _: Option<&Path>) -> Result<String, String> {
        Err(ABSENT.into())
    }

    pub fn root_pem(_: &Path) -> Result<String, String> {
        Err(ABSENT.into())
    }
}
