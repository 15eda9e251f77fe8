//! Trust anchors for Nitro-format documents: the pinned AWS Nitro Enclaves Root-G1, or a dev
//! root that a caller passes explicitly.

use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

use crate::error::VerifyError;
use crate::x509;

const AWS_ROOT_G1_PEM: &[u8] = include_bytes!("../../roots/nitro/aws_nitro_enclaves_root_G1.pem");

/// SHA-256 of the AWS Nitro Enclaves Root-G1 certificate (DER), as AWS publishes it.
pub const AWS_ROOT_G1_SHA256: [u8; 32] = [
    0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46, 0x31, 0x95, 0xd6, 0x06, 0x31,
    0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17, 0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b,
];

/// Which PKI a trust anchor belongs to. Documents say nothing about it; the caller decides
/// which anchor a document must chain to, so a dev document can never pass as a Nitro one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorKind {
    AwsNitro,
    Dev,
}

/// A root certificate pinned by its fingerprint.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    kind: AnchorKind,
    cert: Certificate,
    fingerprint: [u8; 32],
}

impl TrustAnchor {
    /// The AWS Nitro Enclaves Root-G1, compiled in and checked against its published
    /// fingerprint.
    pub fn aws_nitro_root_g1() -> Result<Self, VerifyError> {
        let anchor = Self::from_pem(AnchorKind::AwsNitro, AWS_ROOT_G1_PEM)?;
        if anchor.fingerprint != AWS_ROOT_G1_SHA256 {
            return Err(VerifyError::chain(
                "the compiled-in AWS root does not match its pinned fingerprint",
            ));
        }
        Ok(anchor)
    }

    /// A dev root from its PEM certificate. Only ever built from a file the operator names.
    pub fn dev_root(pem: &[u8]) -> Result<Self, VerifyError> {
        Self::from_pem(AnchorKind::Dev, pem)
    }

    fn from_pem(kind: AnchorKind, pem: &[u8]) -> Result<Self, VerifyError> {
        let cert = Certificate::from_pem(pem)
            .map_err(|e| VerifyError::malformed_by("the root is not a PEM certificate", e))?;
        let der = cert
            .to_der()
            .map_err(|e| VerifyError::malformed_by("the root cannot be re-encoded", e))?;
        Ok(Self {
            kind,
            fingerprint: x509::fingerprint(&der),
            cert,
        })
    }

    pub fn kind(&self) -> AnchorKind {
        self.kind
    }

    /// SHA-256 of the root's DER encoding.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub(crate) fn certificate(&self) -> &Certificate {
        &self.cert
    }
}
