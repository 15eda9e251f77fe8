//! The dev producer: Nitro-format documents signed under a dev P-384 PKI shaped like AWS's
//! (root -> intermediate -> short-lived leaf), over a real PCR bank. Its evidence goes through
//! the same verifier as production evidence; only the trust anchor differs, and no verifier
//! trusts the dev root unless it is handed the root certificate explicitly.
//!
//! Compiled only with the `dev-producer` feature, and only in builds with debug assertions:
//! a release build cannot contain it.

#[cfg(not(debug_assertions))]
compile_error!(
    "the dev-producer feature signs evidence under a dev root and exists only for debug builds; \
     build release binaries without it"
);

pub mod pcr;
pub mod pki;
pub mod producer;

pub use pcr::PcrBank;
pub use pki::DevPki;
pub use producer::DevProducer;
