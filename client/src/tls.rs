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
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating a key or certificate")]
    Generate(#[from] rcgen::Error),
    #[error("the client certificate or key PEM is not usable")]
    ClientPem,
    #[error("building the TLS client configuration")]
    Config(#[source] rustls::Error),
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

/// How a server key is judged: equal to the attested hash, or recorded (first contact, for
/// the one request that fetches the attestation binding it).
#[derive(Debug)]
enum KeyCheck {
    Pinned([u8; 32]),
    Capture(SeenKey),
}

/// Where the capturing verifier records the server key's hash.
pub type SeenKey = Arc<std::sync::Mutex<Option<[u8; 32]>>>;

/// Trusts a server certificate by SHA-256 of its SubjectPublicKeyInfo (the value the
/// attestation binds), not by a CA, and checks the TLS 1.3 handshake signature with its key.
#[derive(Debug)]
pub struct ServerKeyVerifier {
    check: KeyCheck,
    provider: Arc<CryptoProvider>,
}

impl ServerKeyVerifier {
    fn new(check: KeyCheck) -> Self {
        Self {
            check,
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

impl ServerCertVerifier for ServerKeyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let hash = spki_sha256(end_entity).ok_or(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadEncoding,
        ))?;
        match &self.check {
            KeyCheck::Pinned(pinned) if *pinned == hash => Ok(ServerCertVerified::assertion()),
            KeyCheck::Pinned(_) => Err(rustls::Error::General(
                "the server's key is not the attested one".into(),
            )),
            KeyCheck::Capture(seen) => {
                if let Ok(mut seen) = seen.lock() {
                    *seen = Some(hash);
                }
                Ok(ServerCertVerified::assertion())
            }
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

fn client_config(
    check: KeyCheck,
    client: Option<(&str, &str)>,
) -> Result<Arc<ClientConfig>, PkiError> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(PkiError::Config)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ServerKeyVerifier::new(check)));
    Ok(Arc::new(match client {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert_pem.as_bytes())
                    .map_err(|_| PkiError::ClientPem)?],
                rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
                    .map_err(|_| PkiError::ClientPem)?,
            )
            .map_err(PkiError::Config)?,
    }))
}

/// TLS 1.3 to a server trusted by its attested key hash, with an optional client certificate
/// and key (PEM).
pub fn pinned_config(
    spki_sha256: [u8; 32],
    client: Option<(&str, &str)>,
) -> Result<Arc<ClientConfig>, PkiError> {
    client_config(KeyCheck::Pinned(spki_sha256), client)
}

/// TLS 1.3 that accepts any server key and records its hash, for the one request that
/// fetches the attestation binding that key; nothing else may be sent over it.
pub fn capture_config(
    client: Option<(&str, &str)>,
) -> Result<(Arc<ClientConfig>, SeenKey), PkiError> {
    let seen: SeenKey = Arc::new(std::sync::Mutex::new(None));
    Ok((
        client_config(KeyCheck::Capture(Arc::clone(&seen)), client)?,
        seen,
    ))
}
