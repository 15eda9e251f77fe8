//! Evidence as produced by a TEE, and its versioned JSON envelope for transport.
//!
//! ```json
//! {"version":1,"platform":"nitro","document":"<base64 COSE_Sign1>"}
//! {"version":1,"platform":"dev","document":"<base64 COSE_Sign1 under the dev root>"}
//! {"version":1,"platform":"sev-snp","report":"<base64, 1184 bytes>","vek":"<base64 DER>",
//!  "chain":["<base64 DER ASK or ASVK>","<base64 DER ARK>"]}
//! ```
//!
//! The platform label decides which roots the verifier uses; a dev document labelled
//! "nitro" is checked against the AWS root and fails. An SNP `chain` is carried as the
//! platform delivered it, but never trusted: the verifier uses its compiled-in AMD roots.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::EnvelopeError;
use crate::nitro::document::MAX_DOCUMENT_BYTES;

/// The envelope version this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;
const MAX_CERT_BYTES: usize = 8 * 1024;
const MAX_CHAIN_CERTS: usize = 4;
/// An SNP report is exactly this long (AMD SEV-SNP ABI, ATTESTATION_REPORT).
pub const SNP_REPORT_BYTES: usize = 1184;

/// Which kind of TEE (or the dev stand-in) produced the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    Nitro,
    SevSnp,
    Dev,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Nitro => "nitro",
            Platform::SevSnp => "sev-snp",
            Platform::Dev => "dev",
        })
    }
}

/// Evidence bytes, unverified.
#[derive(Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A COSE_Sign1 attestation document from the Nitro Secure Module.
    Nitro { document: Vec<u8> },
    /// An SNP attestation report with the VCEK or VLEK that signed it (DER), and whatever
    /// CA certificates the platform delivered with it (DER; informational).
    SevSnp {
        report: Vec<u8>,
        vek: Vec<u8>,
        chain: Vec<Vec<u8>>,
    },
    /// A Nitro-format document signed under a dev root.
    Dev { document: Vec<u8> },
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Nitro { document } => write!(f, "Evidence::Nitro({} bytes)", document.len()),
            Evidence::Dev { document } => write!(f, "Evidence::Dev({} bytes)", document.len()),
            Evidence::SevSnp { report, vek, chain } => write!(
                f,
                "Evidence::SevSnp(report {} bytes, vek {} bytes, {} chain certs)",
                report.len(),
                vek.len(),
                chain.len()
            ),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    version: u32,
    platform: Platform,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    report: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vek: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chain: Option<Vec<String>>,
}

impl Evidence {
    /// The timestamp (Unix milliseconds) a Nitro Secure Module put in its document, unverified:
    /// for evidence this enclave just produced from /dev/nsm, time the host cannot forge.
    /// `None` for other platforms (SNP reports carry no time) and for dev documents (their
    /// time is the dev process's own clock).
    pub fn nitro_timestamp_ms(&self) -> Option<u64> {
        match self {
            Evidence::Nitro { document } => crate::nitro::document::parse(document)
                .ok()
                .map(|signed| signed.document.timestamp_ms),
            Evidence::SevSnp { .. } | Evidence::Dev { .. } => None,
        }
    }

    pub fn platform(&self) -> Platform {
        match self {
            Evidence::Nitro { .. } => Platform::Nitro,
            Evidence::SevSnp { .. } => Platform::SevSnp,
            Evidence::Dev { .. } => Platform::Dev,
        }
    }

    fn envelope(&self) -> Envelope {
        let b64 = |b: &[u8]| STANDARD.encode(b);
        let mut envelope = Envelope {
            version: ENVELOPE_VERSION,
            platform: self.platform(),
            document: None,
            report: None,
            vek: None,
            chain: None,
        };
        match self {
            Evidence::Nitro { document } | Evidence::Dev { document } => {
                envelope.document = Some(b64(document));
            }
            Evidence::SevSnp { report, vek, chain } => {
                envelope.report = Some(b64(report));
                envelope.vek = Some(b64(vek));
                envelope.chain = Some(chain.iter().map(|c| b64(c)).collect());
            }
        }
        envelope
    }

    /// The JSON envelope.
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings cannot fail.
        serde_json::to_string(&self.envelope()).unwrap_or_default()
    }

    /// The JSON envelope as a value, for embedding in another JSON document.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self.envelope()).unwrap_or_default()
    }

    /// Reads a JSON envelope. Fields that do not belong to the platform are refused.
    pub fn from_json(text: &str) -> Result<Self, EnvelopeError> {
        let envelope: Envelope = serde_json::from_str(text)?;
        if envelope.version != ENVELOPE_VERSION {
            return Err(EnvelopeError::Version(envelope.version));
        }
        let present = |name: &'static str, value: &Option<String>| -> Result<(), EnvelopeError> {
            match value {
                Some(_) => Err(EnvelopeError::Misplaced {
                    field: name,
                    platform: envelope.platform,
                }),
                None => Ok(()),
            }
        };
        match envelope.platform {
            Platform::Nitro | Platform::Dev => {
                present("report", &envelope.report)?;
                present("vek", &envelope.vek)?;
                if envelope.chain.is_some() {
                    return Err(EnvelopeError::Misplaced {
                        field: "chain",
                        platform: envelope.platform,
                    });
                }
                let document =
                    decode("document", envelope.document.as_deref(), MAX_DOCUMENT_BYTES)?;
                Ok(if envelope.platform == Platform::Nitro {
                    Evidence::Nitro { document }
                } else {
                    Evidence::Dev { document }
                })
            }
            Platform::SevSnp => {
                present("document", &envelope.document)?;
                let report = decode("report", envelope.report.as_deref(), SNP_REPORT_BYTES)?;
                let vek = decode("vek", envelope.vek.as_deref(), MAX_CERT_BYTES)?;
                let chain_text = envelope.chain.unwrap_or_default();
                if chain_text.len() > MAX_CHAIN_CERTS {
                    return Err(EnvelopeError::TooLarge {
                        field: "chain",
                        len: chain_text.len(),
                        max: MAX_CHAIN_CERTS,
                    });
                }
                let chain = chain_text
                    .iter()
                    .map(|c| decode("chain", Some(c), MAX_CERT_BYTES))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Evidence::SevSnp { report, vek, chain })
            }
        }
    }
}

fn decode(field: &'static str, text: Option<&str>, max: usize) -> Result<Vec<u8>, EnvelopeError> {
    let text = text.ok_or(EnvelopeError::Missing(field))?;
    // Base64 is 4/3 the size of its bytes; refuse before decoding anything oversized.
    if text.len() / 4 * 3 > max + 3 {
        return Err(EnvelopeError::TooLarge {
            field,
            len: text.len() / 4 * 3,
            max,
        });
    }
    let bytes = STANDARD
        .decode(text)
        .map_err(|source| EnvelopeError::Base64 { field, source })?;
    if bytes.len() > max {
        return Err(EnvelopeError::TooLarge {
            field,
            len: bytes.len(),
            max,
        });
    }
    Ok(bytes)
}
