//! One payment as a person reads it: who is paid, how much of which mint, and what it costs in
//! fees and rent. The enclave records, receipts and ledgers these figures; the device shows
//! them before it signs or approves. Both compute them here, from the decoded transaction and
//! nothing else, so what the user sees is what the chain will do (docs/design.md, "Crates").

use serde::Serialize;
use solana_address::Address;
use thiserror::Error;

use super::explain::{Debit, Explanation, LamportCause, Recipient};
use super::programs::{associated_token_address, TokenProgram};

/// The one token transfer of a payment transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentSummary {
    /// The token account credited.
    #[serde(with = "crate::solana::as_text")]
    pub recipient_account: Address,
    /// Its owner when the transaction itself creates it as the owner's associated account.
    #[serde(with = "crate::solana::as_text::option")]
    pub recipient_owner: Option<Address>,
    #[serde(with = "crate::solana::as_text")]
    pub mint: Address,
    pub decimals: u8,
    pub program: TokenProgram,
    /// In the mint's base units.
    pub amount: u64,
    /// The signer whose tokens move.
    #[serde(with = "crate::solana::as_text")]
    pub authority: Address,
    /// Who pays the fees and any rent.
    #[serde(with = "crate::solana::as_text")]
    pub fee_payer: Address,
    /// Signature and priority fees plus rent of accounts the transaction creates, in lamports.
    pub fee_lamports: u64,
    /// Rent of accounts the transaction creates (part of `fee_lamports`).
    pub rent_lamports: u64,
    pub memos: Vec<String>,
}

/// Why a transaction is not one readable payment.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SummaryError {
    #[error("the transaction makes {0} token transfers; a payment makes exactly one")]
    NotOneTransfer(usize),
    #[error("the transaction moves lamports besides fees and rent")]
    MovesLamports,
    #[error("an unchecked Transfer names no mint; a payment uses TransferChecked")]
    MintUnknown,
    #[error("the transaction's fees and rent overflow")]
    FeeOverflow,
}

/// What a payment is said to be (by a request, or by the signer to the device).
#[derive(Debug, Clone, Copy)]
pub struct Described<'a> {
    pub amount: u64,
    /// The wallet paid.
    pub recipient: &'a Address,
    /// The mint, when the description names one.
    pub mint: Option<&'a Address>,
    /// Whose tokens move, when that is to be checked.
    pub authority: Option<&'a Address>,
}

/// How a transaction differs from the payment it is said to be.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Mismatch {
    #[error("the transaction moves {moved} base units, not the {described} described")]
    Amount { moved: u64, described: u64 },
    #[error("the transaction moves mint {moved}, not {described}")]
    Mint { moved: Address, described: Address },
    #[error("the transaction pays token account {account}, which is not {wallet}'s")]
    Recipient { account: Address, wallet: Address },
    #[error("the transaction moves {moved}'s tokens, not {described}'s")]
    Authority { moved: Address, described: Address },
}

impl PaymentSummary {
    /// Whether this is the payment `described`: its amount, recipient and, when named, mint
    /// and authority. One check for the enclave (against a request) and the device (against
    /// the signer's answer).
    pub fn check(&self, described: &Described<'_>) -> Result<(), Mismatch> {
        if self.amount != described.amount {
            return Err(Mismatch::Amount {
                moved: self.amount,
                described: described.amount,
            });
        }
        if let Some(mint) = described.mint.filter(|mint| **mint != self.mint) {
            return Err(Mismatch::Mint {
                moved: self.mint,
                described: *mint,
            });
        }
        if !self.pays(described.recipient) {
            return Err(Mismatch::Recipient {
                account: self.recipient_account,
                wallet: *described.recipient,
            });
        }
        if let Some(authority) = described.authority.filter(|a| **a != self.authority) {
            return Err(Mismatch::Authority {
                moved: self.authority,
                described: *authority,
            });
        }
        Ok(())
    }

    /// The payment `explanation` describes: exactly one checked token transfer, no lamport
    /// transfers, and what the fee payer spends on fees and rent.
    pub fn of(explanation: &Explanation) -> Result<Self, SummaryError> {
        let transfers: Vec<&Debit> = explanation
            .debits
            .iter()
            .filter(|d| matches!(d, Debit::Token { .. }))
            .collect();
        let [Debit::Token {
            authority,
            mint,
            decimals,
            amount,
            program,
            ..
        }] = transfers.as_slice()
        else {
            return Err(SummaryError::NotOneTransfer(transfers.len()));
        };
        let (Some(mint), Some(decimals)) = (mint, decimals) else {
            return Err(SummaryError::MintUnknown);
        };
        let Some(Recipient::TokenAccount { account, owner, .. }) = explanation
            .recipients
            .iter()
            .find(|r| matches!(r, Recipient::TokenAccount { .. }))
        else {
            return Err(SummaryError::NotOneTransfer(0));
        };
        let mut fee_lamports: u64 = 0;
        let mut rent_lamports: u64 = 0;
        for debit in &explanation.debits {
            match debit {
                Debit::Lamports {
                    cause: LamportCause::Transfer,
                    ..
                } => return Err(SummaryError::MovesLamports),
                Debit::Lamports {
                    cause, lamports, ..
                } => {
                    fee_lamports = fee_lamports
                        .checked_add(*lamports)
                        .ok_or(SummaryError::FeeOverflow)?;
                    if *cause == LamportCause::Rent {
                        rent_lamports = rent_lamports.saturating_add(*lamports);
                    }
                }
                Debit::Token { .. } => {}
            }
        }
        Ok(Self {
            recipient_account: *account,
            recipient_owner: *owner,
            mint: *mint,
            decimals: *decimals,
            program: *program,
            amount: *amount,
            authority: *authority,
            fee_payer: explanation.fee_payer,
            fee_lamports,
            rent_lamports,
            memos: explanation.memos.clone(),
        })
    }

    /// Whether the tokens go to `wallet`: to its associated token account for this mint, or to
    /// `wallet` itself when it names the token account.
    pub fn pays(&self, wallet: &Address) -> bool {
        pays_to(
            wallet,
            &self.recipient_account,
            self.recipient_owner.as_ref(),
            Some(&self.mint),
            self.program,
        )
    }
}

/// Whether a credit of token account `account` (owned by `owner` if known, of `mint` if
/// known) reaches `wallet`: the account itself, its known owner, or the wallet's associated
/// token account for the mint. One rule for the policy's allowlist and for payment summaries.
pub fn pays_to(
    wallet: &Address,
    account: &Address,
    owner: Option<&Address>,
    mint: Option<&Address>,
    program: TokenProgram,
) -> bool {
    account == wallet
        || owner == Some(wallet)
        || mint.is_some_and(|mint| associated_token_address(wallet, mint, program) == *account)
}
