//! Trusting the signer's TLS key by the hash its attestation binds, not by a CA: a rustls
//! verifier that either pins that hash or, for first contact, records it; and the TLS 1.3
//! client configurations built on it (with the operator's client certificate).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

#[derive(Debug, thiserror::Error)]
pub enum ClientTlsError {
    #[error("the client certificate or key PEM is not usable")]
    ClientPem,
    #[error("building the TLS client configuration")]
    Config(#[source] rustls::Error),
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
) -> Result<Arc<ClientConfig>, ClientTlsError> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(ClientTlsError::Config)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ServerKeyVerifier::new(check)));
    Ok(Arc::new(match client {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert_pem.as_bytes())
                    .map_err(|_| ClientTlsError::ClientPem)?],
                rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
                    .map_err(|_| ClientTlsError::ClientPem)?,
            )
            .map_err(ClientTlsError::Config)?,
    }))
}

/// TLS 1.3 to a server trusted by its attested key hash, with an optional client certificate
/// and key (PEM).
pub fn pinned_config(
    spki_sha256: [u8; 32],
    client: Option<(&str, &str)>,
) -> Result<Arc<ClientConfig>, ClientTlsError> {
    client_config(KeyCheck::Pinned(spki_sha256), client)
}

/// TLS 1.3 that accepts any server key and records its hash, for the one request that
/// fetches the attestation binding that key; nothing else may be sent over it.
pub fn capture_config(
    client: Option<(&str, &str)>,
) -> Result<(Arc<ClientConfig>, SeenKey), ClientTlsError> {
    let seen: SeenKey = Arc::new(std::sync::Mutex::new(None));
    Ok((
        client_config(KeyCheck::Capture(Arc::clone(&seen)), client)?,
        seen,
    ))
}
