#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Tenants (issue 13): a session key, its sessions and payments belong to the tenant of the
//! API key that registered it. Another tenant's keys get `not_found` for every operation on
//! it and see none of it in lists; keys of the same tenant and `full` operator keys can act.
//! Checked against the real stack, with the chain showing what moved.

use aip_client::device::SessionKey;
use aip_client::signer::{Signer, SignerError};
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, PASSWORD, USDC};
use aip_tests::unix_now;
use aip_wire::payments::{CreateSession, FeeMode, PaymentStatus};

fn not_found<T: std::fmt::Debug>(what: &str, result: Result<T, SignerError>) {
    match result {
        Err(error) => assert_eq!(error.code(), Some("not_found"), "{what}: {error}"),
        Ok(value) => panic!("{what}: another tenant's key got {value:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_sees_and_spends_nothing() {
    let paying = PayingStack::start("tenants").await;
    let all = ["manage_sessions", "create_payments", "read_analytics"];
    let acme = paying.client_in(&all, Some("acme")).await;
    let acme_agent = paying.client_in(&["create_payments"], Some("acme")).await;
    let globex = paying.client_in(&all, Some("globex")).await;

    // Acme's backend registers a user's key, autonomy and an agent session.
    let key = SessionKey::generate();
    let request = key
        .register_request(PASSWORD, limits(10 * USDC, Some(100 * USDC)))
        .unwrap();
    let view = acme.register_device_bound(&request).await.unwrap();
    let wallet: solana_address::Address = view.public_key.parse().unwrap();
    paying.rpc().usdc_airdrop(&wallet, 100 * USDC).unwrap();
    let target = acme.encryption_target().await.unwrap();
    let autonomy = key
        .autonomy_request(&view.id, 50 * USDC, unix_now() + 86_400, &target)
        .unwrap();
    let session = CreateSession {
        session_key_id: view.id.clone(),
        agent_id: "agent".into(),
        limits: limits(10 * USDC, Some(100 * USDC)),
        allowed_recipients: None,
        max_payments_per_day: None,
        fees: FeeMode::Service,
    };

    // Globex, before and after Acme sets things up: not found, for every operation.
    not_found(
        "enable autonomy",
        globex.enable_autonomy(&view.id, &autonomy).await,
    );
    acme.enable_autonomy(&view.id, &autonomy).await.unwrap();
    not_found("create a session", globex.create_session(&session).await);
    acme.create_session(&session).await.unwrap();
    not_found("read the key", globex.session_key(&view.id).await);
    not_found("list its sessions", globex.sessions(Some(&view.id)).await);
    assert!(
        globex.sessions(None).await.unwrap().is_empty(),
        "another tenant's list holds none of it"
    );
    let recipient = fresh_address();
    not_found(
        "pay from it",
        globex
            .smart_payment(&payment(&view, "agent", &recipient, 5 * USDC, "g1"))
            .await,
    );
    not_found("revoke it", globex.revoke(&view.id).await);

    // The same tenant's agent key pays; the operator's full key sees everything.
    let paid = acme_agent
        .smart_payment(&payment(&view, "agent", &recipient, 5 * USDC, "a1"))
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed);
    assert_eq!(acme.sessions(None).await.unwrap().len(), 1);
    let operator: &Signer = &paying.signer;
    assert!(operator
        .sessions(None)
        .await
        .unwrap()
        .iter()
        .any(|s| s.session_key_id == view.id));
    assert_eq!(
        paying.usdc_of(&recipient),
        5 * USDC,
        "only Acme's payment moved"
    );
    assert!(acme
        .session_key(&view.id)
        .await
        .unwrap()
        .revoked_at
        .is_none());

    // Analytics are the tenant's own: Globex sees none of Acme's payment, Acme sees it, and
    // the operator's full key sees the sum over tenants.
    let of =
        |report: &aip_wire::payments::AgentAnalytics| (report.total_payments, report.total_volume);
    assert_eq!(of(&globex.analytics(Some(1)).await.unwrap()), (0, 0));
    let acme_report = acme.analytics(Some(1)).await.unwrap();
    assert_eq!(of(&acme_report), (1, 5 * USDC));
    assert_eq!(acme_report.agents[0].agent_id, "agent");
    assert!(of(&operator.analytics(Some(1)).await.unwrap()).0 >= 1);

    // A delegate manager mints keys only in its own tenant.
    let manager = paying.client_in(&["manage_delegates"], Some("acme")).await;
    let crossing = manager
        .raw(
            "POST",
            "/v1/agent-keys",
            Some(br#"{"label":"x","scopes":["create_payments"],"tenant":"globex"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(
        crossing.status,
        403,
        "{}",
        String::from_utf8_lossy(&crossing.body)
    );
    let joined = manager
        .raw(
            "POST",
            "/v1/agent-keys",
            Some(br#"{"label":"x","scopes":["create_payments"]}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(joined.status, 201);
    assert_eq!(joined.json()["tenant"], "acme");
}
