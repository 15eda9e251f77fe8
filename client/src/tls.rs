//! The operator's PKI for the API's mutual TLS: a CA and client certificates, for
//! `scripts/dev-up` and operators without their own. Trusting the server is aip-wire's
//! `server_key` (re-exported here).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
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

pub use aip_wire::server_key::{
    capture_config, pinned_config, spki_sha256, ClientTlsError, SeenKey,
};
