//! Evidence from an SEV-SNP guest: the kernel's configfs-tsm interface
//! (/sys/kernel/config/tsm/report, Linux 6.7+), falling back to the /dev/sev-guest ioctl
//! through the sev crate on older kernels.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sev::firmware::guest::Firmware;
use sev::firmware::host::{CertTableEntry, CertType};

use crate::binding::BoundKeys;
use crate::error::ProduceError;
use crate::evidence::{Evidence, Platform, SNP_REPORT_BYTES};
use crate::producer::{check_nonce, EvidenceProducer};

/// Where the kernel mounts configfs-tsm reports.
pub const CONFIGFS_TSM_REPORTS: &str = "/sys/kernel/config/tsm/report";
const SEV_GUEST_DEVICE: &str = "/dev/sev-guest";

/// Requests SNP reports at one VMPL.
#[derive(Debug)]
pub struct SnpProducer {
    configfs_root: PathBuf,
    vmpl: u32,
    /// A VCEK/VLEK (DER) to use when the platform delivers none (the host can fetch it from
    /// AMD's KDS for the reported TCB).
    vek_fallback: Option<Vec<u8>>,
}

impl SnpProducer {
    pub fn new(vmpl: u32, vek_fallback: Option<Vec<u8>>) -> Self {
        Self {
            configfs_root: PathBuf::from(CONFIGFS_TSM_REPORTS),
            vmpl,
            vek_fallback,
        }
    }

    /// Uses another configfs-tsm report directory (tests, unusual mounts).
    pub fn with_configfs_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.configfs_root = root.into();
        self
    }

    fn raw_report(
        &self,
        report_data: [u8; 64],
    ) -> Result<(Vec<u8>, Vec<CertTableEntry>), ProduceError> {
        if self.configfs_root.is_dir() {
            return configfs_report(&self.configfs_root, report_data, self.vmpl);
        }
        let mut firmware = Firmware::open().map_err(|source| ProduceError::DeviceUnavailable {
            device: SEV_GUEST_DEVICE.into(),
            source,
        })?;
        let (report, certs) = firmware
            .get_ext_report(None, Some(report_data), Some(self.vmpl))
            .map_err(|e| ProduceError::DeviceRefused {
                device: SEV_GUEST_DEVICE.into(),
                detail: e.to_string(),
            })?;
        Ok((report, certs.unwrap_or_default()))
    }
}

impl EvidenceProducer for SnpProducer {
    fn platform(&self) -> Platform {
        Platform::SevSnp
    }

    fn produce(&self, keys: &BoundKeys, nonce: &[u8]) -> Result<Evidence, ProduceError> {
        check_nonce(nonce)?;
        let binding = keys.binding(nonce);
        let (report, certs) = self.raw_report(binding.0)?;
        evidence_from(report, &certs, self.vek_fallback.as_deref(), &binding.0)
    }
}

/// Assembles evidence from a raw report and the platform's certificate table.
pub fn evidence_from(
    report: Vec<u8>,
    certs: &[CertTableEntry],
    vek_fallback: Option<&[u8]>,
    expected_report_data: &[u8; 64],
) -> Result<Evidence, ProduceError> {
    if report.len() != SNP_REPORT_BYTES {
        return Err(ProduceError::BadEvidence(format!(
            "the report is {} bytes, not {SNP_REPORT_BYTES}",
            report.len()
        )));
    }
    // REPORT_DATA sits at offset 0x50 of the report.
    if report.get(0x50..0x90) != Some(expected_report_data.as_slice()) {
        return Err(ProduceError::BadEvidence(
            "the report does not carry the requested report data".into(),
        ));
    }
    let find = |wanted: CertType| {
        certs
            .iter()
            .find(|c| c.cert_type == wanted)
            .map(|c| c.data.clone())
    };
    let vek = find(CertType::VCEK)
        .or_else(|| find(CertType::VLEK))
        .or_else(|| vek_fallback.map(<[u8]>::to_vec))
        .ok_or(ProduceError::MissingEndorsementKey)?;
    let chain = [CertType::ASK, CertType::ARK]
        .into_iter()
        .filter_map(find)
        .collect();
    Ok(Evidence::SevSnp { report, vek, chain })
}

/// One configfs-tsm request: make an entry, write inblob, read outblob and auxblob, and
/// check that nobody else changed the entry in between (the generation counter).
fn configfs_report(
    root: &Path,
    report_data: [u8; 64],
    vmpl: u32,
) -> Result<(Vec<u8>, Vec<CertTableEntry>), ProduceError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let entry = root.join(format!(
        "aip-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |what: &str, e: std::io::Error| ProduceError::DeviceRefused {
        device: entry.display().to_string(),
        detail: format!("{what}: {e}"),
    };
    fs::create_dir(&entry).map_err(|e| io("create the report entry", e))?;
    let result = (|| {
        let provider =
            fs::read_to_string(entry.join("provider")).map_err(|e| io("read provider", e))?;
        if provider.trim() != "sev_guest" {
            return Err(ProduceError::BadEvidence(format!(
                "configfs-tsm provider is {:?}, not sev_guest",
                provider.trim()
            )));
        }
        fs::write(entry.join("privlevel"), vmpl.to_string())
            .map_err(|e| io("write privlevel", e))?;
        fs::write(entry.join("inblob"), report_data).map_err(|e| io("write inblob", e))?;
        let before =
            fs::read_to_string(entry.join("generation")).map_err(|e| io("read generation", e))?;
        let report = fs::read(entry.join("outblob")).map_err(|e| io("read outblob", e))?;
        let mut aux = fs::read(entry.join("auxblob")).unwrap_or_default();
        let after =
            fs::read_to_string(entry.join("generation")).map_err(|e| io("read generation", e))?;
        if before != after {
            return Err(ProduceError::BadEvidence(
                "the configfs-tsm entry changed while the report was read".into(),
            ));
        }
        let certs = if aux.is_empty() {
            Vec::new()
        } else {
            CertTableEntry::vec_bytes_to_cert_table(&mut aux).map_err(|e| {
                ProduceError::BadEvidence(format!("the certificate table does not parse: {e}"))
            })?
        };
        Ok((report, certs))
    })();
    // The entry is ours; removing it fails only if it is already gone.
    let _ = fs::remove_dir(&entry);
    result
}
