#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The rest of AIP-1's surface through the whole stack: dry runs that decide without
//! reserving, signing or recording anything. Each check reads the chain or the signed ledger,
//! not only the enclave's answer.

use aip_client::device::SessionKey;
use aip_tests::lying_rpc::RpcLie;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::service::StackOptions;
use aip_wire::payments::{
    ConfirmPaymentIntent, CreatePaymentIntent, DryRunDecision, FeeMode, Limits,
    PaymentIntentStatus, PaymentStatus, SessionKeyView,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_decides_without_reserving_signing_or_recording_anything() {
    let paying = PayingStack::start("dry-run").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(15 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    paying
        .session(
            &view,
            "careful-agent",
            Limits {
                require_approval_above: Some(2 * USDC),
                ..limits(10 * USDC, Some(15 * USDC))
            },
            FeeMode::Service,
        )
        .await;
    let recipient = fresh_address();
    let entries = paying.ledger_entries().await.len();

    let six = payment(&view, "agent", &recipient, 6 * USDC, "six");
    let allowed = paying.signer.smart_payment_dry_run(&six).await.unwrap();
    assert_eq!(allowed.decision, DryRunDecision::Allow, "{allowed:?}");
    assert_eq!(allowed.amount, 6 * USDC);
    assert!(allowed.autonomous);
    assert_eq!(allowed.remaining.day, Some(15 * USDC));
    let over_cap = paying
        .signer
        .smart_payment_dry_run(&payment(&view, "agent", &recipient, 11 * USDC, "eleven"))
        .await
        .unwrap();
    assert_eq!(over_cap.decision, DryRunDecision::Deny);
    assert_eq!(over_cap.denial.unwrap().rule, "per_transaction_cap");
    let approval = paying
        .signer
        .smart_payment_dry_run(&payment(
            &view,
            "careful-agent",
            &recipient,
            3 * USDC,
            "three",
        ))
        .await
        .unwrap();
    assert_eq!(
        approval.decision,
        DryRunDecision::ApprovalRequired,
        "{approval:?}"
    );
    assert_eq!(approval.approval_threshold, Some(2 * USDC));
    // Bad input is refused as for a payment.
    let mut bad = six.clone();
    bad.recipient = "not-an-address".into();
    let refused = paying.signer.smart_payment_dry_run(&bad).await.unwrap_err();
    assert_eq!(refused.code(), Some("bad_request"), "{refused}");

    // Nothing was reserved, recorded or sent.
    assert_eq!(paying.spent_today(&view.id, "agent").await, 0);
    assert_eq!(
        paying.ledger_entries().await.len(),
        entries,
        "no ledger entry"
    );
    assert_eq!(paying.usdc_of(&recipient), 0);
    // The same idempotency key pays for real afterwards: no record stood in its way.
    let paid = paying.signer.smart_payment(&six).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert_eq!(paying.usdc_of(&recipient), 6 * USDC);

    // Now the day has 9 left: a dry run of 10 says so, and still reserves nothing.
    let ten = paying
        .signer
        .smart_payment_dry_run(&payment(&view, "agent", &recipient, 10 * USDC, "ten"))
        .await
        .unwrap();
    assert_eq!(ten.decision, DryRunDecision::Deny);
    assert_eq!(ten.denial.unwrap().rule, "daily_cap");
    assert_eq!(ten.remaining.day, Some(9 * USDC));
    let nine = payment(&view, "agent", &recipient, 9 * USDC, "nine");
    assert_eq!(
        paying
            .signer
            .smart_payment_dry_run(&nine)
            .await
            .unwrap()
            .decision,
        DryRunDecision::Allow
    );
    let paid = paying.signer.smart_payment(&nine).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert_eq!(paying.spent_today(&view.id, "agent").await, 15 * USDC);
}

fn intent(agent: &str, recipient: &solana_address::Address, amount: u64) -> CreatePaymentIntent {
    CreatePaymentIntent {
        amount,
        mint: None,
        agent_id: agent.to_owned(),
        recipient: recipient.to_string(),
        description: Some("Pro plan".into()),
        metadata: Some([("order".to_owned(), "A-1".to_owned())].into()),
        expires_in: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_intent_is_paid_once_within_the_session_and_its_secret_is_single_use() {
    let paying = PayingStack::start("payment-intents").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(15 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let (_, other_key) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(15 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let merchant = fresh_address();
    let signer = &paying.signer;
    let confirm = |secret: &str, key: &SessionKeyView| ConfirmPaymentIntent {
        client_secret: secret.to_owned(),
        session_key_id: key.id.clone(),
    };

    // Bad input changes nothing.
    for (what, bad) in [
        (
            "zero amount",
            CreatePaymentIntent {
                amount: 0,
                ..intent("agent", &merchant, USDC)
            },
        ),
        (
            "bad recipient",
            CreatePaymentIntent {
                recipient: "nope".into(),
                ..intent("agent", &merchant, USDC)
            },
        ),
        (
            "10 s to expire",
            CreatePaymentIntent {
                expires_in: Some(10),
                ..intent("agent", &merchant, USDC)
            },
        ),
        (
            "another mint",
            CreatePaymentIntent {
                mint: Some(fresh_address().to_string()),
                ..intent("agent", &merchant, USDC)
            },
        ),
    ] {
        let refused = signer.create_payment_intent(&bad).await.unwrap_err();
        assert_eq!(refused.code(), Some("bad_request"), "{what}: {refused}");
    }

    let created = signer
        .create_payment_intent(&intent("agent", &merchant, 4 * USDC))
        .await
        .unwrap();
    assert_eq!(created.status, PaymentIntentStatus::RequiresPayment);
    let secret = created.client_secret.clone().expect("shown at creation");
    assert!(secret.starts_with(&format!("{}_secret_", created.id)));
    let shown = signer.payment_intent(&created.id).await.unwrap();
    assert_eq!(shown.client_secret, None, "shown only at creation");
    assert_eq!(shown.metadata["order"], "A-1");

    // A wrong secret: refused, nothing paid.
    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    let refused = signer
        .confirm_payment_intent(&created.id, &confirm(&wrong, &view))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("client_secret_invalid"), "{refused}");
    assert_eq!(paying.usdc_of(&merchant), 0);

    let paid = signer
        .confirm_payment_intent(&created.id, &confirm(&secret, &view))
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded, "{paid:?}");
    assert_eq!(paying.usdc_of(&merchant), 4 * USDC, "paid on chain");
    let payment = signer
        .payment(paid.payment_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Confirmed);
    // Confirming again with the same keys is the same payment; with another key, refused.
    let again = signer
        .confirm_payment_intent(&created.id, &confirm(&secret, &view))
        .await
        .unwrap();
    assert_eq!(again.payment_id, paid.payment_id);
    let used = signer
        .confirm_payment_intent(&created.id, &confirm(&secret, &other_key))
        .await
        .unwrap_err();
    assert_eq!(used.code(), Some("client_secret_used"), "{used}");
    let not_cancelable = signer.cancel_payment_intent(&created.id).await.unwrap_err();
    assert_eq!(not_cancelable.code(), Some("intent_not_cancelable"));
    assert_eq!(paying.usdc_of(&merchant), 4 * USDC, "once");

    // A canceled intent cannot be confirmed.
    let canceled = signer
        .create_payment_intent(&intent("agent", &merchant, USDC))
        .await
        .unwrap();
    let shown = signer.cancel_payment_intent(&canceled.id).await.unwrap();
    assert_eq!(shown.status, PaymentIntentStatus::Canceled);
    let refused = signer
        .confirm_payment_intent(
            &canceled.id,
            &confirm(canceled.client_secret.as_deref().unwrap(), &view),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("intent_canceled"), "{refused}");

    // Above the session's per-payment cap: the policy refuses, the intent says why.
    let greedy = signer
        .create_payment_intent(&intent("agent", &merchant, 11 * USDC))
        .await
        .unwrap();
    let refused = signer
        .confirm_payment_intent(
            &greedy.id,
            &confirm(greedy.client_secret.as_deref().unwrap(), &view),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    let shown = signer.payment_intent(&greedy.id).await.unwrap();
    assert_eq!(shown.status, PaymentIntentStatus::Canceled);
    assert_eq!(
        shown.last_payment_error.unwrap().rule,
        "per_transaction_cap"
    );
    assert_eq!(paying.usdc_of(&merchant), 4 * USDC);
    assert_eq!(paying.spent_today(&view.id, "agent").await, 4 * USDC);

    // Another tenant does not see it; the secret is in no log and no ledger entry.
    let stranger = paying
        .client_in(&["create_payments"], Some("another-tenant"))
        .await;
    let hidden = stranger.payment_intent(&created.id).await.unwrap_err();
    assert_eq!(hidden.code(), Some("not_found"), "{hidden}");
    let ledger = serde_json::Value::from(paying.ledger_entries().await).to_string();
    assert!(ledger.contains(&created.id));
    // Analytics over today, from the ledger: one payment (the denied one was never signed),
    // three intents created, one paid.
    let report = signer.analytics(Some(1)).await.unwrap();
    let agent = report
        .agents
        .iter()
        .find(|a| a.agent_id == "agent")
        .unwrap();
    assert_eq!(
        (agent.payments, agent.volume, agent.succeeded),
        (1, 4 * USDC, 1)
    );
    assert_eq!(agent.success_rate, Some(1.0));
    assert_eq!(
        (report.intents.created, report.intents.paid),
        (3, 1),
        "{report:?}"
    );
    assert_eq!(report.intents.conversion_rate, Some(1.0 / 3.0));
    assert_eq!(report.period_days, Some(1));
    let refused = signer
        .raw("GET", "/v1/analytics/agents?period_days=0", None)
        .await
        .unwrap();
    assert_eq!(refused.error_code().as_deref(), Some("bad_request"));
    for secret in [&secret, canceled.client_secret.as_ref().unwrap()] {
        assert!(
            !ledger.contains(secret.as_str()),
            "the ledger holds a client secret"
        );
        assert!(
            !paying.stack.host_log().contains(secret.as_str()),
            "a log holds a client secret"
        );
    }
}

/// `fees: auto`: a wallet without the SOL for a payment's fees gets them paid by the service
/// (gasless), one that has it pays them itself; read from the chain's balances. The balance
/// is the least the RPC quorum reports, so one lying endpoint can only make the service pay
/// (within the session's fee caps), never make the empty wallet the fee payer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_session_pays_fees_from_the_wallet_only_when_it_holds_the_sol() {
    let paying = PayingStack::start_options(
        "auto-gasless",
        StackOptions {
            lying_rpc: true,
            ..StackOptions::default()
        },
    )
    .await;
    let liar = paying.stack.rpc_proxies[1].clone();
    let rpc = paying.rpc();
    // A session key whose wallet holds USDC and no SOL at all.
    let key = SessionKey::generate();
    let request = key
        .register_request(
            aip_tests::payments::PASSWORD,
            limits(10 * USDC, Some(50 * USDC)),
        )
        .unwrap();
    let view = paying.signer.register_device_bound(&request).await.unwrap();
    let wallet: solana_address::Address = view.public_key.parse().unwrap();
    rpc.usdc_airdrop(&wallet, 50 * USDC).unwrap();
    paying.enable_autonomy(&key, &view, 50 * USDC).await;
    paying
        .session(
            &view,
            "agent",
            limits(10 * USDC, Some(50 * USDC)),
            FeeMode::Auto,
        )
        .await;
    let recipient = fresh_address();
    let service_before = rpc.balance(&paying.fee_payer).unwrap();
    assert_eq!(rpc.balance(&wallet).unwrap(), 0);

    // One endpoint says the empty wallet holds 10 SOL: the other's 0 decides.
    liar.set(RpcLie::Balance(10_000_000_000));
    let mut first = payment(&view, "agent", &recipient, USDC, "auto-1");
    first.auto_detect_gasless = true;
    let paid = paying.signer.smart_payment(&first).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert!(liar.lies() > 0, "the endpoint did lie");
    assert_eq!(rpc.balance(&wallet).unwrap(), 0, "the wallet paid nothing");
    assert!(
        rpc.balance(&paying.fee_payer).unwrap() < service_before,
        "the service paid"
    );
    liar.set(RpcLie::Honest);

    // With SOL in the wallet, the wallet pays (the default for an auto session).
    rpc.airdrop(&wallet, 1_000_000_000).unwrap();
    let service_before = rpc.balance(&paying.fee_payer).unwrap();
    let second = payment(&view, "agent", &recipient, USDC, "auto-2");
    let paid = paying.signer.smart_payment(&second).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert!(
        rpc.balance(&wallet).unwrap() < 1_000_000_000,
        "the wallet paid its fees"
    );
    assert_eq!(rpc.balance(&paying.fee_payer).unwrap(), service_before);
    assert_eq!(paying.usdc_of(&recipient), 2 * USDC);

    // One endpoint says the funded wallet is empty: the service pays, which costs the user
    // nothing (and the fee still counts against the session's fee caps).
    liar.set(RpcLie::Balance(0));
    let wallet_before = rpc.balance(&wallet).unwrap();
    let service_before = rpc.balance(&paying.fee_payer).unwrap();
    let third = payment(&view, "agent", &recipient, USDC, "auto-3");
    let paid = paying.signer.smart_payment(&third).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert_eq!(rpc.balance(&wallet).unwrap(), wallet_before);
    assert!(rpc.balance(&paying.fee_payer).unwrap() < service_before);
    assert_eq!(paying.usdc_of(&recipient), 3 * USDC);
    liar.set(RpcLie::Honest);

    // Each counted against the fee caps the user signed, whoever paid; the ledger says who.
    let payers: Vec<String> = paying
        .ledger_bodies("payment_signed")
        .await
        .iter()
        .map(|b| b["fee_payer"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(payers, ["service", "session", "service"]);

    // auto_detect_gasless on a session whose fees are fixed: refused.
    let (_, fixed) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(50 * USDC)),
            10 * USDC,
            10 * USDC,
            "agent",
        )
        .await;
    let mut asked = payment(&fixed, "agent", &recipient, USDC, "fixed");
    asked.auto_detect_gasless = true;
    let refused = paying.signer.smart_payment(&asked).await.unwrap_err();
    assert_eq!(refused.code(), Some("bad_request"), "{refused}");
}

/// `POST /v1/pricing/suggest` over the real API: a known country, an unknown one, bounds, and
/// bad input refused with a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ppp_pricing_suggests_within_the_sellers_bounds() {
    use aip_enclave::pricing::{PppConfig, PricingRequest, UserProfile};
    let paying = PayingStack::start("pricing").await;
    let ask = |country: Option<&str>, config: Option<PppConfig>| PricingRequest {
        base_price: 99.0,
        agent_id: Some("agent".into()),
        product_id: None,
        currency: None,
        user_profile: Some(UserProfile {
            location_country: country.map(str::to_owned),
        }),
        ppp_config: config,
    };
    let brazil = paying
        .signer
        .suggest_price(&ask(Some("BR"), None))
        .await
        .unwrap();
    assert_eq!(brazil.suggested_amount, 48.30); // 9900 × 0.48792… = 4830.44 cents
    assert!(brazil.ppp_adjusted);
    assert!(brazil.reasoning.contains("Brazil"), "{}", brazil.reasoning);
    let bounded = paying
        .signer
        .suggest_price(&ask(
            Some("BR"),
            Some(PppConfig {
                max_discount_percent: Some(30.0),
                ..PppConfig::default()
            }),
        ))
        .await
        .unwrap();
    assert_eq!(bounded.suggested_amount, 69.30);
    let unknown = paying
        .signer
        .suggest_price(&ask(Some("XX"), None))
        .await
        .unwrap();
    assert_eq!(
        (unknown.suggested_amount, unknown.ppp_adjusted),
        (99.0, false)
    );
    let refused = paying
        .signer
        .raw(
            "POST",
            "/v1/pricing/suggest",
            Some(br#"{"base_price": -5}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(refused.error_code().as_deref(), Some("bad_request"));
}
