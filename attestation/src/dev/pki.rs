//! The dev PKI: a P-384 root and intermediate, and leaves issued per document, all with the
//! extensions the verifier demands of AWS's chain.

use std::fs;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use p384::ecdsa::{DerSignature, SigningKey};
use p384::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand_core::{OsRng, RngCore};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::UtcTime;
use x509_cert::der::{Decode, DecodePem, Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;
use zeroize::Zeroizing;

use crate::error::ProduceError;

const ROOT_CERT_FILE: &str = "dev-root.pem";
const ROOT_KEY_FILE: &str = "dev-root.key.pem";
const DAY: u64 = 86_400;
/// AWS leaves live three hours; so do ours.
const LEAF_LIFETIME: u64 = 3 * 3600;

/// A dev root and intermediate with their keys. Debug shows no key material.
pub struct DevPki {
    root: Certificate,
    root_der: Vec<u8>,
    intermediate: Certificate,
    intermediate_der: Vec<u8>,
    intermediate_key: SigningKey,
}

impl std::fmt::Debug for DevPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevPki")
            .field("root", &self.root.tbs_certificate.subject.to_string())
            .finish_non_exhaustive()
    }
}

fn pki_error(what: &str, e: impl std::fmt::Display) -> ProduceError {
    ProduceError::DevPki(format!("{what}: {e}"))
}

fn validity(from: u64, until: u64) -> Result<Validity, ProduceError> {
    let time = |t: u64| {
        UtcTime::from_unix_duration(Duration::from_secs(t))
            .map(Time::UtcTime)
            .map_err(|e| pki_error("certificate time", e))
    };
    Ok(Validity {
        not_before: time(from)?,
        not_after: time(until)?,
    })
}

fn serial() -> Result<SerialNumber, ProduceError> {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::new(&bytes).map_err(|e| pki_error("serial number", e))
}

fn issue(
    profile: Profile,
    subject: &str,
    valid: Validity,
    subject_key: &SigningKey,
    issuer_key: &SigningKey,
) -> Result<Certificate, ProduceError> {
    let name = Name::from_str(subject).map_err(|e| pki_error("subject name", e))?;
    let spki = SubjectPublicKeyInfoOwned::from_key(*subject_key.verifying_key())
        .map_err(|e| pki_error("public key", e))?;
    let builder = CertificateBuilder::new(profile, serial()?, valid, name, spki, issuer_key)
        .map_err(|e| pki_error("certificate", e))?;
    builder
        .build::<DerSignature>()
        .map_err(|e| pki_error("signing a certificate", e))
}

fn der(cert: &Certificate) -> Result<Vec<u8>, ProduceError> {
    cert.to_der()
        .map_err(|e| pki_error("encoding a certificate", e))
}

impl DevPki {
    /// Loads the dev root from `dir` (creating it on first use) and issues a fresh
    /// intermediate. The root key file is written with mode 0600.
    pub fn load_or_create(dir: &Path, now: u64) -> Result<Self, ProduceError> {
        let cert_path = dir.join(ROOT_CERT_FILE);
        let key_path = dir.join(ROOT_KEY_FILE);
        let (root, root_key) = if cert_path.exists() && key_path.exists() {
            let pem = Zeroizing::new(
                fs::read_to_string(&key_path)
                    .map_err(|e| pki_error("reading the dev root key", e))?,
            );
            let key =
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| pki_error("the dev root key", e))?;
            let cert_pem =
                fs::read(&cert_path).map_err(|e| pki_error("reading the dev root", e))?;
            let cert =
                Certificate::from_pem(&cert_pem).map_err(|e| pki_error("the dev root", e))?;
            (cert, key)
        } else {
            let (cert, key) = Self::new_root(now)?;
            fs::create_dir_all(dir).map_err(|e| pki_error("creating the dev PKI directory", e))?;
            let key_pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| pki_error("encoding the dev root key", e))?;
            write_private(&key_path, key_pem.as_bytes())?;
            let cert_pem = cert
                .to_pem(LineEnding::LF)
                .map_err(|e| pki_error("encoding the dev root", e))?;
            fs::write(&cert_path, cert_pem).map_err(|e| pki_error("writing the dev root", e))?;
            (cert, key)
        };
        Self::with_root(root, &root_key, now)
    }

    /// A PKI that lives only in memory (tests).
    pub fn ephemeral(now: u64) -> Result<Self, ProduceError> {
        let (root, root_key) = Self::new_root(now)?;
        Self::with_root(root, &root_key, now)
    }

    fn new_root(now: u64) -> Result<(Certificate, SigningKey), ProduceError> {
        let key = SigningKey::random(&mut OsRng);
        let cert = issue(
            Profile::Root,
            "CN=aip-signer dev root,O=aip-signer dev (not trusted),C=US",
            validity(now.saturating_sub(DAY), now + 10 * 365 * DAY)?,
            &key,
            &key,
        )?;
        Ok((cert, key))
    }

    fn with_root(root: Certificate, root_key: &SigningKey, now: u64) -> Result<Self, ProduceError> {
        let intermediate_key = SigningKey::random(&mut OsRng);
        let intermediate = issue(
            Profile::SubCA {
                issuer: root.tbs_certificate.subject.clone(),
                path_len_constraint: Some(0),
            },
            "CN=aip-signer dev intermediate,O=aip-signer dev (not trusted),C=US",
            validity(now.saturating_sub(DAY), now + 365 * DAY)?,
            &intermediate_key,
            root_key,
        )?;
        Ok(Self {
            root_der: der(&root)?,
            intermediate_der: der(&intermediate)?,
            root,
            intermediate,
            intermediate_key,
        })
    }

    /// The root certificate (PEM) a verifier must be handed to trust dev evidence.
    pub fn root_pem(&self) -> Result<String, ProduceError> {
        self.root
            .to_pem(LineEnding::LF)
            .map_err(|e| pki_error("encoding the dev root", e))
    }

    /// The document's cabundle: root first, as the NSM sends it.
    pub fn cabundle(&self) -> Vec<Vec<u8>> {
        vec![self.root_der.clone(), self.intermediate_der.clone()]
    }

    /// A leaf for one document, valid from a minute ago for three hours.
    pub fn issue_leaf(
        &self,
        module_id: &str,
        now: u64,
    ) -> Result<(Vec<u8>, SigningKey), ProduceError> {
        let key = SigningKey::random(&mut OsRng);
        let cert = issue(
            Profile::Leaf {
                issuer: self.intermediate.tbs_certificate.subject.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            &format!("CN={module_id},O=aip-signer dev (not trusted),C=US"),
            validity(now.saturating_sub(60), now + LEAF_LIFETIME)?,
            &key,
            &self.intermediate_key,
        )?;
        Ok((der(&cert)?, key))
    }

    /// Checks the root a caller holds is this PKI's (by DER equality).
    pub fn is_root(&self, der_bytes: &[u8]) -> bool {
        Certificate::from_der(der_bytes).is_ok_and(|c| c == self.root)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ProduceError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| pki_error("creating the dev root key file", e))?;
    file.write_all(bytes)
        .map_err(|e| pki_error("writing the dev root key", e))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ProduceError> {
    fs::write(path, bytes).map_err(|e| pki_error("writing the dev root key", e))
}
