//! AWS Nitro Enclaves: the attestation document, its verifier and the NSM producer.

pub mod document;
pub mod nsm;
pub mod root;
pub mod verify;

pub use document::{NitroDocument, PCR_BYTES};
pub use root::{AnchorKind, TrustAnchor, AWS_ROOT_G1_SHA256};
pub use verify::VerifiedDocument;
