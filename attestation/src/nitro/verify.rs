//! Verification of a Nitro-format document against one trust anchor at an explicit time.

use p384::ecdsa::signature::Verifier;
use p384::ecdsa::Signature;

use super::document::{self, NitroDocument};
use super::root::TrustAnchor;
use crate::error::VerifyError;
use crate::x509;

/// A document whose signature and chain verified.
#[derive(Debug, Clone)]
pub struct VerifiedDocument {
    pub document: NitroDocument,
    /// Validity of the signing (leaf) certificate, unix seconds.
    pub leaf_not_before: u64,
    pub leaf_not_after: u64,
}

/// Parses and verifies a document: schema, chain from `anchor` through `cabundle[1..]` to the
/// signing certificate (valid at `at`), then the COSE ES384 signature.
///
/// `cabundle[0]` is the root as the document claims it; it is ignored, the anchor is used
/// instead (a document cannot choose its own root).
pub fn verify(
    bytes: &[u8],
    anchor: &TrustAnchor,
    at: u64,
) -> Result<VerifiedDocument, VerifyError> {
    let signed = document::parse(bytes)?;
    let doc = &signed.document;

    let intermediates = doc
        .cabundle
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, der)| x509::parse_der(der, &format!("cabundle[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = x509::parse_der(&doc.certificate, "the signing certificate")?;
    let leaf_key = x509::verify_p384_chain(anchor.certificate(), &intermediates, &leaf, at)?;

    let signature = Signature::from_slice(&signed.sign1.signature).map_err(|e| {
        VerifyError::signature(
            "the COSE signature is not a P-384 signature",
            Some(Box::new(e)),
        )
    })?;
    signed
        .sign1
        .verify_signature(b"", |_, tbs| leaf_key.verify(tbs, &signature))
        .map_err(|e| {
            VerifyError::signature(
                "the COSE_Sign1 signature does not verify under the signing certificate",
                Some(Box::new(e)),
            )
        })?;

    let (leaf_not_before, leaf_not_after) = x509::validity(&leaf);
    Ok(VerifiedDocument {
        document: signed.document,
        leaf_not_before,
        leaf_not_after,
    })
}
