//! X.509 path validation for ECDSA P-384 chains: the AWS Nitro chain and our dev chain.
//!
//! Our own code rather than a general-purpose validator: the chains are short and fixed in
//! shape (root -> intermediates -> leaf, ecdsa-with-SHA384 everywhere), so every rule is
//! checked explicitly and anything unexpected (another algorithm, an unknown critical
//! extension, a missing key usage) is refused.

use p384::ecdsa::signature::Verifier;
use p384::ecdsa::{DerSignature, VerifyingKey};
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use crate::error::VerifyError;

const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(crate) const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
pub(crate) const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// Parses one DER certificate; `what` names it in errors.
pub(crate) fn parse_der(der: &[u8], what: &str) -> Result<Certificate, VerifyError> {
    Certificate::from_der(der)
        .map_err(|e| VerifyError::malformed_by(format!("{what} is not a DER certificate"), e))
}

/// SHA-256 of a certificate's DER encoding, the way roots are pinned.
pub(crate) fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The certificate's validity period in unix seconds.
pub(crate) fn validity(cert: &Certificate) -> (u64, u64) {
    let v = &cert.tbs_certificate.validity;
    (
        v.not_before.to_unix_duration().as_secs(),
        v.not_after.to_unix_duration().as_secs(),
    )
}

/// Refuses a certificate that is not valid at `at` (inclusive bounds, as RFC 5280 says).
pub(crate) fn check_validity(cert: &Certificate, at: u64, what: &str) -> Result<(), VerifyError> {
    let (not_before, not_after) = validity(cert);
    if at < not_before || at > not_after {
        return Err(VerifyError::Expired {
            what: what.to_owned(),
            at,
            not_before,
            not_after,
        });
    }
    Ok(())
}

/// The certificate's P-384 public key; anything else is refused.
pub(crate) fn p384_key(cert: &Certificate, what: &str) -> Result<VerifyingKey, VerifyError> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    if spki.algorithm.oid != EC_PUBLIC_KEY || curve != Some(SECP384R1) {
        return Err(VerifyError::chain(format!(
            "{what} does not hold a P-384 key"
        )));
    }
    VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
        .map_err(|e| VerifyError::chain_by(format!("{what} holds an invalid P-384 key"), e))
}

/// Checks that `issuer_key` signed `cert` with ecdsa-with-SHA384.
fn check_signed_by(
    cert: &Certificate,
    issuer_key: &VerifyingKey,
    what: &str,
) -> Result<(), VerifyError> {
    let outer = &cert.signature_algorithm;
    let inner = &cert.tbs_certificate.signature;
    if outer.oid != ECDSA_WITH_SHA384 || outer.parameters.is_some() || inner != outer {
        return Err(VerifyError::chain(format!(
            "{what} is not signed with ecdsa-with-SHA384"
        )));
    }
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| VerifyError::malformed_by(format!("{what} cannot be re-encoded"), e))?;
    let signature_bytes = cert
        .signature
        .as_bytes()
        .ok_or_else(|| VerifyError::malformed(format!("{what} has a partial-byte signature")))?;
    let signature = DerSignature::try_from(signature_bytes)
        .map_err(|e| VerifyError::malformed_by(format!("{what} has a malformed signature"), e))?;
    issuer_key
        .verify(&tbs, &signature)
        .map_err(|e| VerifyError::chain_by(format!("the signature on {what} does not verify"), e))
}

/// The role a certificate plays in the chain, which decides its required extensions.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// A CA with this many CA certificates below it (the leaf not counted).
    Ca {
        below: usize,
    },
    Leaf,
}

/// Extensions: only basic constraints and key usage may be critical, both must be present
/// with the values the role needs, and the path length constraint must hold.
fn check_extensions(cert: &Certificate, role: Role, what: &str) -> Result<(), VerifyError> {
    let extensions = cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let mut basic: Option<BasicConstraints> = None;
    let mut usage: Option<KeyUsage> = None;
    for ext in extensions {
        if ext.extn_id == BASIC_CONSTRAINTS {
            if basic.is_some() {
                return Err(VerifyError::chain(format!(
                    "{what} repeats basic constraints"
                )));
            }
            basic = Some(
                BasicConstraints::from_der(ext.extn_value.as_bytes()).map_err(|e| {
                    VerifyError::malformed_by(format!("{what} has malformed basic constraints"), e)
                })?,
            );
        } else if ext.extn_id == KEY_USAGE {
            if usage.is_some() {
                return Err(VerifyError::chain(format!("{what} repeats key usage")));
            }
            usage = Some(KeyUsage::from_der(ext.extn_value.as_bytes()).map_err(|e| {
                VerifyError::malformed_by(format!("{what} has a malformed key usage"), e)
            })?);
        } else if ext.critical {
            return Err(VerifyError::chain(format!(
                "{what} has an unknown critical extension {}",
                ext.extn_id
            )));
        }
    }
    let usage = usage.ok_or_else(|| VerifyError::chain(format!("{what} has no key usage")))?;
    match role {
        Role::Ca { below } => {
            let basic = basic
                .filter(|b| b.ca)
                .ok_or_else(|| VerifyError::chain(format!("{what} is not marked as a CA")))?;
            if let Some(limit) = basic.path_len_constraint {
                if below > usize::from(limit) {
                    return Err(VerifyError::chain(format!(
                        "{what} allows {limit} CA certificates below it, the chain has {below}"
                    )));
                }
            }
            if !usage.0.contains(KeyUsages::KeyCertSign) {
                return Err(VerifyError::chain(format!(
                    "{what} may not sign certificates"
                )));
            }
        }
        Role::Leaf => {
            if basic.is_some_and(|b| b.ca) {
                return Err(VerifyError::chain(format!(
                    "{what} is a CA, not a signing leaf"
                )));
            }
            if !usage.0.contains(KeyUsages::DigitalSignature) {
                return Err(VerifyError::chain(format!("{what} may not sign documents")));
            }
        }
    }
    Ok(())
}

/// One certificate's own rules: X.509 v3, the role's extensions, valid at `at`.
fn check_certificate(
    cert: &Certificate,
    role: Role,
    at: u64,
    what: &str,
) -> Result<(), VerifyError> {
    if cert.tbs_certificate.version != x509_cert::Version::V3 {
        return Err(VerifyError::chain(format!(
            "{what} is not an X.509 v3 certificate"
        )));
    }
    check_extensions(cert, role, what)?;
    check_validity(cert, at, what)
}

/// Validates `root -> intermediates... -> leaf` at `at` and returns the leaf's key.
///
/// `root` must already be pinned by the caller (by fingerprint); it is still checked like
/// every other certificate (self-signature, CA, validity), because a pinned root that is
/// outside its validity must not be trusted either.
pub(crate) fn verify_p384_chain(
    root: &Certificate,
    intermediates: &[Certificate],
    leaf: &Certificate,
    at: u64,
) -> Result<VerifyingKey, VerifyError> {
    let root_key = p384_key(root, "the root certificate")?;
    check_signed_by(root, &root_key, "the root certificate")?;
    check_certificate(
        root,
        Role::Ca {
            below: intermediates.len(),
        },
        at,
        "the root certificate",
    )?;
    let mut issuer = root;
    let mut issuer_key = root_key;
    for (index, cert) in intermediates.iter().enumerate() {
        let what = format!("intermediate certificate {}", index + 1);
        check_issued_by(cert, issuer, &what)?;
        check_signed_by(cert, &issuer_key, &what)?;
        check_certificate(
            cert,
            Role::Ca {
                below: intermediates.len() - index - 1,
            },
            at,
            &what,
        )?;
        issuer_key = p384_key(cert, &what)?;
        issuer = cert;
    }
    check_issued_by(leaf, issuer, "the signing certificate")?;
    check_signed_by(leaf, &issuer_key, "the signing certificate")?;
    check_certificate(leaf, Role::Leaf, at, "the signing certificate")?;
    p384_key(leaf, "the signing certificate")
}

fn check_issued_by(
    cert: &Certificate,
    issuer: &Certificate,
    what: &str,
) -> Result<(), VerifyError> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(VerifyError::chain(format!(
            "{what} names issuer {}, the certificate above it is {}",
            cert.tbs_certificate.issuer, issuer.tbs_certificate.subject
        )));
    }
    Ok(())
}
