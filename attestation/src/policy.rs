//! The measurement policy: which code a verifier accepts.
//!
//! ```toml
//! allow_debug = false            # optional; debug evidence is refused unless true
//! allow_migration_agent = false  # optional; SNP guests that allow a migration agent are refused unless true
//! dev_root = """-----BEGIN CERTIFICATE-----…"""  # dev deployments only: the dev root the
//!                                # attested-release Lit Action trusts for dev evidence
//!
//! [[nitro]]
//! name = "signer 0.3.0"
//! pcr0 = "…96 hex…"
//! pcr1 = "…"
//! pcr2 = "…"
//! pcr8 = "…"                     # optional: pin the image signing certificate too
//! config = "…64 hex…"            # optional: the configuration's identity (see below)
//! expires = 2027-06-01T00:00:00Z # optional: accepted strictly before this time
//!
//! [[sev_snp]]
//! name = "signer 0.3.0 on SNP"
//! measurement = "…96 hex…"
//! host_data = "…64 hex…"         # optional
//! vmpl = 0                       # optional, default 0
//! config = "…64 hex…"
//! min_tcb = { bootloader = 3, tee = 0, snp = 8, microcode = 115 }  # optional
//! expires = 2027-06-01T00:00:00Z
//! ```
//!
//! Several entries may be live at once, so an image can be rotated without breaking clients:
//! add the new one, then let the old one expire.
//!
//! **The configuration pin.** The enclave's configuration is not covered by every
//! measurement (PCR0 does not cover a Nitro image's config; on SEV-SNP the host writes it), so
//! the binding carries its digest and an entry may pin it. The configuration names the policy
//! its attested release is checked against (its allowed-sets hash), and that hash covers this
//! pin, so what an entry pins is the configuration's *identity* (everything but that hash), and
//! the binding carries `binding::bound_config_digest(identity, allowed-sets hash)`: a verifier
//! with this policy knows both, so neither can be swapped.

use serde::Deserialize;

use crate::clock;
use crate::error::{PolicyError, VerifyError};
use crate::hexfmt::decode_exact;
use crate::measurement::Measurement;

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementPolicy {
    pub allow_debug: bool,
    pub allow_migration_agent: bool,
    /// A dev root (DER) whose dev evidence the attested-release Lit Action accepts: it knows
    /// no other way to learn one, since the condition pins only this policy's hash. A
    /// production policy has none, which an auditor reads in the policy itself. The Rust
    /// verifier trusts a dev root only when its caller passes one explicitly.
    pub dev_root: Option<Vec<u8>>,
    pub entries: Vec<PolicyEntry>,
}

/// One allowed set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntry {
    pub name: String,
    pub allowed: Allowed,
    /// The configuration identity the binding must commit to, if pinned.
    pub config: Option<[u8; 32]>,
    /// Unix seconds; the entry matches only strictly before.
    pub expires: Option<u64>,
}

/// The lowest SEV-SNP TCB (security version numbers) an entry accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinTcb {
    pub bootloader: u8,
    pub tee: u8,
    pub snp: u8,
    pub microcode: u8,
}

/// The values an entry pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Nitro {
        pcr0: [u8; 48],
        pcr1: [u8; 48],
        pcr2: [u8; 48],
        pcr8: Option<[u8; 48]>,
    },
    SevSnp {
        measurement: [u8; 48],
        host_data: Option<[u8; 32]>,
        vmpl: u32,
        min_tcb: Option<MinTcb>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    allow_debug: bool,
    #[serde(default)]
    allow_migration_agent: bool,
    #[serde(default)]
    dev_root: Option<String>,
    #[serde(default)]
    nitro: Vec<NitroEntryFile>,
    #[serde(default)]
    sev_snp: Vec<SnpEntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NitroEntryFile {
    name: String,
    pcr0: String,
    pcr1: String,
    pcr2: String,
    pcr8: Option<String>,
    config: Option<String>,
    expires: Option<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnpEntryFile {
    name: String,
    measurement: String,
    host_data: Option<String>,
    #[serde(default)]
    vmpl: u32,
    config: Option<String>,
    min_tcb: Option<MinTcb>,
    expires: Option<toml::value::Datetime>,
}

impl MeasurementPolicy {
    /// Parses and validates a policy file.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        let mut entries = Vec::with_capacity(file.nitro.len() + file.sev_snp.len());
        for e in file.nitro {
            let pcr = |field: &str, value: &str| {
                decode_exact::<48>(value)
                    .ok_or_else(|| entry_error(&e.name, format!("{field} is not 48 bytes of hex")))
            };
            let allowed = Allowed::Nitro {
                pcr0: pcr("pcr0", &e.pcr0)?,
                pcr1: pcr("pcr1", &e.pcr1)?,
                pcr2: pcr("pcr2", &e.pcr2)?,
                pcr8: e.pcr8.as_deref().map(|v| pcr("pcr8", v)).transpose()?,
            };
            entries.push(PolicyEntry {
                expires: e.expires.map(|d| expiry(&e.name, d)).transpose()?,
                config: config_pin(&e.name, e.config.as_deref())?,
                name: e.name,
                allowed,
            });
        }
        for e in file.sev_snp {
            let allowed = Allowed::SevSnp {
                measurement: decode_exact::<48>(&e.measurement).ok_or_else(|| {
                    entry_error(&e.name, "measurement is not 48 bytes of hex".into())
                })?,
                host_data: e
                    .host_data
                    .as_deref()
                    .map(|v| {
                        decode_exact::<32>(v).ok_or_else(|| {
                            entry_error(&e.name, "host_data is not 32 bytes of hex".into())
                        })
                    })
                    .transpose()?,
                vmpl: e.vmpl,
                min_tcb: e.min_tcb,
            };
            entries.push(PolicyEntry {
                expires: e.expires.map(|d| expiry(&e.name, d)).transpose()?,
                config: config_pin(&e.name, e.config.as_deref())?,
                name: e.name,
                allowed,
            });
        }
        let dev_root = file
            .dev_root
            .as_deref()
            .map(|pem| {
                use x509_cert::der::{DecodePem, Encode};
                x509_cert::Certificate::from_pem(pem.as_bytes())
                    .and_then(|cert| cert.to_der())
                    .map_err(PolicyError::DevRoot)
            })
            .transpose()?;
        let policy = MeasurementPolicy {
            allow_debug: file.allow_debug,
            allow_migration_agent: file.allow_migration_agent,
            dev_root,
            entries,
        };
        policy.invariant()?;
        Ok(policy)
    }

    /// What every policy must satisfy: at least one entry, unique non-empty names, valid
    /// VMPLs, and no debug measurement (all-zero PCRs) unless `allow_debug`.
    pub fn invariant(&self) -> Result<(), PolicyError> {
        if self.entries.is_empty() {
            return Err(PolicyError::Empty);
        }
        let mut names = std::collections::BTreeSet::new();
        for entry in &self.entries {
            if entry.name.trim().is_empty() {
                return Err(entry_error(&entry.name, "the name is empty".into()));
            }
            if !names.insert(entry.name.as_str()) {
                return Err(entry_error(&entry.name, "the name is used twice".into()));
            }
            match &entry.allowed {
                Allowed::Nitro {
                    pcr0, pcr1, pcr2, ..
                } => {
                    let zero = [pcr0, pcr1, pcr2].iter().any(|p| p.iter().all(|b| *b == 0));
                    if zero && !self.allow_debug {
                        return Err(entry_error(
                            &entry.name,
                            "an all-zero PCR0, PCR1 or PCR2 is a debug enclave; set allow_debug = true to accept it".into(),
                        ));
                    }
                }
                Allowed::SevSnp { vmpl, .. } => {
                    if *vmpl > 3 {
                        return Err(entry_error(
                            &entry.name,
                            format!("vmpl {vmpl} is not 0 to 3"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The allowed sets in a canonical JSON form: what a Lit attested-release condition pins
    /// by hash (`allowed_sets_sha256_hex`). Entries keep the file's order; absent optional
    /// values are null; bytes are lowercase hex; expiries are unix seconds.
    pub fn canonical_json(&self) -> String {
        let hex_opt = |v: Option<&[u8]>| v.map(hex::encode);
        let entries: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| match &e.allowed {
                Allowed::Nitro {
                    pcr0,
                    pcr1,
                    pcr2,
                    pcr8,
                } => serde_json::json!({
                    "kind": "nitro",
                    "name": e.name,
                    "pcr0": hex::encode(pcr0),
                    "pcr1": hex::encode(pcr1),
                    "pcr2": hex::encode(pcr2),
                    "pcr8": hex_opt(pcr8.as_ref().map(|p| p.as_slice())),
                    "config": hex_opt(e.config.as_ref().map(|c| c.as_slice())),
                    "expires": e.expires,
                }),
                Allowed::SevSnp {
                    measurement,
                    host_data,
                    vmpl,
                    min_tcb,
                } => serde_json::json!({
                    "kind": "sev-snp",
                    "name": e.name,
                    "measurement": hex::encode(measurement),
                    "hostData": hex_opt(host_data.as_ref().map(|h| h.as_slice())),
                    "vmpl": vmpl,
                    "config": hex_opt(e.config.as_ref().map(|c| c.as_slice())),
                    "minTcb": min_tcb.map(|t| serde_json::json!({
                        "bootloader": t.bootloader, "tee": t.tee, "snp": t.snp, "microcode": t.microcode,
                    })),
                    "expires": e.expires,
                }),
            })
            .collect();
        let mut canonical = serde_json::json!({
            "allowDebug": self.allow_debug,
            "allowMigrationAgent": self.allow_migration_agent,
            "entries": entries,
        });
        // Only when present, so policies without one keep their hash.
        if let Some(der) = &self.dev_root {
            use base64::Engine as _;
            canonical["devRoot"] = base64::engine::general_purpose::STANDARD.encode(der).into();
        }
        canonical.to_string()
    }

    /// SHA-256 of `canonical_json`.
    pub fn allowed_sets_sha256(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(self.canonical_json().as_bytes()).into()
    }

    /// SHA-256 of `canonical_json`, lowercase hex.
    pub fn allowed_sets_sha256_hex(&self) -> String {
        hex::encode(self.allowed_sets_sha256())
    }

    /// Whether every entry pins the configuration (what an attested release requires: an
    /// unpinned entry would release keys to its image under any configuration).
    pub fn pins_every_config(&self) -> bool {
        self.entries.iter().all(|e| e.config.is_some())
    }

    /// The first live entry that allows `measurement` at time `at`.
    pub fn check(&self, measurement: &Measurement, at: u64) -> Result<&PolicyEntry, VerifyError> {
        let mut expired: Option<&PolicyEntry> = None;
        for entry in self
            .entries
            .iter()
            .filter(|e| e.allowed.matches(measurement))
        {
            match entry.expires {
                Some(expires) if at >= expires => {
                    expired.get_or_insert(entry);
                }
                _ => return Ok(entry),
            }
        }
        match expired {
            Some(entry) => Err(VerifyError::PolicyExpired {
                entry: entry.name.clone(),
                expired_at: entry.expires.unwrap_or_default(),
            }),
            None => Err(VerifyError::Measurement {
                what: describe(measurement),
            }),
        }
    }
}

impl Allowed {
    fn matches(&self, measurement: &Measurement) -> bool {
        match (self, measurement) {
            (
                Allowed::Nitro {
                    pcr0,
                    pcr1,
                    pcr2,
                    pcr8,
                },
                Measurement::Nitro {
                    pcr0: m0,
                    pcr1: m1,
                    pcr2: m2,
                    pcr8: m8,
                },
            ) => pcr0 == m0 && pcr1 == m1 && pcr2 == m2 && pcr8.is_none_or(|p| Some(p) == *m8),
            (
                Allowed::SevSnp {
                    measurement,
                    host_data,
                    vmpl,
                    ..
                },
                Measurement::SevSnp {
                    measurement: m,
                    host_data: h,
                    vmpl: v,
                },
            ) => measurement == m && host_data.is_none_or(|d| d == *h) && vmpl == v,
            _ => false,
        }
    }
}

fn describe(measurement: &Measurement) -> String {
    match measurement {
        Measurement::Nitro {
            pcr0, pcr1, pcr2, ..
        } => format!(
            "no entry allows PCR0 {} PCR1 {} PCR2 {}",
            hex::encode(pcr0),
            hex::encode(pcr1),
            hex::encode(pcr2)
        ),
        Measurement::SevSnp {
            measurement,
            host_data,
            vmpl,
        } => format!(
            "no entry allows measurement {} host_data {} at VMPL {vmpl}",
            hex::encode(measurement),
            hex::encode(host_data)
        ),
    }
}

fn config_pin(name: &str, value: Option<&str>) -> Result<Option<[u8; 32]>, PolicyError> {
    value
        .map(|v| {
            decode_exact::<32>(v)
                .ok_or_else(|| entry_error(name, "config is not 32 bytes of hex".into()))
        })
        .transpose()
}

fn entry_error(name: &str, what: String) -> PolicyError {
    PolicyError::Entry {
        entry: name.to_owned(),
        what,
    }
}

/// A TOML datetime with a date, a time and an offset, as unix seconds.
fn expiry(name: &str, value: toml::value::Datetime) -> Result<u64, PolicyError> {
    let bad = || {
        entry_error(
            name,
            format!(
                "expires {value} needs a date, a time and an offset (e.g. 2027-06-01T00:00:00Z)"
            ),
        )
    };
    let (Some(date), Some(time), Some(offset)) = (value.date, value.time, value.offset) else {
        return Err(bad());
    };
    let offset_minutes = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    let local = clock::unix_seconds(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
        u32::from(time.hour),
        u32::from(time.minute),
        u32::from(time.second),
    )
    .ok_or_else(bad)?;
    let utc = i64::try_from(local).map_err(|_| bad())? - offset_minutes * 60;
    u64::try_from(utc).map_err(|_| bad())
}
