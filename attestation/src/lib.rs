//! aip-attestation: evidence that the signer runs the measured code, and its verification.
//!
//! - [`Evidence`]: a Nitro attestation document, an SEV-SNP report with its VCEK/VLEK, or a
//!   dev document; [`Evidence::to_json`] is the versioned transport envelope.
//! - Producers behind [`EvidenceProducer`]: [`nitro::nsm::NsmProducer`] (/dev/nsm),
//!   [`snp::producer::SnpProducer`] (configfs-tsm, then /dev/sev-guest) and, in debug builds
//!   with the `dev-producer` feature only, `dev::DevProducer`.
//! - [`Verifier`]: our own Nitro verifier (COSE ES384, chain to the pinned AWS Root-G1) and
//!   the SNP verifier (sev crate plus validity, TCB, chip id, VMPL, debug), the
//!   [`MeasurementPolicy`] and the [`binding`] of keys and nonce.
//!
//! This crate knows nothing of the service. See docs/design.md, "Attestation and its binding".

pub mod binding;
pub mod clock;
#[cfg(feature = "dev-producer")]
pub mod dev;
pub mod eif;
pub mod error;
pub mod evidence;
#[cfg(feature = "fetch")]
pub mod fetch;
mod hexfmt;
#[cfg(feature = "image")]
pub mod image;
pub mod measurement;
pub mod nitro;
pub mod policy;
pub mod producer;
pub mod snp;
pub mod verified;
pub mod verifier;
mod x509;

pub use binding::{bound_config_digest, config_digest, Binding, BoundKeys};
pub use error::{EnvelopeError, FailureClass, PolicyError, ProduceError, VerifyError};
pub use evidence::{Evidence, Platform};
pub use measurement::Measurement;
pub use policy::MeasurementPolicy;
pub use producer::EvidenceProducer;
pub use verified::Verified;
pub use verifier::{Checks, Verifier};
