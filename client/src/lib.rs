//! aip-client: the SDK for user devices and agent backends.
//!
//! Device side: session keys, the password-sealed device-bound blob, Lit encryption for the
//! enclave's condition (through aip-lit, [`lit`]), delegation signatures, and approvals and
//! signatures of payments it decoded itself with the enclave's engine ([`review`]). Backend
//! side: a typed mTLS client for every endpoint with ledger-head tracking ([`signer`]). Also
//! the Lit helpers that `aipctl lit` uses, the mutual-TLS pieces ([`tls`]: operator CA,
//! client certificates, pinning the attested server key), an HTTPS client ([`http`]) and
//! first contact with a signer by its attestation ([`attested`]), and HTTP resources that answer
//! 402, paid through the signer ([`x402_resource`]). It links no server code.

pub mod device;
pub mod lit;
pub mod review;
pub mod signer;
pub mod tls;
pub mod x402_resource;

pub use aip_attestation::fetch as attested;
pub use aip_wire::https as http;
