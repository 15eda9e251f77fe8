//! Transactions built, checked and signed by aip-enclave, run by a real Solana runtime
//! (LiteSVM behind `aip-devnet solana`, started as a process and spoken to over JSON-RPC).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aip_enclave::policy::{
    Approval, Asset, Caps, FeeCaps, FeePolicy, Intent, NoStore, PerWindow, ReleaseProof,
    ReserveError, Rule, SessionSpending, SessionState, UnixSeconds, Usage,
};
use aip_enclave::solana::programs::{associated_token_address, USDC_DECIMALS, USDC_MAINNET_MINT};
use aip_enclave::solana::{
    FeePayer, Signable, SigningKeypair, TokenPayment, TokenProgram, Transaction,
};
use aip_tests::devnet::SolanaDevnet;
use aip_tests::rpc::Rpc;
use base64::Engine as _;
use solana_address::Address;

const USDC: u64 = 1_000_000;
const SOL: u64 = 1_000_000_000;
const NOW: UnixSeconds = UnixSeconds(1_800_000_000);

fn usdc_account(owner: &Address) -> Address {
    associated_token_address(owner, &USDC_MAINNET_MINT, TokenProgram::Token)
}

fn intent(session: Address, fee_policy: FeePolicy) -> Intent {
    Intent {
        session_key: session,
        asset: Asset::Tokens {
            mints: vec![USDC_MAINNET_MINT],
            decimals: USDC_DECIMALS,
        },
        caps: Caps {
            per_transaction: 10 * USDC,
            windows: PerWindow {
                day: Some(100 * USDC),
                week: None,
                month: None,
            },
        },
        require_approval_above: None,
        max_payments: PerWindow::default(),
        starts_at: NOW.saturating_sub(60),
        expires_at: NOW.saturating_add(86_400),
        revoked_at: None,
        allowed_recipients: None,
        allowed_programs: None,
        fee_policy,
        fee_caps: FeeCaps {
            per_transaction: 3_000_000,
            windows: PerWindow::default(),
        },
    }
}

fn payment(
    rpc: &Rpc,
    session: Address,
    recipient: Address,
    amount: u64,
    fee_payer: FeePayer,
) -> (TokenPayment, u64) {
    let (blockhash, last_valid) = rpc.latest_blockhash().unwrap();
    let payment = TokenPayment {
        authority: session,
        recipient,
        mint: USDC_MAINNET_MINT,
        decimals: USDC_DECIMALS,
        program: TokenProgram::Token,
        amount,
        memo: Some("aip-signer test".into()),
        create_recipient_account: true,
        compute_unit_limit: Some(60_000),
        compute_unit_price_micro_lamports: Some(10_000),
        fee_payer,
        recent_blockhash: blockhash,
        reference: None,
    };
    (payment, last_valid)
}

/// The signing path: decide and reserve (persisted), sign, record the signature, and only
/// then hand out the wire bytes.
fn reserve_and_sign(
    spending: &SessionSpending<NoStore>,
    tx: Signable,
    signers: &[&SigningKeypair],
    last_valid: u64,
) -> Result<Vec<u8>, ReserveError> {
    let reservation = spending.reserve(&tx, NOW, Approval::None)?;
    let mut signed = Transaction::unsigned(tx.into_message());
    for signer in signers {
        signer
            .sign_transaction(&mut signed)
            .expect("a required signer");
    }
    let signature = bs58::encode(signed.signatures[0]).into_string();
    spending.mark_signed(reservation.id, signature, last_valid)?;
    Ok(signed.to_bytes())
}

/// A devnet, a session wallet with 1 SOL and some USDC, a merchant, and the session's
/// spending state under a USDC intent in which the session pays its own fees.
struct Fixture {
    devnet: SolanaDevnet,
    session: SigningKeypair,
    merchant: Address,
    spending: SessionSpending<NoStore>,
}

impl Fixture {
    fn session_pays(usdc: u64) -> Self {
        let devnet = SolanaDevnet::start();
        let session = funded_session(&devnet.rpc, SOL, usdc);
        let spending = SessionSpending::new(
            SessionState {
                intent: intent(session.address(), FeePolicy::Session),
                usage: Usage::default(),
            },
            NoStore,
        );
        Self {
            devnet,
            session,
            merchant: SigningKeypair::generate().address(),
            spending,
        }
    }
}

fn funded_session(rpc: &Rpc, lamports: u64, usdc: u64) -> SigningKeypair {
    let session = SigningKeypair::generate();
    if lamports > 0 {
        rpc.airdrop(&session.address(), lamports).unwrap();
    }
    rpc.usdc_airdrop(&session.address(), usdc).unwrap();
    session
}

#[test]
fn a_usdc_payment_signed_here_moves_usdc_on_chain() {
    let Fixture {
        devnet,
        session,
        merchant,
        spending,
    } = Fixture::session_pays(100 * USDC);
    let rpc = &devnet.rpc;
    let lamports_before = rpc.balance(&session.address()).unwrap();

    let (payment, last_valid) = payment(
        rpc,
        session.address(),
        merchant,
        5 * USDC,
        FeePayer::Session,
    );
    let tx = payment.build().unwrap();
    let expected_fee = tx.explanation().fees.total_lamports;
    let wire = reserve_and_sign(&spending, tx, &[&session], last_valid).unwrap();
    let signature = rpc.send(&wire).unwrap();

    assert_eq!(
        rpc.signature_status(&signature).unwrap(),
        Some(None),
        "landed without error"
    );
    assert_eq!(
        rpc.token_balance(&usdc_account(&merchant)).unwrap(),
        Some(5 * USDC)
    );
    assert_eq!(
        rpc.token_balance(&usdc_account(&session.address()))
            .unwrap(),
        Some(95 * USDC)
    );
    let rent = aip_enclave::solana::programs::TOKEN_ACCOUNT_RENT_LAMPORTS;
    assert_eq!(
        lamports_before - rpc.balance(&session.address()).unwrap(),
        expected_fee + rent,
        "the session paid exactly the fee and the rent the explainer counted"
    );

    // The same signed bytes again: the chain refuses the replay and nothing moves twice.
    let replay = rpc
        .send(&wire)
        .expect_err("a replayed transaction is refused");
    assert!(
        replay.message.contains("already been processed"),
        "{replay}"
    );
    assert_eq!(
        rpc.token_balance(&usdc_account(&merchant)).unwrap(),
        Some(5 * USDC)
    );
}

#[test]
fn a_gasless_payment_is_paid_by_the_service_fee_payer() {
    let devnet = SolanaDevnet::start();
    let rpc = &devnet.rpc;
    let session = funded_session(rpc, 0, 50 * USDC);
    let service = SigningKeypair::generate();
    rpc.airdrop(&service.address(), SOL).unwrap();
    let merchant = SigningKeypair::generate().address();
    let spending = SessionSpending::new(
        SessionState {
            intent: intent(
                session.address(),
                FeePolicy::Service {
                    address: service.address(),
                },
            ),
            usage: Usage::default(),
        },
        NoStore,
    );
    let service_before = rpc.balance(&service.address()).unwrap();

    let (payment, last_valid) = payment(
        rpc,
        session.address(),
        merchant,
        7 * USDC,
        FeePayer::Service {
            address: service.address(),
        },
    );
    let wire = reserve_and_sign(
        &spending,
        payment.build().unwrap(),
        &[&service, &session],
        last_valid,
    )
    .unwrap();
    let signature = rpc.send(&wire).unwrap();

    assert_eq!(rpc.signature_status(&signature).unwrap(), Some(None));
    assert_eq!(
        rpc.token_balance(&usdc_account(&merchant)).unwrap(),
        Some(7 * USDC)
    );
    assert_eq!(
        rpc.balance(&session.address()).unwrap(),
        0,
        "the session wallet holds and pays no SOL"
    );
    assert!(
        rpc.balance(&service.address()).unwrap() < service_before,
        "the service paid"
    );
}

#[test]
fn wrong_decimals_fail_on_chain_and_move_nothing() {
    let devnet = SolanaDevnet::start();
    let rpc = &devnet.rpc;
    let session = funded_session(rpc, SOL, 20 * USDC);
    let merchant = SigningKeypair::generate().address();
    let (mut payment, _) = payment(rpc, session.address(), merchant, USDC, FeePayer::Session);
    payment.decimals = 9;
    let mut tx = Transaction::unsigned(payment.build().unwrap().into_message());
    session.sign_transaction(&mut tx).unwrap();

    let error = rpc
        .send(&tx.to_bytes())
        .expect_err("the token program refuses wrong decimals");
    assert_eq!(error.code, -32002, "{error}");
    assert_eq!(
        rpc.token_balance(&usdc_account(&session.address()))
            .unwrap(),
        Some(20 * USDC)
    );
    assert_eq!(rpc.token_balance(&usdc_account(&merchant)).unwrap(), None);
}

#[test]
fn a_refused_transaction_is_never_signed_or_sent_though_the_chain_would_run_it() {
    let Fixture {
        devnet,
        session,
        merchant,
        spending,
    } = Fixture::session_pays(100 * USDC);
    let rpc = &devnet.rpc;
    let (payment, last_valid) = payment(
        rpc,
        session.address(),
        merchant,
        11 * USDC,
        FeePayer::Session,
    );
    let tx = payment.build().unwrap();

    // The chain itself would accept this payment...
    let mut probe = Transaction::unsigned(tx.message().clone());
    session.sign_transaction(&mut probe).unwrap();
    assert_eq!(rpc.simulate(&probe.to_bytes()).unwrap(), None);

    // ...but it is over the per-transaction cap, so the signing path produces nothing.
    let refused = reserve_and_sign(&spending, tx, &[&session], last_valid);
    assert!(
        matches!(refused, Err(ReserveError::Denied(ref d)) if d.rule == Rule::PerTransactionCap),
        "{refused:?}"
    );
    assert!(
        spending.snapshot().unwrap().usage.records().is_empty(),
        "nothing reserved"
    );
    assert_eq!(
        rpc.token_balance(&usdc_account(&merchant)).unwrap(),
        None,
        "nothing moved"
    );
    assert_eq!(
        rpc.token_balance(&usdc_account(&session.address()))
            .unwrap(),
        Some(100 * USDC)
    );
}

#[test]
fn a_signed_but_unsent_payment_is_released_only_after_its_blockhash_expires() {
    let Fixture {
        devnet,
        session,
        merchant,
        spending,
    } = Fixture::session_pays(100 * USDC);
    let rpc = &devnet.rpc;
    let (payment, last_valid) = payment(
        rpc,
        session.address(),
        merchant,
        5 * USDC,
        FeePayer::Session,
    );
    let wire =
        reserve_and_sign(&spending, payment.build().unwrap(), &[&session], last_valid).unwrap();
    let signature = bs58::encode(&wire[1..65]).into_string();
    let id = spending.snapshot().unwrap().usage.records()[0].id;

    // Outcome unknown and blockhash still valid: no release.
    let height = rpc.block_height().unwrap();
    assert_eq!(rpc.signature_status(&signature).unwrap(), None);
    assert!(spending
        .release(
            id,
            ReleaseProof::ExpiredUnlanded {
                observed_block_height: height
            }
        )
        .is_err());

    // Past its last valid block height and absent from the chain: released, and it can no
    // longer land.
    let height = rpc.expire_blockhash().unwrap();
    assert!(height > last_valid);
    assert_eq!(rpc.signature_status(&signature).unwrap(), None);
    spending
        .release(
            id,
            ReleaseProof::ExpiredUnlanded {
                observed_block_height: height,
            },
        )
        .unwrap();
    assert!(
        rpc.send(&wire).is_err(),
        "an expired transaction cannot land"
    );
    assert_eq!(rpc.token_balance(&usdc_account(&merchant)).unwrap(), None);
}

/// Simulation checks signatures only when asked (`sigVerify`, off by default as on Solana's
/// RPC): x402's facilitator simulates the payer's transaction before adding its own signature.
#[test]
fn a_partially_signed_transaction_simulates_unless_signatures_are_verified() {
    let devnet = SolanaDevnet::start();
    let rpc = &devnet.rpc;
    let session = funded_session(rpc, 0, 50 * USDC);
    let sponsor = SigningKeypair::generate();
    rpc.airdrop(&sponsor.address(), SOL).unwrap();
    let merchant = SigningKeypair::generate().address();
    rpc.usdc_airdrop(&merchant, 1).unwrap();
    let (mut payment, _) = payment(
        rpc,
        session.address(),
        merchant,
        USDC,
        FeePayer::Sponsor {
            address: sponsor.address(),
        },
    );
    payment.create_recipient_account = false;
    let mut tx = Transaction::unsigned(payment.build().unwrap().into_message());
    session.sign_transaction(&mut tx).unwrap();
    let simulate = |verify: bool| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(tx.to_bytes());
        rpc.call(
            "simulateTransaction",
            serde_json::json!([encoded, {"encoding": "base64", "sigVerify": verify}]),
        )
        .map(|answer| answer["value"]["err"].clone())
    };
    assert_eq!(simulate(false).unwrap(), serde_json::Value::Null);
    assert_eq!(
        rpc.simulate(&tx.to_bytes()).unwrap(),
        None,
        "off by default"
    );
    let verified = simulate(true);
    assert!(
        verified.as_ref().map_or(true, |err| !err.is_null()),
        "the sponsor has not signed: {verified:?}"
    );
    // Nothing was kept: the merchant still holds what it had.
    let account = associated_token_address(&merchant, &USDC_MAINNET_MINT, TokenProgram::Token);
    assert_eq!(rpc.token_balance(&account).unwrap(), Some(1));
}
