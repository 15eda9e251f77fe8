//! Reading evidence in the forms auditors have it.

use std::io::Read;
use std::path::Path;

use aip_attestation::evidence::SNP_REPORT_BYTES;
use aip_attestation::{Evidence, VerifyError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use x509_cert::der::{DecodePem, Encode};

/// Evidence files are a few KiB; refuse anything absurd before reading it all.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

pub fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_INPUT_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Decides what the bytes are: a JSON envelope, a raw SNP report (with its VEK), or a Nitro
/// document as COSE bytes or base64 (dev evidence when a dev root is given).
pub fn evidence(bytes: &[u8], vek: Option<&[u8]>, dev: bool) -> Result<Evidence, VerifyError> {
    if let Some(vek) = vek {
        let vek = certificate_der(vek)?;
        let report = if bytes.len() == SNP_REPORT_BYTES {
            bytes.to_vec()
        } else {
            decode_base64(bytes).ok_or_else(|| VerifyError::Malformed {
                what: format!("an SEV-SNP report is {SNP_REPORT_BYTES} bytes (raw or base64); this file is {}", bytes.len()),
                source: None,
            })?
        };
        return Ok(Evidence::SevSnp {
            report,
            vek,
            chain: vec![],
        });
    }
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    if let Some(json) = text.filter(|t| t.starts_with('{')) {
        return Evidence::from_json(json).map_err(|e| VerifyError::Malformed {
            what: format!("the evidence envelope: {e}"),
            source: Some(Box::new(e)),
        });
    }
    if bytes.len() == SNP_REPORT_BYTES {
        return Err(VerifyError::Malformed {
            what: "this looks like a raw SEV-SNP report: give its VCEK/VLEK with --vcek".into(),
            source: None,
        });
    }
    let document = match bytes.first() {
        Some(0x84 | 0xd2) => bytes.to_vec(),
        _ => decode_base64(bytes).ok_or_else(|| VerifyError::Malformed {
            what: "the file is neither a JSON envelope, COSE bytes nor base64".into(),
            source: None,
        })?,
    };
    Ok(if dev {
        Evidence::Dev { document }
    } else {
        Evidence::Nitro { document }
    })
}

fn decode_base64(bytes: &[u8]) -> Option<Vec<u8>> {
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD.decode(compact).ok()
}

/// DER as given, or PEM converted to DER.
fn certificate_der(bytes: &[u8]) -> Result<Vec<u8>, VerifyError> {
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok(bytes.to_vec());
    }
    x509_cert::Certificate::from_pem(bytes)
        .and_then(|c| c.to_der())
        .map_err(|e| VerifyError::Malformed {
            what: "the --vcek file is neither DER nor a PEM certificate".into(),
            source: Some(Box::new(e)),
        })
}
