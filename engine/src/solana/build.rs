//! Building payment transactions.
//!
//! Instructions come from the programs' own interface crates and the message is compiled by
//! `solana-message` (account ordering and header are its job); the result is then decoded and
//! explained by our own decoder like any transaction from outside, so a built payment goes
//! through exactly the checks a submitted one does.

use serde::Deserialize;
use solana_address::Address;
use solana_hash::Hash;
use solana_instruction::Instruction;

use super::error::BuildError;
use super::explain::Signable;
use super::programs::{associated_token_address, TokenProgram, MEMO_PROGRAM};
use super::wire::Message;

/// Longest memo we put on chain (the memo program accepts more, but fees and logs grow).
pub const MAX_MEMO_BYTES: usize = 256;

/// Who pays the transaction fee (and rent for a created recipient account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum FeePayer {
    /// The session key pays from its own lamports.
    Session,
    /// A separate service key pays (gasless for the session wallet).
    Service {
        #[serde(with = "crate::solana::as_text")]
        address: Address,
    },
}

/// A token payment from the session wallet's associated token account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPayment {
    /// The session key: owner of the source token account.
    pub authority: Address,
    /// The recipient wallet; the tokens go to its associated token account.
    pub recipient: Address,
    pub mint: Address,
    pub decimals: u8,
    pub program: TokenProgram,
    pub amount: u64,
    pub memo: Option<String>,
    /// Add an idempotent creation of the recipient's associated token account.
    pub create_recipient_account: bool,
    pub compute_unit_limit: Option<u32>,
    pub compute_unit_price_micro_lamports: Option<u64>,
    pub fee_payer: FeePayer,
    pub recent_blockhash: Hash,
    /// A read-only account appended to the transfer (a Solana Pay reference): it makes two
    /// otherwise identical payments distinct transactions (the cluster would run identical
    /// ones once) and lets the payment be found on chain by that address.
    pub reference: Option<Address>,
}

impl TokenPayment {
    /// The payer of fees and rent.
    pub fn fee_payer_address(&self) -> Address {
        match self.fee_payer {
            FeePayer::Session => self.authority,
            FeePayer::Service { address } => address,
        }
    }

    /// Compiles, decodes and explains the payment; refuses anything the explainer refuses.
    pub fn build(&self) -> Result<Signable, BuildError> {
        if self.amount == 0 {
            return Err(BuildError::ZeroAmount);
        }
        if matches!(self.fee_payer, FeePayer::Service { address } if address == self.authority) {
            return Err(BuildError::FeePayerIsAuthority);
        }
        if self
            .memo
            .as_ref()
            .is_some_and(|memo| memo.len() > MAX_MEMO_BYTES)
        {
            return Err(BuildError::MemoTooLong {
                max: MAX_MEMO_BYTES,
            });
        }
        let payer = self.fee_payer_address();
        let program_id = self.program.id();
        let source = associated_token_address(&self.authority, &self.mint, self.program);
        let destination = associated_token_address(&self.recipient, &self.mint, self.program);

        let mut instructions: Vec<Instruction> = Vec::new();
        if let Some(units) = self.compute_unit_limit {
            instructions.push(
                solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
                    units,
                ),
            );
        }
        if let Some(price) = self.compute_unit_price_micro_lamports {
            instructions.push(
                solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(
                    price,
                ),
            );
        }
        if self.create_recipient_account {
            instructions.push(
                spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                    &payer,
                    &self.recipient,
                    &self.mint,
                    &program_id,
                ),
            );
        }
        let mut transfer = transfer_checked(
            program_id,
            source,
            self.mint,
            destination,
            self.authority,
            self.amount,
            self.decimals,
        );
        if let Some(reference) = self.reference {
            transfer
                .accounts
                .push(solana_instruction::AccountMeta::new_readonly(
                    reference, false,
                ));
        }
        instructions.push(transfer);
        if let Some(memo) = &self.memo {
            instructions.push(Instruction {
                program_id: MEMO_PROGRAM,
                accounts: Vec::new(),
                data: memo.as_bytes().to_vec(),
            });
        }
        let compiled = solana_message::Message::new_with_blockhash(
            &instructions,
            Some(&payer),
            &self.recent_blockhash,
        );
        let message = Message::from_bytes(&compiled.serialize()).map_err(BuildError::Decode)?;
        Signable::new(message).map_err(BuildError::Refused)
    }
}

/// TransferChecked (tag 12): amount and decimals, accounts source, mint, destination, owner.
fn transfer_checked(
    program_id: Address,
    source: Address,
    mint: Address,
    destination: Address,
    authority: Address,
    amount: u64,
    decimals: u8,
) -> Instruction {
    use solana_instruction::AccountMeta;
    let mut data = Vec::with_capacity(10);
    data.push(12u8);
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    Instruction {
        program_id,
        accounts: vec![
            AccountMeta::new(source, false),
            AccountMeta::new_readonly(mint, false),
            AccountMeta::new(destination, false),
            AccountMeta::new_readonly(authority, true),
        ],
        data,
    }
}
