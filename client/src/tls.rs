//! The client side of the API's mutual TLS: the operator's PKI (a CA and client
//! certificates, for `scripts/dev-up` and operators without their own) and a server
//! verifier that trusts the enclave by the SHA-256 of its key, the value its attestation
//! binds, instead of by a CA.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating a key or certificate")]
    Generate(#[from] rcgen::Error),
}

/// A certificate and its private key, both PEM (the key in `Zeroizing`).
pub struct Issued {
    pub certificate_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issued { certificate_pem, key_pem: <redacted> }")
    }
}

/// An operator CA that can issue client certificates.
pub struct OperatorCa {
    params: CertificateParams,
    key: KeyPair,
    certificate_pem: String,
}

impl std::fmt::Debug for OperatorCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorCa { key: <redacted> }")
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl OperatorCa {
    /// A new CA valid for ten years from now.
    pub fn generate(common_name: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::new())?;
        params.distinguished_name = name(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now;
        params.not_after = now + std::time::Duration::from_secs(10 * 365 * 86_400);
        let certificate_pem = params.clone().self_signed(&key)?.pem();
        Ok(Self {
            params,
            key,
            certificate_pem,
        })
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub fn key_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(self.key.serialize_pem())
    }

    /// A client certificate for `common_name`, valid from `not_before` to `not_after` (Unix
    /// seconds); tests make expired ones.
    pub fn issue_client(
        &self,
        common_name: &str,
        not_before: i64,
        not_after: i64,
    ) -> Result<Issued, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::new())?;
        params.distinguished_name = name(common_name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = unix(not_before);
        params.not_after = unix(not_after);
        let issuer = self.params.clone().self_signed(&self.key)?;
        let certificate = params.signed_by(&key, &issuer, &self.key)?;
        Ok(Issued {
            certificate_pem: certificate.pem(),
            key_pem: Zeroizing::new(key.serialize_pem()),
        })
    }
}

fn unix(seconds: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Trusts a server certificate exactly when SHA-256 of its SubjectPublicKeyInfo is the pinned
/// value (from a verified attestation), and checks the handshake signature with that key.
#[derive(Debug)]
pub struct PinnedServerKey {
    spki_sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl PinnedServerKey {
    pub fn new(spki_sha256: [u8; 32]) -> Self {
        Self {
            spki_sha256,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }
}

/// SHA-256 of a DER certificate's SubjectPublicKeyInfo.
pub fn spki_sha256(certificate_der: &[u8]) -> Option<[u8; 32]> {
    let certificate = x509_cert::Certificate::from_der(certificate_der).ok()?;
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()?;
    Some(Sha256::digest(spki).into())
}

impl ServerCertVerifier for PinnedServerKey {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match spki_sha256(end_entity) {
            Some(hash) if hash == self.spki_sha256 => Ok(ServerCertVerified::assertion()),
            Some(_) => Err(rustls::Error::General(
                "the server's key is not the attested one".into(),
            )),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
