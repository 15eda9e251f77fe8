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
    /// An outside party pays the network fee and signs after the session key (an x402
    /// facilitator): see [`Signable::sponsored_by`]. It creates no accounts.
    Sponsor {
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

/// The Solana Pay reference of the service's payment `payment_id`: an address derived from
/// the id (no key exists for it). A transaction that names it belongs to that payment alone:
/// no other payment's transaction can carry the same signature.
///
/// Its last 8 bytes are a checksum of the first 24 ([`is_payment_reference`]), so the service
/// recognises any of its references without an index: a caller's transaction that copies
/// another payment's message (and so its signature) names that payment's reference and is
/// refused ([`foreign_payment_reference`]), even after that payment's records have folded.
pub fn payment_reference(payment_id: &str) -> Address {
    use sha2::{Digest, Sha256};
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"aip-signer payment reference\0")
        .chain_update(payment_id.as_bytes())
        .finalize()
        .into();
    let mut address = [0u8; 32];
    address[..REFERENCE_BODY].copy_from_slice(&digest[..REFERENCE_BODY]);
    address[REFERENCE_BODY..].copy_from_slice(&reference_checksum(&digest[..REFERENCE_BODY]));
    Address::new_from_array(address)
}

/// The bytes of a payment reference derived from the payment id; the rest is the checksum.
const REFERENCE_BODY: usize = 24;

fn reference_checksum(body: &[u8]) -> [u8; 32 - REFERENCE_BODY] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"aip-signer payment reference checksum\0")
        .chain_update(body)
        .finalize();
    let mut checksum = [0u8; 32 - REFERENCE_BODY];
    checksum.copy_from_slice(&digest[..32 - REFERENCE_BODY]);
    checksum
}

/// Whether `address` is some payment's [`payment_reference`] (a random address is one with
/// probability 2^-64).
pub fn is_payment_reference(address: &Address) -> bool {
    let bytes = address.to_bytes();
    bytes[REFERENCE_BODY..] == reference_checksum(&bytes[..REFERENCE_BODY])
}

/// A payment reference in `message` other than `payment_id`'s own: the message was made for
/// another of the service's payments, and signing it for this one would report a second
/// payment for the one transfer the cluster runs.
pub fn foreign_payment_reference(message: &Message, payment_id: &str) -> Option<Address> {
    let own = payment_reference(payment_id);
    message
        .account_keys
        .iter()
        .find(|key| **key != own && is_payment_reference(key))
        .copied()
}

impl TokenPayment {
    /// The payer of fees and rent.
    pub fn fee_payer_address(&self) -> Address {
        match self.fee_payer {
            FeePayer::Session => self.authority,
            FeePayer::Service { address } | FeePayer::Sponsor { address } => address,
        }
    }

    /// Compiles, decodes and explains the payment; refuses anything the explainer refuses.
    pub fn build(&self) -> Result<Signable, BuildError> {
        if self.amount == 0 {
            return Err(BuildError::ZeroAmount);
        }
        if matches!(self.fee_payer, FeePayer::Service { address } | FeePayer::Sponsor { address } if address == self.authority)
        {
            return Err(BuildError::FeePayerIsAuthority);
        }
        // A sponsor pays the network fee only: it funds no account.
        if matches!(self.fee_payer, FeePayer::Sponsor { .. }) && self.create_recipient_account {
            return Err(BuildError::SponsorCreatesAccount);
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
        let signable = Signable::new(message).map_err(BuildError::Refused)?;
        match self.fee_payer {
            FeePayer::Sponsor { address } => {
                signable.sponsored_by(address).map_err(BuildError::Sponsor)
            }
            FeePayer::Session | FeePayer::Service { .. } => Ok(signable),
        }
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
