//! The one entry point relying parties use: evidence in, verified fields or a classed error
//! out. The same code path checks production and dev evidence; only the trust anchor differs.

use crate::binding::{bound_config_digest, BoundKeys};
use crate::error::VerifyError;
use crate::evidence::{Evidence, Platform};
use crate::measurement::Measurement;
use crate::nitro::{self, TrustAnchor};
use crate::policy::{Allowed, MeasurementPolicy, PolicyEntry};
use crate::snp::{self, roots::ProductRoots};
use crate::verified::{Details, NitroDetails, SnpDetails, Verified};

/// What the caller requires beyond a valid signature and chain.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    /// The time to check certificate validity at, unix seconds. Always explicit.
    pub at: u64,
    /// Allowed measurements and `allow_debug`. Without a policy, debug evidence is refused
    /// and the measurement is reported but not judged.
    pub policy: Option<&'a MeasurementPolicy>,
    /// The nonce the caller sent.
    pub nonce: Option<&'a [u8]>,
    /// The keys the evidence must bind (with `nonce`).
    pub bound_keys: Option<&'a BoundKeys>,
}

impl<'a> Checks<'a> {
    /// Only signature, chain and validity at `at` (and no debug evidence).
    pub fn at(at: u64) -> Self {
        Checks {
            at,
            policy: None,
            nonce: None,
            bound_keys: None,
        }
    }
}

/// Verifies evidence against pinned roots.
#[derive(Debug, Clone)]
pub struct Verifier {
    aws_root: TrustAnchor,
    dev_root: Option<TrustAnchor>,
    snp_roots: Vec<ProductRoots>,
}

impl Verifier {
    /// A verifier that trusts only the production roots (AWS Root-G1, AMD ARKs).
    pub fn new() -> Result<Self, VerifyError> {
        Ok(Verifier {
            aws_root: TrustAnchor::aws_nitro_root_g1()?,
            dev_root: None,
            snp_roots: snp::roots::builtin()?,
        })
    }

    /// Also accept `dev` evidence chaining to this dev root certificate (PEM).
    pub fn trust_dev_root(mut self, pem: &[u8]) -> Result<Self, VerifyError> {
        self.dev_root = Some(TrustAnchor::dev_root(pem)?);
        Ok(self)
    }

    /// Verifies `evidence` and applies `checks`, in this order: format, chain and validity,
    /// signature, debug, measurement policy, nonce, binding.
    pub fn verify(
        &self,
        evidence: &Evidence,
        checks: &Checks<'_>,
    ) -> Result<Verified, VerifyError> {
        let mut verified = match evidence {
            Evidence::Nitro { document } => {
                nitro_evidence(Platform::Nitro, document, &self.aws_root, checks.at)?
            }
            Evidence::Dev { document } => {
                let root = self.dev_root.as_ref().ok_or_else(|| {
                    VerifyError::chain("dev evidence is trusted only when the verifier is explicitly given the dev root")
                })?;
                nitro_evidence(Platform::Dev, document, root, checks.at)?
            }
            Evidence::SevSnp { report, vek, .. } => {
                snp_evidence(report, vek, &self.snp_roots, checks.at)?
            }
        };

        let allow_debug = checks.policy.is_some_and(|p| p.allow_debug);
        if verified.debug && !allow_debug {
            return Err(VerifyError::Debug {
                what: match verified.platform {
                    Platform::SevSnp => "the guest policy allows debugging".into(),
                    _ => "PCR0, PCR1 and PCR2 are all zero (debug-mode enclave)".into(),
                },
            });
        }
        if let Some(policy) = checks.policy {
            let entry = policy.check(&verified.measurement, checks.at)?;
            check_platform_floor(&verified, policy, entry)?;
            check_config_pin(policy, entry, checks.bound_keys)?;
            verified.policy_entry = Some(entry.name.clone());
        }
        if let Some(expected) = checks.nonce {
            check_nonce(&verified, expected, checks.bound_keys.is_some())?;
            verified.nonce_checked = true;
        }
        if let Some(keys) = checks.bound_keys {
            check_binding(&verified, keys, checks.nonce)?;
            verified.binding_checked = true;
        }
        Ok(verified)
    }
}

fn nitro_evidence(
    platform: Platform,
    document: &[u8],
    root: &TrustAnchor,
    at: u64,
) -> Result<Verified, VerifyError> {
    let checked = nitro::verify::verify(document, root, at)?;
    let doc = checked.document;
    let pcr = |index: u8| -> Result<[u8; 48], VerifyError> {
        doc.pcrs
            .get(&index)
            .and_then(|p| <[u8; 48]>::try_from(p.as_slice()).ok())
            .ok_or_else(|| VerifyError::malformed(format!("the document has no PCR{index}")))
    };
    let measurement = Measurement::Nitro {
        pcr0: pcr(0)?,
        pcr1: pcr(1)?,
        pcr2: pcr(2)?,
        pcr8: pcr(8).ok(),
    };
    Ok(Verified {
        platform,
        verified_at: at,
        debug: doc.is_debug(),
        measurement,
        report_data: doc.user_data.clone(),
        public_key: doc.public_key.clone(),
        nonce: doc.nonce.clone(),
        policy_entry: None,
        nonce_checked: false,
        binding_checked: false,
        details: Details::Nitro(NitroDetails {
            module_id: doc.module_id,
            timestamp_ms: doc.timestamp_ms,
            digest: doc.digest,
            pcrs: doc.pcrs.iter().map(|(i, v)| (*i, hex::encode(v))).collect(),
            signing_cert_not_before: checked.leaf_not_before,
            signing_cert_not_after: checked.leaf_not_after,
            root_sha256: root.fingerprint(),
        }),
    })
}

fn snp_evidence(
    report: &[u8],
    vek: &[u8],
    roots: &[ProductRoots],
    at: u64,
) -> Result<Verified, VerifyError> {
    let checked = snp::verify::verify(report, vek, roots, at)?;
    let r = &checked.report.report;
    Ok(Verified {
        platform: Platform::SevSnp,
        verified_at: at,
        debug: checked.report.debug_allowed(),
        measurement: Measurement::SevSnp {
            measurement: r.measurement,
            host_data: r.host_data,
            vmpl: r.vmpl,
        },
        report_data: Some(r.report_data.to_vec()),
        public_key: None,
        nonce: None,
        policy_entry: None,
        nonce_checked: false,
        binding_checked: false,
        details: Details::SevSnp(SnpDetails {
            product: checked.product,
            signing_key: checked.report.signing_key,
            version: r.version,
            guest_svn: r.guest_svn,
            guest_policy: format!("{:#x}", u64::from(r.policy)),
            migration_agent_allowed: r.policy.migrate_ma_allowed(),
            vmpl: r.vmpl,
            reported_tcb: checked.reported_tcb,
            chip_id: r.chip_id,
            family_id: r.family_id,
            image_id: r.image_id,
            id_key_digest: r.id_key_digest,
            author_key_digest: r.author_key_digest,
            vek_not_before: checked.vek_not_before,
            vek_not_after: checked.vek_not_after,
        }),
    })
}

/// The SEV-SNP floor of the matching entry: the reported TCB at or above `min_tcb`, and no
/// migration agent unless the policy allows one (a migration agent can move the guest's
/// memory to another platform, outside what this measurement promises).
fn check_platform_floor(
    verified: &Verified,
    policy: &MeasurementPolicy,
    entry: &PolicyEntry,
) -> Result<(), VerifyError> {
    let (Allowed::SevSnp { min_tcb, .. }, Details::SevSnp(details)) =
        (&entry.allowed, &verified.details)
    else {
        return Ok(());
    };
    let refuse = |what: String| VerifyError::Platform {
        entry: entry.name.clone(),
        what,
    };
    if details.migration_agent_allowed && !policy.allow_migration_agent {
        return Err(refuse(
            "the guest policy allows a migration agent; the policy does not set allow_migration_agent".into(),
        ));
    }
    if let Some(min) = min_tcb {
        let tcb = &details.reported_tcb;
        for (part, have, need) in [
            ("bootloader", tcb.bootloader, min.bootloader),
            ("tee", tcb.tee, min.tee),
            ("snp", tcb.snp, min.snp),
            ("microcode", tcb.microcode, min.microcode),
        ] {
            if have < need {
                return Err(refuse(format!(
                    "reported TCB {part} is {have}, the entry's minimum is {need}"
                )));
            }
        }
    }
    Ok(())
}

/// The configuration the matching entry pins: the bound keys must carry its bound digest
/// under this policy. A pin cannot be checked without the bound keys, so that fails too.
fn check_config_pin(
    policy: &MeasurementPolicy,
    entry: &PolicyEntry,
    keys: Option<&BoundKeys>,
) -> Result<(), VerifyError> {
    let Some(identity) = &entry.config else {
        return Ok(());
    };
    let refuse = |what: String| VerifyError::Config {
        entry: entry.name.clone(),
        what,
    };
    let keys = keys.ok_or_else(|| {
        refuse("the entry pins the configuration; give the bound keys to check it".into())
    })?;
    let expected = bound_config_digest(identity, &policy.allowed_sets_sha256());
    if keys.config_sha256 != expected {
        return Err(refuse(format!(
            "the evidence binds configuration digest {}, the entry's configuration {} under this policy is {}",
            hex::encode(keys.config_sha256),
            hex::encode(identity),
            hex::encode(expected)
        )));
    }
    Ok(())
}

/// Nitro documents carry the nonce in their own field. SNP reports have no nonce field: the
/// nonce can be checked only through the binding, so a nonce without bound keys fails.
fn check_nonce(
    verified: &Verified,
    expected: &[u8],
    binding_follows: bool,
) -> Result<(), VerifyError> {
    match verified.platform {
        Platform::Nitro | Platform::Dev => match &verified.nonce {
            Some(nonce) if nonce.as_slice() == expected => Ok(()),
            Some(nonce) => Err(VerifyError::Nonce {
                what: format!("expected {}, the document has {}", hex::encode(expected), hex::encode(nonce)),
            }),
            None => Err(VerifyError::Nonce {
                what: format!("expected {}, the document has no nonce", hex::encode(expected)),
            }),
        },
        Platform::SevSnp if binding_follows => Ok(()),
        Platform::SevSnp => Err(VerifyError::Nonce {
            what: "an SEV-SNP report carries its nonce only inside the binding; give the bound keys too".into(),
        }),
    }
}

fn check_binding(
    verified: &Verified,
    keys: &BoundKeys,
    nonce: Option<&[u8]>,
) -> Result<(), VerifyError> {
    let nonce = nonce.ok_or_else(|| VerifyError::Binding {
        what: "the binding covers a nonce, and none was given to check it with".into(),
    })?;
    let expected = keys.binding(nonce);
    if verified.report_data.as_deref() != Some(expected.0.as_slice()) {
        return Err(VerifyError::Binding {
            what: format!(
                "the evidence's report data is {}, the keys and nonce bind to {}",
                verified
                    .report_data
                    .as_deref()
                    .map(hex::encode)
                    .unwrap_or_else(|| "absent".into()),
                hex::encode(expected.0)
            ),
        });
    }
    Ok(())
}
