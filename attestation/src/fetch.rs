//! Connecting to a signer you have not met: fetch fresh evidence over a TLS connection whose
//! server key is recorded, and accept the server only if the evidence verifies (trust root,
//! measurement policy, our nonce) and binds exactly that TLS key. From then on the client pins
//! that key. This is what `aip-attest fetch` runs, and what `scripts/dev-up` prints as the pin.

use crate::{BoundKeys, Checks, Evidence, MeasurementPolicy, Verified, Verifier};
use aip_wire::Endpoint;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use aip_wire::https::{send, HttpError};
use aip_wire::server_key::{capture_config, ClientTlsError};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("TLS configuration")]
    Tls(#[from] ClientTlsError),
    #[error("the attestation request")]
    Http(#[from] HttpError),
    #[error("the signer answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the attestation answer is malformed: {0}")]
    Malformed(String),
    #[error("the TLS connection presented no server key")]
    NoServerKey,
    #[error("the evidence binds another TLS key than the one this connection used")]
    KeyMismatch,
    #[error("the evidence does not verify")]
    Evidence(#[source] crate::VerifyError),
}

/// A verified signer: the TLS key hash to pin and what the evidence said.
#[derive(Debug, Clone)]
pub struct AttestedSigner {
    pub spki_sha256: [u8; 32],
    pub keys: BoundKeys,
    pub verified: Verified,
}

/// Fetches and verifies the signer's attestation at `endpoint` with a fresh random nonce.
pub async fn fetch(
    endpoint: &Endpoint,
    client: Option<(&str, &str)>,
    verifier: &Verifier,
    policy: Option<&MeasurementPolicy>,
    now: u64,
) -> Result<AttestedSigner, FetchError> {
    let mut nonce = [0u8; 32];
    OsRng.fill_bytes(&mut nonce);
    let (config, seen) = capture_config(client)?;
    let path = format!("/v1/attestation?nonce={}", hex::encode(nonce));
    let response = send(endpoint, config, "GET", &path, &[], Vec::new()).await?;
    if response.status != 200 {
        return Err(FetchError::Status {
            status: response.status,
            body: String::from_utf8_lossy(&response.body)
                .chars()
                .take(300)
                .collect(),
        });
    }
    let spki_sha256 = seen
        .lock()
        .ok()
        .and_then(|s| *s)
        .ok_or(FetchError::NoServerKey)?;
    let body = response.json();
    let evidence = Evidence::from_json(&body["evidence"].to_string())
        .map_err(|e| FetchError::Malformed(format!("evidence: {e}")))?;
    let keys = bound_keys(&body["boundKeys"])?;
    if <[u8; 32]>::from(Sha256::digest(&keys.tls_spki_der)) != spki_sha256 {
        return Err(FetchError::KeyMismatch);
    }
    let mut checks = Checks::at(now);
    checks.policy = policy;
    checks.nonce = Some(&nonce);
    checks.bound_keys = Some(&keys);
    let verified = verifier
        .verify(&evidence, &checks)
        .map_err(FetchError::Evidence)?;
    Ok(AttestedSigner {
        spki_sha256,
        keys,
        verified,
    })
}

fn bound_keys(value: &serde_json::Value) -> Result<BoundKeys, FetchError> {
    let text = |name: &str| {
        value[name]
            .as_str()
            .ok_or_else(|| FetchError::Malformed(format!("boundKeys.{name} is missing")))
    };
    let hex32 = |name: &str| -> Result<[u8; 32], FetchError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text(name)?, &mut out).map_err(|_| {
            FetchError::Malformed(format!("boundKeys.{name} is not 32 bytes of hex"))
        })?;
        Ok(out)
    };
    Ok(BoundKeys {
        tls_spki_der: base64::engine::general_purpose::STANDARD
            .decode(text("tlsSpkiDer")?)
            .map_err(|_| FetchError::Malformed("boundKeys.tlsSpkiDer is not base64".into()))?,
        signing_public_key: hex32("signingPublicKey")?,
        release_address: {
            let mut out = [0u8; 20];
            let text = text("releaseAddress")?;
            hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut out).map_err(
                |_| FetchError::Malformed("boundKeys.releaseAddress is not 20 bytes of hex".into()),
            )?;
            out
        },
        config_sha256: hex32("configSha256")?,
    })
}
