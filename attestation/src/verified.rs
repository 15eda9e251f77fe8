//! What a verifier read out of evidence that passed: the fields auditors look at.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::evidence::Platform;
use crate::hexfmt;
use crate::measurement::Measurement;
use crate::snp::report::SigningKey;
use crate::snp::roots::Product;
use crate::snp::vek::Tcb;

/// Evidence that verified, with every field a relying party may act on.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub platform: Platform,
    /// The time the chain was checked at (unix seconds).
    pub verified_at: u64,
    pub debug: bool,
    pub measurement: Measurement,
    /// Nitro `user_data` or SNP `report_data`: where the binding goes.
    #[serde(serialize_with = "hexfmt::option")]
    pub report_data: Option<Vec<u8>>,
    /// Nitro `public_key` (aip-signer's enclaves leave it empty); SNP has none.
    #[serde(serialize_with = "hexfmt::option")]
    pub public_key: Option<Vec<u8>>,
    /// Nitro `nonce`; SNP carries its nonce only inside the binding.
    #[serde(serialize_with = "hexfmt::option")]
    pub nonce: Option<Vec<u8>>,
    /// The policy entry that allowed the measurement, if a policy was given.
    pub policy_entry: Option<String>,
    pub nonce_checked: bool,
    pub binding_checked: bool,
    pub details: Details,
}

/// Platform-specific fields.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    Nitro(NitroDetails),
    SevSnp(SnpDetails),
}

#[derive(Debug, Clone, Serialize)]
pub struct NitroDetails {
    pub module_id: String,
    pub timestamp_ms: u64,
    pub digest: String,
    /// Every PCR in the document, by index, hex.
    pub pcrs: BTreeMap<u8, String>,
    pub signing_cert_not_before: u64,
    pub signing_cert_not_after: u64,
    #[serde(serialize_with = "hexfmt::bytes")]
    pub root_sha256: [u8; 32],
}

#[derive(Debug, Clone, Serialize)]
pub struct SnpDetails {
    pub product: Product,
    pub signing_key: SigningKey,
    pub version: u32,
    pub guest_svn: u32,
    /// The guest policy as a 64-bit value, hex.
    pub guest_policy: String,
    /// The guest policy's MIGRATE_MA bit (18): a migration agent may be associated.
    pub migration_agent_allowed: bool,
    pub vmpl: u32,
    pub reported_tcb: Tcb,
    #[serde(serialize_with = "hexfmt::bytes")]
    pub chip_id: [u8; 64],
    #[serde(serialize_with = "hexfmt::bytes")]
    pub family_id: [u8; 16],
    #[serde(serialize_with = "hexfmt::bytes")]
    pub image_id: [u8; 16],
    #[serde(serialize_with = "hexfmt::bytes")]
    pub id_key_digest: [u8; 48],
    #[serde(serialize_with = "hexfmt::bytes")]
    pub author_key_digest: [u8; 48],
    pub vek_not_before: u64,
    pub vek_not_after: u64,
}
