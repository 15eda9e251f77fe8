#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The rest of AIP-1's surface through the whole stack: dry runs that decide without
//! reserving, signing or recording anything. Each check reads the chain or the signed ledger,
//! not only the enclave's answer.

use aip_client::device::SessionKey;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_wire::payments::{DryRunDecision, FeeMode, Limits, PaymentStatus, SessionKeyView};

async fn ledger_len(paying: &PayingStack) -> usize {
    paying
        .signer
        .raw("GET", "/v1/ledger?from=1&limit=1000", None)
        .await
        .unwrap()
        .json()["entries"]
        .as_array()
        .unwrap()
        .len()
}

async fn spent_today(paying: &PayingStack, view: &SessionKeyView, agent: &str) -> u64 {
    paying
        .signer
        .sessions(Some(&view.id))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.agent_id == agent)
        .unwrap()
        .spent
        .day
}

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
    let entries = ledger_len(&paying).await;

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
    assert_eq!(spent_today(&paying, &view, "agent").await, 0);
    assert_eq!(ledger_len(&paying).await, entries, "no ledger entry");
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
    assert_eq!(spent_today(&paying, &view, "agent").await, 15 * USDC);
}
