//! The SEV-SNP attestation report, parsed by the sev crate and held to an exact round trip.
//!
//! The sev crate verifies the report signature over its own re-encoding of the parsed
//! report, which writes zeros where the layout is reserved. We therefore require the
//! re-encoding to equal the received bytes: then the signed bytes are exactly the bytes we
//! were given, and a report with anything in a reserved field (which we would not
//! understand) is refused instead of silently normalised.

use sev::firmware::guest::AttestationReport;
use sev::parser::ByteParser;

use crate::error::VerifyError;
use crate::evidence::SNP_REPORT_BYTES;

/// ECDSA P-384 with SHA-384, the only signature algorithm SNP firmware uses.
const SIG_ALGO_ECDSA_P384_SHA384: u32 = 1;
/// Offsets of the signature's r and s fields (ABI: SIGNATURE at 0x2A0, r then s, 72 bytes each).
const SIGNATURE_R: usize = 0x2a0;
const SIGNATURE_S: usize = 0x2a0 + 72;

/// Which key signed the report (KEY_INFO.SIGNING_KEY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SigningKey {
    Vcek,
    Vlek,
}

/// A parsed report whose bytes round-trip exactly.
#[derive(Debug, Clone)]
pub struct SnpReport {
    pub report: AttestationReport,
    pub signing_key: SigningKey,
}

impl SnpReport {
    /// Guest policy bit 19: the hypervisor may debug the guest (read its memory).
    pub fn debug_allowed(&self) -> bool {
        self.report.policy.debug_allowed()
    }
}

/// Parses a raw report.
pub fn parse(bytes: &[u8]) -> Result<SnpReport, VerifyError> {
    if bytes.len() != SNP_REPORT_BYTES {
        return Err(VerifyError::malformed(format!(
            "an SEV-SNP report is {SNP_REPORT_BYTES} bytes, this is {}",
            bytes.len()
        )));
    }
    let report = AttestationReport::from_bytes_with(bytes, ())
        .map_err(|e| VerifyError::malformed_by("the SEV-SNP report does not parse", e))?;
    if !(2..=5).contains(&report.version) {
        return Err(VerifyError::malformed(format!(
            "SEV-SNP report version {} is not one this verifier knows (2 to 5)",
            report.version
        )));
    }
    let reencoded = report
        .to_bytes_with(())
        .map_err(|e| VerifyError::malformed_by("the SEV-SNP report cannot be re-encoded", e))?;
    if reencoded.as_slice() != bytes {
        return Err(VerifyError::malformed(
            "the SEV-SNP report has non-zero reserved bytes or a layout this verifier does not know",
        ));
    }
    // The signature's r and s are 72-byte little-endian fields of which P-384 uses 48; the
    // rest must be zero, or bytes outside the signed area could change unnoticed.
    let padding_zero = |start: usize| bytes[start + 48..start + 72].iter().all(|b| *b == 0);
    if !padding_zero(SIGNATURE_R) || !padding_zero(SIGNATURE_S) {
        return Err(VerifyError::malformed(
            "the report signature has non-zero bytes beyond the P-384 components",
        ));
    }
    if report.sig_algo != SIG_ALGO_ECDSA_P384_SHA384 {
        return Err(VerifyError::malformed(format!(
            "the report names signature algorithm {}, not ECDSA P-384 SHA-384",
            report.sig_algo
        )));
    }
    if report.key_info.mask_chip_key() {
        return Err(VerifyError::signature(
            "the report is unsigned (MASK_CHIP_KEY is set)",
            None,
        ));
    }
    let signing_key = match report.key_info.signing_key() {
        0 => SigningKey::Vcek,
        1 => SigningKey::Vlek,
        other => {
            return Err(VerifyError::malformed(format!(
                "the report names signing key {other}, neither VCEK (0) nor VLEK (1)"
            )))
        }
    };
    Ok(SnpReport {
        report,
        signing_key,
    })
}
