//! x402's `exact` scheme on Solana, from the payer's side: which of a resource's payment
//! requirements the signer can meet, the transaction the scheme prescribes for it, and the
//! payment payload that carries it.
//!
//! The facts come from x402's own specification (`x402-foundation/x402`,
//! `specs/schemes/exact/scheme_exact_svm.md`) and its reference packages (`@x402/svm` 2.27,
//! `@x402/core` 2.27), whose verifier the tests run against our payloads. Pure code: the
//! enclave supplies the blockhash and the nonce.

mod exact_svm;
mod requirements;

pub use exact_svm::{
    payment_payload, payment_signature_header, ExactSvmPayment, COMPUTE_UNIT_LIMIT,
    COMPUTE_UNIT_PRICE_MICRO_LAMPORTS, MAX_COMPUTE_UNIT_PRICE_MICRO_LAMPORTS, NONCE_BYTES,
};
pub use requirements::{select, PaymentRequired, Selected, X402Error, X402_VERSION};
