//! The programs a signer may invoke, and the constants their accounting needs.

use serde::Serialize;
use solana_address::{address, Address};

pub const SYSTEM_PROGRAM: Address = solana_sdk_ids::system_program::ID;
pub const RENT_SYSVAR: Address = solana_sdk_ids::sysvar::rent::ID;
pub const COMPUTE_BUDGET_PROGRAM: Address = solana_sdk_ids::compute_budget::ID;
pub const TOKEN_PROGRAM: Address = address!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022_PROGRAM: Address = address!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
pub const ASSOCIATED_TOKEN_PROGRAM: Address =
    address!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
pub const MEMO_PROGRAM: Address = address!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
pub const MEMO_V1_PROGRAM: Address = address!("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo");

/// USDC on mainnet-beta (6 decimals). The devnet serves a mint at the same address.
pub const USDC_MAINNET_MINT: Address = address!("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
/// USDC on Solana's public devnet (6 decimals).
pub const USDC_DEVNET_MINT: Address = address!("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");
pub const USDC_DECIMALS: u8 = 6;

/// Lamports charged per signature, whoever's signature it is; the fee payer pays for all.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// SetComputeUnitPrice is in micro-lamports per compute unit.
pub const MICRO_LAMPORTS_PER_LAMPORT: u128 = 1_000_000;

/// Rent-exempt minimum of an SPL Token account (165 bytes): (165 + 128) * 3480 * 2.
pub const TOKEN_ACCOUNT_RENT_LAMPORTS: u64 = 2_039_280;
/// Upper bound we count for a Token-2022 associated account: extensions the mint imposes
/// (ImmutableOwner at least) make it larger than 165 bytes, and offline we cannot see the mint,
/// so we count rent for 300 bytes: (300 + 128) * 6960. Overcounting only fails closed.
pub const TOKEN_2022_ACCOUNT_RENT_UPPER_BOUND_LAMPORTS: u64 = 2_978_880;

/// The two token programs a transfer may go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenProgram {
    Token,
    Token2022,
}

impl TokenProgram {
    pub fn from_id(id: &Address) -> Option<Self> {
        if *id == TOKEN_PROGRAM {
            Some(Self::Token)
        } else if *id == TOKEN_2022_PROGRAM {
            Some(Self::Token2022)
        } else {
            None
        }
    }

    pub fn id(self) -> Address {
        match self {
            Self::Token => TOKEN_PROGRAM,
            Self::Token2022 => TOKEN_2022_PROGRAM,
        }
    }

    /// Rent we count for creating an associated token account under this program.
    pub fn account_rent_lamports(self) -> u64 {
        match self {
            Self::Token => TOKEN_ACCOUNT_RENT_LAMPORTS,
            Self::Token2022 => TOKEN_2022_ACCOUNT_RENT_UPPER_BOUND_LAMPORTS,
        }
    }
}

/// The associated token account of `wallet` for `mint` under `program`.
pub fn associated_token_address(
    wallet: &Address,
    mint: &Address,
    program: TokenProgram,
) -> Address {
    Address::find_program_address(
        &[wallet.as_ref(), program.id().as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_ids_match_the_interface_crates() {
        assert_eq!(TOKEN_PROGRAM.to_bytes(), spl_token_interface::ID.to_bytes());
        assert_eq!(
            ASSOCIATED_TOKEN_PROGRAM.to_bytes(),
            spl_associated_token_account_interface::program::ID.to_bytes()
        );
    }

    #[test]
    fn associated_address_matches_the_interface_crate() {
        let wallet = address!("B1iGmDJdvmxyUiYM8UEo2Uw2D58EmUrw4KyLYMmrhf8V");
        let ours = associated_token_address(&wallet, &USDC_MAINNET_MINT, TokenProgram::Token);
        let theirs = spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
            &wallet,
            &USDC_MAINNET_MINT,
            &TOKEN_PROGRAM,
        );
        assert_eq!(ours.to_bytes(), theirs.to_bytes());
    }

    #[test]
    fn rent_constants_follow_the_rent_formula() {
        let per_byte_exempt = 3_480u64 * 2;
        assert_eq!(TOKEN_ACCOUNT_RENT_LAMPORTS, (165 + 128) * per_byte_exempt);
        assert_eq!(
            TOKEN_2022_ACCOUNT_RENT_UPPER_BOUND_LAMPORTS,
            (300 + 128) * per_byte_exempt
        );
    }
}
