//! The binding of the enclave's keys and a verifier's nonce into the evidence.
//!
//! ```text
//! binding = SHA-512( lp("aip-signer/attestation/v2") || lp(SHA-256(tls_spki_der))
//!                    || lp(signing_public_key) || lp(release_address)
//!                    || lp(config digest) || lp(nonce) )
//! lp(x)   = u32_be(len(x)) || x
//! ```
//!
//! The 64 bytes go into SNP `report_data` or Nitro `user_data`; Nitro also carries the nonce
//! in `nonce`. The release address is the Ethereum address of the secp256k1 key the enclave
//! makes at boot and signs its Lit requests with: the attested-release Lit Action accepts the
//! evidence only for the address that signed the request (`:userAddress`). The length prefixes keep the fields from sliding
//! into each other. The config hash is here because PCR0 does not cover the config. See
//! `attestation/spec/binding.md` for a worked vector.

use sha2::{Digest, Sha256, Sha512};

/// Domain separation for version 2 of the binding.
pub const BINDING_DOMAIN: &[u8] = b"aip-signer/attestation/v2";
/// The most nonce bytes the NSM accepts, and so the most any producer accepts.
pub const MAX_NONCE_BYTES: usize = 512;

/// The public keys and configuration the evidence vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundKeys {
    /// SubjectPublicKeyInfo (DER) of the enclave's TLS key.
    pub tls_spki_der: Vec<u8>,
    /// The enclave's Ed25519 signing key (receipts, ledger).
    pub signing_public_key: [u8; 32],
    /// The Ethereum address (Keccak-256 of the secp256k1 key, last 20 bytes) the enclave signs
    /// its Lit requests as.
    pub release_address: [u8; 20],
    /// SHA-256 of the enclave's configuration.
    pub config_sha256: [u8; 32],
}

/// The 64-byte binding value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding(pub [u8; 64]);

impl BoundKeys {
    /// The binding of these keys with `nonce`.
    pub fn binding(&self, nonce: &[u8]) -> Binding {
        let mut hasher = Sha512::new();
        let spki_hash = Sha256::digest(&self.tls_spki_der);
        for field in [
            BINDING_DOMAIN,
            spki_hash.as_slice(),
            &self.signing_public_key,
            &self.release_address,
            &self.config_sha256,
            nonce,
        ] {
            // Every field is far below 4 GiB: the nonce is capped by callers and the rest are
            // fixed-size digests and keys.
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            hasher.update(len.to_be_bytes());
            hasher.update(field);
        }
        Binding(hasher.finalize().into())
    }
}

/// SHA-256 of a configuration's bytes (the binding's configuration field is any 32 bytes;
/// the enclave puts [`bound_config_digest`] there).
pub fn config_digest(config: &[u8]) -> [u8; 32] {
    Sha256::digest(config).into()
}

const CONFIG_DOMAIN: &[u8] = b"aip-signer/config/v1";

/// What the enclave binds as its configuration: SHA-256 of the domain, the configuration's
/// identity (what a measurement policy entry pins: the configuration without its allowed-sets
/// hash) and the allowed-sets hash (the policy it asks the Lit nodes to check it against).
/// The two are split because the policy's hash covers the identity pin: one hash over both
/// would be circular. A verifier holding the policy knows both halves.
pub fn bound_config_digest(identity: &[u8; 32], allowed_sets_sha256: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(CONFIG_DOMAIN);
    hasher.update(identity);
    hasher.update(allowed_sets_sha256);
    hasher.finalize().into()
}
