#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The limits the user signed for a session key hold across every agent session under it,
//! together, and a session re-created for an agent keeps what that agent spent (issue 13):
//! checked on the Solana devnet, through the whole stack.

use std::time::Duration;

use aip_client::device::SessionKey;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::unix_now;
use aip_wire::payments::{FeeMode, Limits, PaymentStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_daily_cap_holds_across_agents() {
    let paying = PayingStack::start("key-caps").await;
    // "$10 per payment, $20 per day" signed by the user; autonomy up to $40; two agents each
    // given the key's whole daily $20 by the operator.
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(20 * USDC)),
            100 * USDC,
            40 * USDC,
            "agent-a",
        )
        .await;
    paying
        .session(
            &view,
            "agent-b",
            limits(10 * USDC, Some(20 * USDC)),
            FeeMode::Service,
        )
        .await;
    let recipient = fresh_address();
    let pay = |agent: &'static str, amount: u64, key: &'static str| {
        let request = payment(&view, agent, &recipient, amount, key);
        let signer = &paying.signer;
        async move { signer.smart_payment(&request).await }
    };
    for (agent, amount, key) in [("agent-a", 10, "a1"), ("agent-a", 5, "a2")] {
        let paid = pay(agent, amount * USDC, key).await.unwrap();
        assert_eq!(paid.status, PaymentStatus::Confirmed);
    }
    // Agent b's own session has room for 20 today; the key has 5 left.
    let refused = pay("agent-b", 10 * USDC, "b1").await.unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    let message = refused.to_string();
    assert!(message.contains("daily_cap"), "{message}");
    assert!(message.contains(&view.id), "names the key: {message}");
    assert!(
        message.contains("$15 spent today + $10 exceeds the $20 daily cap"),
        "in dollars and the window: {message}"
    );
    // The figures for programs, in base units.
    let body =
        serde_json::to_vec(&payment(&view, "agent-b", &recipient, 10 * USDC, "b1-raw")).unwrap();
    let raw = paying
        .signer
        .raw("POST", "/v1/smart-payment", Some(body))
        .await
        .unwrap();
    assert_eq!(raw.status, 403);
    let details = &raw.json()["error"]["details"];
    assert_eq!(
        (
            details["rule"].as_str(),
            details["spent"].as_u64(),
            details["amount"].as_u64(),
            details["cap"].as_u64(),
            details["window"].as_str()
        ),
        (
            Some("daily_cap"),
            Some(15 * USDC),
            Some(10 * USDC),
            Some(20 * USDC),
            Some("day")
        ),
        "{details}"
    );
    let paid = pay("agent-b", 5 * USDC, "b2").await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed);
    let refused = pay("agent-b", USDC, "b3").await.unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    assert_eq!(
        paying.usdc_of(&recipient),
        20 * USDC,
        "the user's $20 a day, on chain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_session_keeps_what_its_agent_spent() {
    let paying = PayingStack::start("recreated-session").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(100 * USDC)),
            100 * USDC,
            100 * USDC,
            "other-agent",
        )
        .await;
    let short = Limits {
        expires_at: unix_now() + 4,
        ..limits(10 * USDC, Some(10 * USDC))
    };
    paying
        .session(&view, "agent-c", short, FeeMode::Service)
        .await;
    let recipient = fresh_address();
    let paid = paying
        .signer
        .smart_payment(&payment(&view, "agent-c", &recipient, 10 * USDC, "c1"))
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let ended = paying
        .signer
        .smart_payment(&payment(&view, "agent-c", &recipient, 10 * USDC, "c2"))
        .await
        .unwrap_err();
    assert_eq!(ended.code(), Some("session_expired"), "{ended}");
    // The operator gives agent-c a new session with the same $10 a day: today's $10 is spent.
    paying
        .session(
            &view,
            "agent-c",
            limits(10 * USDC, Some(10 * USDC)),
            FeeMode::Service,
        )
        .await;
    let refused = paying
        .signer
        .smart_payment(&payment(&view, "agent-c", &recipient, 10 * USDC, "c3"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("policy_denied"), "{refused}");
    assert!(refused.to_string().contains("daily_cap"), "{refused}");
    assert_eq!(paying.usdc_of(&recipient), 10 * USDC);
}
