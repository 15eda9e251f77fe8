//! aip-attestation: evidence that the signer runs the measured code, and its verification.
//!
//! Producers (Nitro NSM, SEV-SNP, dev), verifiers with pinned roots, the binding of the TLS,
//! signing and HPKE keys into the evidence, and the measurement policy. This crate knows
//! nothing of the service. See DESIGN.md, "Attestation and its binding". Nothing is
//! implemented here yet: the attestation issue builds it.
