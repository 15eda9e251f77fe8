//! Unsigned USDC transfers for the unit tests (the engine builds them as the payment flow
//! does).

use solana_address::Address;
use solana_hash::Hash;

use crate::solana::programs::{USDC_DECIMALS, USDC_MAINNET_MINT};
use crate::solana::{FeePayer, SigningKeypair, TokenPayment, TokenProgram, Transaction};

/// `amount` of USDC from `authority`'s wallet to a fresh recipient, `authority` paying the
/// fee, on a fixed blockhash.
pub fn usdc_transfer(authority: Address, amount: u64) -> Transaction {
    let payment = TokenPayment {
        authority,
        recipient: SigningKeypair::generate().address(),
        mint: USDC_MAINNET_MINT,
        decimals: USDC_DECIMALS,
        program: TokenProgram::Token,
        amount,
        memo: None,
        create_recipient_account: false,
        compute_unit_limit: None,
        compute_unit_price_micro_lamports: None,
        fee_payer: FeePayer::Session,
        recent_blockhash: Hash::new_from_array([7; 32]),
        reference: None,
    };
    Transaction::unsigned(payment.build().unwrap().into_message())
}
