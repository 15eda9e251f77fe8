//! Shared helpers for the enclave's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use aip_engine::solana::text::decode_text;

/// `../shared/testdata` beside the repository (override with AIP_TESTDATA). Missing test data
/// is a failure, never a skip.
pub fn testdata_dir() -> PathBuf {
    let dir = std::env::var_os("AIP_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"));
    assert!(dir.is_dir(), "test data not found at {}", dir.display());
    dir
}

/// Bytes of a Solana test vector, decoded from the text encoding its extension names.
pub fn solana_vector(name: &str) -> Vec<u8> {
    let path = testdata_dir().join("solana").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode_text(&text, None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every Solana vector file name.
pub fn solana_vector_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata_dir().join("solana"))
        .expect("solana test data")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hex") || n.ends_with(".b58") || n.ends_with(".b64"))
        .collect();
    names.sort();
    names
}

use aip_engine::policy::{Asset, Caps, FeeCaps, FeePolicy, Intent, PerWindow, UnixSeconds};
use aip_engine::solana::programs::{USDC_DECIMALS, USDC_MAINNET_MINT};
use aip_engine::solana::{FeePayer, Message, Signable, TokenPayment, TokenProgram};
use solana_address::Address;
use solana_hash::Hash;

pub const T0: UnixSeconds = UnixSeconds(1_800_000_000);
pub const USDC: u64 = 1_000_000;

pub fn addr(n: u8) -> Address {
    Address::new_from_array([n; 32])
}

pub fn session_key() -> Address {
    addr(1)
}

pub fn service_payer() -> Address {
    addr(3)
}

pub fn merchant() -> Address {
    addr(2)
}

/// $100 a day, $10 per payment, for 7 days from T0, session pays fees.
pub fn usdc_intent() -> Intent {
    Intent {
        session_key: session_key(),
        asset: Asset::Tokens {
            mints: vec![USDC_MAINNET_MINT],
            decimals: USDC_DECIMALS,
        },
        caps: Caps {
            per_transaction: 10 * USDC,
            windows: PerWindow {
                day: Some(100 * USDC),
                week: Some(300 * USDC),
                month: Some(500 * USDC),
            },
        },
        require_approval_above: None,
        max_payments: PerWindow::default(),
        starts_at: T0,
        expires_at: T0.saturating_add(7 * 86_400),
        revoked_at: None,
        allowed_recipients: None,
        allowed_programs: None,
        fee_policy: FeePolicy::Session,
        fee_caps: FeeCaps {
            per_transaction: 3_000_000,
            windows: PerWindow {
                day: Some(10_000_000),
                week: None,
                month: None,
            },
        },
    }
}

pub fn payment(amount: u64) -> TokenPayment {
    TokenPayment {
        authority: session_key(),
        recipient: merchant(),
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
    }
}

pub fn usdc(amount: u64) -> Signable {
    payment(amount).build().expect("builds")
}

/// Compiles arbitrary instructions (paid by `payer`) through the same decoder.
pub fn compile(instructions: &[solana_instruction::Instruction], payer: &Address) -> Signable {
    let compiled = solana_message::Message::new_with_blockhash(
        instructions,
        Some(payer),
        &Hash::new_from_array([7; 32]),
    );
    Signable::new(Message::from_bytes(&compiled.serialize()).expect("decodes")).expect("signable")
}

pub const USDC_MAINNET: Address = USDC_MAINNET_MINT;

/// TransferChecked of `amount` from `owner`'s USDC account to the merchant's.
pub fn transfer_checked_ix(
    owner: Address,
    amount: u64,
    decimals: u8,
    mint: Address,
) -> solana_instruction::Instruction {
    use aip_engine::solana::programs::{associated_token_address, TOKEN_PROGRAM};
    use solana_instruction::AccountMeta;
    let mut data = vec![12u8];
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    solana_instruction::Instruction {
        program_id: TOKEN_PROGRAM,
        accounts: vec![
            AccountMeta::new(
                associated_token_address(&owner, &mint, TokenProgram::Token),
                false,
            ),
            AccountMeta::new_readonly(mint, false),
            AccountMeta::new(
                associated_token_address(&merchant(), &mint, TokenProgram::Token),
                false,
            ),
            AccountMeta::new_readonly(owner, true),
        ],
        data,
    }
}

/// Builders for payments made by other keys.
pub struct TokenPaymentExt;

impl TokenPaymentExt {
    pub fn by(authority: Address) -> Signable {
        let mut p = payment(5 * USDC);
        p.authority = authority;
        p.build().expect("builds")
    }
}
