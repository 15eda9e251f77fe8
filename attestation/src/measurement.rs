//! What the evidence says was loaded: Nitro PCRs or the SNP launch measurement.

use serde::Serialize;

use crate::hexfmt;

/// The measured identity of the code, as a policy entry matches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Measurement {
    /// PCR0 (image), PCR1 (kernel and boot ramfs), PCR2 (application), and PCR8 (the
    /// image's signing certificate) when the document has it.
    Nitro {
        #[serde(serialize_with = "hexfmt::bytes")]
        pcr0: [u8; 48],
        #[serde(serialize_with = "hexfmt::bytes")]
        pcr1: [u8; 48],
        #[serde(serialize_with = "hexfmt::bytes")]
        pcr2: [u8; 48],
        #[serde(serialize_with = "hexfmt::option")]
        pcr8: Option<[u8; 48]>,
    },
    /// The launch digest, the host-provided data and the VMPL the report was requested at.
    SevSnp {
        #[serde(serialize_with = "hexfmt::bytes")]
        measurement: [u8; 48],
        #[serde(serialize_with = "hexfmt::bytes")]
        host_data: [u8; 32],
        vmpl: u32,
    },
}
