//! The API's TLS: 1.3 only (rustls, ring), a client certificate required and checked against
//! the operator CA from the measured config, and a server certificate whose key is generated
//! inside the enclave and bound in its attestation (the binding hashes this key's SPKI).
//!
//! The server certificate is self-signed: clients do not trust it by a CA but by comparing its
//! SPKI with the attested binding (`aip-attest fetch`, the SDK's pinning).

use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating the enclave's TLS key or certificate")]
    Generate(#[source] rcgen::Error),
    #[error("the operator CA is not a PEM certificate")]
    OperatorCaPem(#[source] rustls::pki_types::pem::Error),
    #[error("the operator CA PEM holds no certificate")]
    OperatorCaEmpty,
    #[error("the operator CA certificate is not usable as a trust anchor")]
    OperatorCa(#[source] rustls::Error),
    #[error("building the client-certificate verifier")]
    Verifier(#[source] rustls::server::VerifierBuilderError),
    #[error("building the TLS server configuration")]
    Config(#[source] rustls::Error),
}

/// The enclave's TLS identity: a P-256 key made here and a self-signed certificate for it.
pub struct TlsIdentity {
    certificate: CertificateDer<'static>,
    key_pkcs8: Zeroizing<Vec<u8>>,
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TlsIdentity {{ spki_sha256: {}, key: <redacted> }}",
            hex::encode(self.spki_sha256())
        )
    }
}

impl TlsIdentity {
    /// A fresh key and certificate for `server_name` (boot generates one per enclave life).
    pub fn generate(server_name: &str) -> Result<Self, TlsError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(TlsError::Generate)?;
        let mut params =
            CertificateParams::new(vec![server_name.to_owned()]).map_err(TlsError::Generate)?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "aip-signer enclave");
        params.distinguished_name = name;
        let certificate = params.self_signed(&key).map_err(TlsError::Generate)?;
        Ok(Self {
            certificate: certificate.der().clone(),
            key_pkcs8: Zeroizing::new(key.serialize_der()),
            spki_der: key.public_key_der(),
        })
    }

    /// The DER SubjectPublicKeyInfo that the attestation binding hashes.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub fn spki_sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.spki_der).into()
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    /// TLS 1.3 only; every client must present a certificate chaining to the operator CA.
    pub fn server_config(&self, operator_ca_pem: &str) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        let mut found = false;
        for certificate in CertificateDer::pem_slice_iter(operator_ca_pem.as_bytes()) {
            roots
                .add(certificate.map_err(TlsError::OperatorCaPem)?)
                .map_err(TlsError::OperatorCa)?;
            found = true;
        }
        if !found {
            return Err(TlsError::OperatorCaEmpty);
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(TlsError::Verifier)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.to_vec()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(TlsError::Config)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.certificate.clone()], key)
            .map_err(TlsError::Config)?;
        Ok(Arc::new(config))
    }
}
