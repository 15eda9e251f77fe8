//! Solana transactions: strict decoding, classification against the program allowlist, the
//! accounting the policy engine needs, payment building and signing.
//!
//! The path from bytes to a signature is: [`wire`] decodes (structure only) -> [`explain`]
//! classifies every instruction and computes debits, fees and recipients -> [`Signable`]
//! exists only when nothing was refused -> the policy decides -> [`SigningKeypair`] signs.

pub mod as_text;
pub mod build;
pub mod classify;
pub mod error;
pub mod explain;
pub mod programs;
pub mod signature;
pub mod summary;
pub mod text;
pub mod wire;

pub use build::{
    foreign_payment_reference, is_payment_reference, payment_reference, FeePayer, TokenPayment,
};
pub use classify::Action;
pub use error::{BuildError, DecodeError, Refusal, SignError, SponsorError, TextEncodingError};
pub use explain::{
    explain, explain_decoded, Debit, Explanation, LamportCause, Recipient, Signable,
};
pub use programs::TokenProgram;
pub use signature::{check_signatures, SignatureState, SigningKeypair};
pub use summary::{Described, Mismatch, PaymentSummary, SummaryError};
pub use wire::{Decoded, Message, MessageVersion, Transaction};
