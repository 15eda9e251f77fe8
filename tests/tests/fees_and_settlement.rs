#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The user's intent, exactly (issue 13), on the Solana devnet through the whole stack:
//! fees are money too (budgets the user signed and the operator configured, the recipient's
//! token account created only when missing, no caller transactions on the service's fee
//! payer); receipts and the ledger describe the signed transaction; and a signed payment is
//! followed until it lands or provably expires. Each check reads the chain, not the enclave.

use std::time::{Duration, Instant};

use aip_client::device::SessionKey;
use aip_enclave::solana::programs::USDC_MAINNET_MINT;
use aip_enclave::solana::{explain, Action, FeePayer, TokenProgram, Transaction};
use aip_tests::lying_rpc::RpcLie;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::service::StackOptions;
use aip_wire::payments::{FeeMode, Limits, PaymentAnswer, PaymentStatus, SessionKeyView};
use base64::Engine as _;
use solana_address::Address;

/// Rent of a token account (165 bytes), which creating a recipient's account costs.
const TOKEN_ACCOUNT_RENT: u64 = 2_039_280;
/// A gasless payment's two signatures (session key and fee payer).
const TWO_SIGNATURES: u64 = 10_000;

fn fee_limits(per_transaction: u64, per_day: u64) -> Limits {
    Limits {
        max_fee_lamports_per_transaction: per_transaction,
        max_fee_lamports_per_day: per_day,
        ..limits(10 * USDC, Some(100 * USDC))
    }
}

/// Whether the landed transaction `signature` creates an associated token account.
fn creates_an_account(paying: &PayingStack, signature: &str) -> bool {
    let wire = paying
        .rpc()
        .transaction(signature)
        .unwrap()
        .expect("the transaction is on chain");
    let tx = Transaction::from_bytes(&wire).unwrap();
    explain(&tx.message)
        .instructions
        .iter()
        .any(|i| matches!(i.action, Some(Action::CreateAssociatedTokenAccount { .. })))
}

async fn pay(
    paying: &PayingStack,
    view: &SessionKeyView,
    to: &Address,
    key: &str,
) -> Result<PaymentAnswer, aip_client::signer::SignerError> {
    paying
        .signer
        .smart_payment(&payment(view, "agent", to, USDC, key))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gasless_fees_count_against_the_signed_budget_and_the_services() {
    // The operator's fee payer may spend 0.005 SOL a day on fees and rent, all keys together.
    let paying = PayingStack::start_options(
        "fee-budgets",
        StackOptions {
            solana_config: "fee_payer_lamports_per_day = 5000000",
            ..StackOptions::default()
        },
    )
    .await;
    let payer_start = paying.rpc().balance(&paying.fee_payer).unwrap();
    // The user signed: at most 0.0021 SOL of fees and rent per payment, 0.0042 SOL a day.
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            fee_limits(2_100_000, 4_200_000),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let (first, second) = (fresh_address(), fresh_address());
    let paid = pay(&paying, &view, &first, "a1").await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    let signature = paid.signature.clone().unwrap();
    assert!(creates_an_account(&paying, &signature), "a new recipient");
    // The same recipient again: its token account exists, so no creation and no rent.
    let again = pay(&paying, &view, &first, "a2").await.unwrap();
    assert_eq!(again.status, PaymentStatus::Confirmed, "{again:?}");
    assert!(
        !creates_an_account(&paying, again.signature.as_deref().unwrap()),
        "the recipient's account exists: the payment must not fund it again"
    );
    let spent = payer_start - paying.rpc().balance(&paying.fee_payer).unwrap();
    assert_eq!(spent, 2 * TWO_SIGNATURES + TOKEN_ACCOUNT_RENT, "on chain");
    let paid = pay(&paying, &view, &second, "a3").await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    // A third new recipient would take the key's fees past the 0.0042 SOL the user signed.
    let third = fresh_address();
    let refused = pay(&paying, &view, &third, "a4").await.unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    let message = refused.to_string();
    assert!(message.contains("fee_cap_exceeded"), "{message}");
    assert!(message.contains("daily fee cap"), "{message}");
    assert_eq!(paying.usdc_of(&third), 0);

    // Another key with room of its own: the service's budget for the day (0.005 SOL, of
    // which 0.00410856 is spent) refuses a payment that creates an account...
    let (_, other) = paying
        .autonomous(
            SessionKey::generate(),
            fee_limits(2_100_000, 100_000_000),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let refused = pay(&paying, &other, &third, "b1").await.unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    assert!(
        refused.to_string().contains("service's fee payer"),
        "{refused}"
    );
    // ... and pays one that only costs its signatures.
    let paid = pay(&paying, &other, &first, "b2").await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    let spent = payer_start - paying.rpc().balance(&paying.fee_payer).unwrap();
    assert_eq!(spent, 4 * TWO_SIGNATURES + 2 * TOKEN_ACCOUNT_RENT);
    assert!(
        spent <= 5_000_000,
        "the service's daily budget holds on chain"
    );
    assert_eq!(
        paying.usdc_of(&third),
        0,
        "nothing reached the refused recipient"
    );

    // A caller's own transaction never spends the service's fee payer.
    let mut request = payment(&view, "agent", &first, USDC, "caller-tx");
    let service = FeePayer::Service {
        address: paying.fee_payer,
    };
    request.transaction = Some(caller_transaction(
        &paying, &view, first, USDC, None, service,
    ));
    let refused = paying.signer.smart_payment(&request).await.unwrap_err();
    assert_eq!(refused.code(), Some("bad_request"), "{refused}");
    assert!(
        refused.to_string().contains("service fee payer"),
        "{refused}"
    );
}

/// A session key whose payments the session wallet pays fees for, autonomous.
async fn session_paying(paying: &PayingStack) -> (SessionKey, SessionKeyView) {
    let (key, view) = paying
        .register(
            SessionKey::generate(),
            limits(10 * USDC, Some(100 * USDC)),
            100 * USDC,
        )
        .await;
    paying.enable_autonomy(&key, &view, 100 * USDC).await;
    paying
        .session(
            &view,
            "agent",
            limits(10 * USDC, Some(100 * USDC)),
            FeeMode::Session,
        )
        .await;
    (key, view)
}

/// An unsigned transaction paying `amount` from `view`'s wallet to `to` (creating its token
/// account), with `price` as priority fee, fees paid by `fee_payer`.
fn caller_transaction(
    paying: &PayingStack,
    view: &SessionKeyView,
    to: Address,
    amount: u64,
    price: Option<u64>,
    fee_payer: FeePayer,
) -> String {
    let wallet = view.public_key.parse().unwrap();
    base64::engine::general_purpose::STANDARD.encode(
        paying
            .unsigned_transfer(wallet, to, amount, price, fee_payer)
            .to_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_and_the_ledger_describe_the_signed_transaction() {
    let paying = PayingStack::start("receipts-from-tx").await;
    let (_, view) = session_paying(&paying).await;
    let (claimed, actual) = (fresh_address(), fresh_address());
    // The request names one recipient, the transaction pays another: refused, nothing paid.
    let mut request = payment(&view, "agent", &claimed, 2 * USDC, "mismatch");
    request.transaction = Some(caller_transaction(
        &paying,
        &view,
        actual,
        2 * USDC,
        None,
        FeePayer::Session,
    ));
    let refused = paying.signer.smart_payment(&request).await.unwrap_err();
    assert_eq!(refused.code(), Some("bad_request"), "{refused}");
    assert!(refused.to_string().contains("which is not"), "{refused}");
    // A priority fee above the service's cap: refused.
    let mut request = payment(&view, "agent", &actual, 2 * USDC, "pricey");
    request.transaction = Some(caller_transaction(
        &paying,
        &view,
        actual,
        2 * USDC,
        Some(10_000_000),
        FeePayer::Session,
    ));
    let refused = paying.signer.smart_payment(&request).await.unwrap_err();
    assert_eq!(refused.code(), Some("bad_request"), "{refused}");
    assert!(refused.to_string().contains("priority fee"), "{refused}");
    assert_eq!(paying.usdc_of(&actual) + paying.usdc_of(&claimed), 0);

    // The transaction that matches: the receipt and the ledger say what it does.
    let mut request = payment(&view, "agent", &actual, 2 * USDC, "matching");
    request.transaction = Some(caller_transaction(
        &paying,
        &view,
        actual,
        2 * USDC,
        None,
        FeePayer::Session,
    ));
    let paid = paying.signer.smart_payment(&request).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert_eq!(paying.usdc_of(&actual), 2 * USDC, "on chain");
    let receipt = paid.receipt.unwrap().receipt;
    assert_eq!(receipt.recipient, actual.to_string());
    assert_eq!(receipt.mint, USDC_MAINNET_MINT.to_string());
    assert_eq!(receipt.amount, 2 * USDC);
    let export = paying
        .signer
        .raw("GET", "/v1/ledger?from=1&limit=1000", None)
        .await
        .unwrap()
        .json();
    let entry = export["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "payment_signed")
        .expect("a payment_signed entry");
    let body: serde_json::Value = serde_json::from_str(entry["body"].as_str().unwrap()).unwrap();
    let account = aip_enclave::solana::programs::associated_token_address(
        &actual,
        &USDC_MAINNET_MINT,
        TokenProgram::Token,
    );
    assert_eq!(body["recipient"], actual.to_string());
    assert_eq!(body["recipient_token_account"], account.to_string());
    assert_eq!(body["fee_payer"], "session");
    assert_eq!(body["fee_lamports"], 5_000 + TOKEN_ACCOUNT_RENT);
}

/// Polls the payment until `done` holds (30 s at most).
async fn wait_for(
    paying: &PayingStack,
    id: &str,
    done: impl Fn(&PaymentAnswer) -> bool,
) -> PaymentAnswer {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = paying.signer.payment(id).await.unwrap();
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "payment stuck: {answer:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_payment_is_sent_again_and_an_expired_one_released() {
    let paying = PayingStack::start_options(
        "settlement",
        StackOptions {
            lying_rpc: true,
            ..StackOptions::default()
        },
    )
    .await;
    let lie = |mode| {
        for proxy in &paying.stack.rpc_proxies {
            proxy.set(mode);
        }
    };
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(20 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let recipient = fresh_address();
    // Every endpoint accepts the transaction and drops it.
    lie(RpcLie::DropSends);
    let dropped = paying
        .pay_when_ready(&payment(&view, "agent", &recipient, 10 * USDC, "dropped"))
        .await;
    assert_eq!(dropped.status, PaymentStatus::Submitted, "{dropped:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        paying.usdc_of(&recipient),
        0,
        "nothing reached the chain yet"
    );
    // The endpoints deliver again: the enclave re-sends while the blockhash is valid.
    lie(RpcLie::Honest);
    let landed = wait_for(&paying, &dropped.payment_id, |a| {
        a.status == PaymentStatus::Confirmed
    })
    .await;
    assert_eq!(landed.signature, dropped.signature);
    assert_eq!(
        paying.usdc_of(&recipient),
        10 * USDC,
        "landed once, on chain"
    );

    // Dropped again, and this time the blockhash expires before anything delivers it.
    lie(RpcLie::DropSends);
    let lost = paying
        .signer
        .smart_payment(&payment(&view, "agent", &recipient, 10 * USDC, "lost"))
        .await
        .unwrap();
    assert_eq!(lost.status, PaymentStatus::Submitted, "{lost:?}");
    // Until it provably cannot land, it counts: the day's $20 is taken.
    let refused = paying
        .signer
        .smart_payment(&payment(&view, "agent", &recipient, USDC, "over"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    paying.rpc().expire_blockhash().unwrap();
    let expired = wait_for(&paying, &lost.payment_id, |a| {
        a.status == PaymentStatus::Expired
    })
    .await;
    let signature = expired.signature.unwrap();
    assert_eq!(
        paying.rpc().signature_status(&signature).unwrap(),
        None,
        "the expired transaction is not on chain"
    );
    // Released on that proof: the day has $10 left again, and paying it lands.
    lie(RpcLie::Honest);
    let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
    assert_eq!(sessions[0].spent.day, 10 * USDC, "{sessions:?}");
    let paid = paying
        .signer
        .smart_payment(&payment(&view, "agent", &recipient, 10 * USDC, "after"))
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert_eq!(paying.usdc_of(&recipient), 20 * USDC, "$20 a day, on chain");
    // Still no second life for the expired one.
    assert_eq!(paying.rpc().signature_status(&signature).unwrap(), None);
    let export = paying
        .signer
        .raw("GET", "/v1/ledger?from=1&limit=1000", None)
        .await
        .unwrap()
        .json();
    assert!(
        export["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "payment_expired"),
        "the release is in the ledger"
    );
}

/// A transaction made for one payment is never signed for another: the cluster runs it once,
/// so a second payment would be reported paid (a second receipt, the caps counted twice) for
/// the one transfer. Checked for a caller's own transaction reused by another agent of the
/// same key, and for an exact copy of a transaction the service built, taken from the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_made_for_one_payment_is_never_signed_for_another() {
    let paying = PayingStack::start("one-tx-one-payment").await;
    let (_, view) = session_paying(&paying).await;
    paying
        .session(
            &view,
            "other-agent",
            limits(10 * USDC, Some(100 * USDC)),
            FeeMode::Session,
        )
        .await;
    let to = fresh_address();

    let transaction = caller_transaction(&paying, &view, to, USDC, None, FeePayer::Session);
    let mut request = payment(&view, "agent", &to, USDC, "caller-first");
    request.transaction = Some(transaction.clone());
    let paid = paying.signer.smart_payment(&request).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    let mut again = payment(&view, "other-agent", &to, USDC, "caller-second");
    again.transaction = Some(transaction);
    let refused = paying.signer.smart_payment(&again).await.unwrap_err();
    assert_eq!(refused.code(), Some("transaction_mismatch"), "{refused}");
    assert!(
        refused
            .to_string()
            .contains("already signed for another payment"),
        "{refused}"
    );

    let built = pay(&paying, &view, &to, "built").await.unwrap();
    assert_eq!(built.status, PaymentStatus::Confirmed, "{built:?}");
    let landed = paying
        .rpc()
        .transaction(built.signature.as_deref().unwrap())
        .unwrap()
        .expect("the built payment is on chain");
    let copy = Transaction::unsigned(Transaction::from_bytes(&landed).unwrap().message);
    let mut copied = payment(&view, "agent", &to, USDC, "copy-of-built");
    copied.transaction = Some(base64::engine::general_purpose::STANDARD.encode(copy.to_bytes()));
    let refused = paying.signer.smart_payment(&copied).await.unwrap_err();
    assert_eq!(refused.code(), Some("transaction_mismatch"), "{refused}");
    assert!(
        refused.to_string().contains("another payment's reference"),
        "{refused}"
    );

    // On chain: the two transfers that were paid, once each.
    assert_eq!(paying.usdc_of(&to), 2 * USDC);
    // Neither refusal holds a reservation: each agent's day counts what it paid, no more.
    let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
    for (agent, paid) in [("agent", 2 * USDC), ("other-agent", 0)] {
        let session = sessions.iter().find(|s| s.agent_id == agent).unwrap();
        assert_eq!(session.spent.day, paid, "{agent}: {session:?}");
    }
}
