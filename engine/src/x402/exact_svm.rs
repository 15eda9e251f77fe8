//! The transaction the `exact` scheme prescribes on Solana, and the payload that carries it.
//!
//! The layout is the reference verifier's static path (`scheme_exact_svm.md` §3.1, checked in
//! `@x402/svm`'s `verifyStaticPath`): SetComputeUnitLimit, SetComputeUnitPrice, TransferChecked
//! from the payer's token account to the associated token account of `payTo` for exactly
//! `amount`, then one Memo holding `extra.memo` or a random nonce (16 bytes, hex). The fee payer
//! is the facilitator (`extra.feePayer`), which no instruction names (§2.1.1); it signs last.
//! No account is created (the recipient's token account must exist) and nothing else is added,
//! not even the signer's payment reference: the verifier reads the transfer's fourth account as
//! its authority and any extra account as a multisig signer.

use base64::Engine as _;
use serde_json::{json, Value};
use solana_address::Address;
use solana_hash::Hash;

use super::requirements::{Selected, X402_VERSION};
use crate::solana::{FeePayer, TokenPayment, TokenProgram};

/// The compute unit limit the reference client sets (`@x402/svm`, `DEFAULT_COMPUTE_UNIT_LIMIT`).
pub const COMPUTE_UNIT_LIMIT: u32 = 20_000;
/// The priority fee the reference client sets, micro-lamports per compute unit: the
/// facilitator pays it, so the payer asks for the least.
pub const COMPUTE_UNIT_PRICE_MICRO_LAMPORTS: u64 = 1;
/// The static path's cap on the priority fee (5 lamports per compute unit).
pub const MAX_COMPUTE_UNIT_PRICE_MICRO_LAMPORTS: u64 = 5_000_000;
/// Random bytes in the memo when the server names none (hex-encoded, so 32 characters).
pub const NONCE_BYTES: usize = 16;

/// The payment a [`Selected`] requirement asks for, as this signer will make it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactSvmPayment {
    pub payment: TokenPayment,
    /// The memo the transaction carries: the server's, or the nonce.
    pub memo: String,
}

impl ExactSvmPayment {
    /// `payer` pays `selected` (a 6-decimal classic SPL mint, as the signer's allowed mints
    /// are), against `recent_blockhash`; `nonce` makes the memo when the server names none.
    pub fn new(
        selected: &Selected,
        payer: Address,
        decimals: u8,
        recent_blockhash: Hash,
        nonce: [u8; NONCE_BYTES],
    ) -> Self {
        let memo = selected.memo.clone().unwrap_or_else(|| hex::encode(nonce));
        Self {
            payment: TokenPayment {
                authority: payer,
                recipient: selected.pay_to,
                mint: selected.asset,
                decimals,
                program: TokenProgram::Token,
                amount: selected.amount,
                memo: Some(memo.clone()),
                create_recipient_account: false,
                compute_unit_limit: Some(COMPUTE_UNIT_LIMIT),
                compute_unit_price_micro_lamports: Some(COMPUTE_UNIT_PRICE_MICRO_LAMPORTS),
                fee_payer: FeePayer::Sponsor {
                    address: selected.fee_payer,
                },
                recent_blockhash,
                reference: None,
            },
            memo,
        }
    }
}

/// The v2 `PaymentPayload` answering `resource` with the requirement `accepted` (both as the
/// server sent them, [`Selected`]), carrying the partially signed transaction
/// (`transaction_base64`: the wire bytes, the fee payer's signature still empty).
pub fn payment_payload(resource: &Value, accepted: &Value, transaction_base64: &str) -> Value {
    json!({
        "x402Version": X402_VERSION,
        "resource": resource,
        "accepted": accepted,
        "payload": { "transaction": transaction_base64 },
    })
}

/// The `PAYMENT-SIGNATURE` header's value: the payload's JSON, base64 (`@x402/core`'s
/// `encodePaymentSignatureHeader`).
pub fn payment_signature_header(payload: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(payload.to_string())
}
