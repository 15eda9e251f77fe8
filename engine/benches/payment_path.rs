//! Decode + explain + decide for a typical USDC payment (what every request pays before any
//! Lit round trip), and the build path. Run: `cargo bench -p aip-engine --bench payment_path`.
#![allow(clippy::unwrap_used)]

use aip_engine::policy::{
    decide, Approval, Asset, Caps, FeeCaps, FeePolicy, Intent, PerWindow, Spend, UnixSeconds, Usage,
};
use aip_engine::solana::programs::{USDC_DECIMALS, USDC_MAINNET_MINT};
use aip_engine::solana::{Decoded, FeePayer, Signable, TokenPayment, TokenProgram, Transaction};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use solana_address::Address;
use solana_hash::Hash;

fn bench(c: &mut Criterion) {
    let session = Address::new_from_array([1; 32]);
    let payment = TokenPayment {
        authority: session,
        recipient: Address::new_from_array([2; 32]),
        mint: USDC_MAINNET_MINT,
        decimals: USDC_DECIMALS,
        program: TokenProgram::Token,
        amount: 5_000_000,
        memo: Some("invoice 42".into()),
        create_recipient_account: true,
        compute_unit_limit: Some(60_000),
        compute_unit_price_micro_lamports: Some(10_000),
        fee_payer: FeePayer::Session,
        recent_blockhash: Hash::new_from_array([7; 32]),
        reference: None,
    };
    let now = UnixSeconds(1_800_000_000);
    let intent = Intent {
        session_key: session,
        asset: Asset::Tokens {
            mints: vec![USDC_MAINNET_MINT],
            decimals: USDC_DECIMALS,
        },
        caps: Caps {
            per_transaction: 10_000_000,
            windows: PerWindow {
                day: Some(100_000_000),
                week: Some(300_000_000),
                month: Some(1_000_000_000),
            },
        },
        require_approval_above: Some(8_000_000),
        max_payments: PerWindow::default(),
        starts_at: now.saturating_sub(1),
        expires_at: now.saturating_add(86_400),
        revoked_at: None,
        allowed_recipients: Some(vec![Address::new_from_array([2; 32])]),
        allowed_programs: None,
        fee_policy: FeePolicy::Session,
        fee_caps: FeeCaps {
            per_transaction: 3_000_000,
            windows: PerWindow {
                day: Some(100_000_000),
                week: None,
                month: None,
            },
        },
    };
    // A month of history: 300 payments.
    let mut usage = Usage::default();
    for i in 0..300 {
        let spend = Spend {
            amount: 100_000,
            fee_lamports: 5_000,
            service_fee: false,
        };
        usage.reserve(spend, now.saturating_sub(i * 8_000));
    }
    let wire = Transaction::unsigned(payment.build().unwrap().into_message()).to_bytes();

    c.bench_function("decode+explain+decide (USDC, 300 records)", |b| {
        b.iter(|| {
            let decoded = Decoded::from_bytes(black_box(&wire)).unwrap();
            let signable = Signable::new(decoded.message().clone()).unwrap();
            black_box(decide(&intent, &usage, &signable, now, Approval::None))
        })
    });
    c.bench_function("build payment (with ATA create)", |b| {
        b.iter(|| black_box(payment.build().unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
