//! AMD SEV-SNP: the attestation report, its verifier and the guest-side producer.

pub mod producer;
pub mod report;
pub mod roots;
pub mod vek;
pub mod verify;

pub use report::{SigningKey, SnpReport};
pub use roots::Product;
pub use verify::VerifiedReport;
