#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Payments waiting for the device's signature hold their amount against the caps until
//! their message can no longer land. Then the reservation is released and the payment
//! expires, but only after the wallet's history is read: a device that signed a waiting
//! message and sent it to the cluster itself (bypassing the signer) is still counted.

use std::time::{Duration, Instant};

use aip_tests::lying_rpc::RpcLie;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::service::StackOptions;
use aip_wire::payments::{FeeMode, PaymentStatus, SubmitSigned};
use base64::Engine as _;

/// A session key without autonomy (every payment waits for the device) and its agent's
/// session: 10 a payment, 15 a day.
async fn waiting_session(
    paying: &PayingStack,
) -> (
    aip_client::device::SessionKey,
    aip_wire::payments::SessionKeyView,
) {
    let (device, view) = paying
        .session_key(limits(10 * USDC, Some(15 * USDC)), 100 * USDC)
        .await;
    paying
        .session(
            &view,
            "agent",
            limits(10 * USDC, Some(15 * USDC)),
            FeeMode::Session,
        )
        .await;
    (device, view)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_payments_expire_with_their_blockhash_and_a_copy_that_landed_still_counts() {
    let paying = PayingStack::start("interactive-expiry").await;
    let signer = &paying.signer;
    let recipient = fresh_address();
    let (device, view) = waiting_session(&paying).await;
    let ask = |key: &str, amount: u64| payment(&view, "agent", &recipient, amount, key);
    let landed_copy = signer.smart_payment(&ask("a", 6 * USDC)).await.unwrap();
    let abandoned = signer.smart_payment(&ask("b", 6 * USDC)).await.unwrap();
    assert_eq!(landed_copy.status, PaymentStatus::RequiresSignature);
    assert_eq!(abandoned.status, PaymentStatus::RequiresSignature);
    // Both reserved: a third does not fit the day.
    let over = signer.smart_payment(&ask("c", 6 * USDC)).await.unwrap_err();
    assert_eq!(over.code(), Some("policy_denied"), "{over}");

    // The device signs the first and sends it to the cluster itself; the second it signs
    // too late (kept for below).
    let signed_copy = device
        .sign_reviewed(&device.review(&landed_copy).unwrap())
        .unwrap();
    paying.rpc().send(&signed_copy).unwrap();
    assert_eq!(paying.usdc_of(&recipient), 6 * USDC);
    let late = device
        .sign_reviewed(&device.review(&abandoned).unwrap())
        .unwrap();

    // The cluster moves on: neither message can land any more.
    paying.rpc().expire_blockhash().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = signer.payment(&landed_copy.payment_id).await.unwrap();
        let b = signer.payment(&abandoned.payment_id).await.unwrap();
        if a.status == PaymentStatus::Expired && b.status == PaymentStatus::Expired {
            break;
        }
        assert!(Instant::now() < deadline, "never expired: {a:?} {b:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // What landed counts (read from the chain before the release), what did not is free.
    let session = &signer.sessions(Some(&view.id)).await.unwrap()[0];
    assert_eq!(session.spent.day, 6 * USDC, "{session:?}");

    // The late signature is refused: that payment is over, nothing more moves.
    let refused = signer
        .submit_signed(
            &abandoned.payment_id,
            &SubmitSigned {
                transaction: base64::engine::general_purpose::STANDARD.encode(&late),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("bad_request"), "{refused}");
    assert_eq!(paying.usdc_of(&recipient), 6 * USDC);

    // The freed amount is usable again: 6 fits beside the 6 that landed, 6 more does not.
    let again = signer.smart_payment(&ask("d", 6 * USDC)).await.unwrap();
    assert_eq!(again.status, PaymentStatus::RequiresSignature);
    let full = signer.smart_payment(&ask("e", 6 * USDC)).await.unwrap_err();
    assert_eq!(full.code(), Some("policy_denied"), "{full}");

    // The ledger says both expired, unsigned by the signer.
    let export = signer
        .raw("GET", "/v1/ledger?from=1&limit=1000", None)
        .await
        .unwrap()
        .json();
    let expired: Vec<&serde_json::Value> = export["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "payment_expired")
        .collect();
    assert_eq!(expired.len(), 2, "{expired:?}");
    for entry in expired {
        let body: serde_json::Value =
            serde_json::from_str(entry["body"].as_str().unwrap()).unwrap();
        assert!(body["signature"].is_null(), "{body}");
    }
}

/// The enclave stops between the two writes of an expiry: the account's reservation is
/// released, the payment record still says it waits for the device. (Made here by putting
/// the payment's older record back under the host, which is what the store holds after such
/// a crash.) Reading the payment finishes the move: it answers expired, and nothing counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_interrupted_between_its_writes_is_finished_when_read() {
    let mut paying = PayingStack::start("interrupted-expiry").await;
    let recipient = fresh_address();
    let (_, view) = waiting_session(&paying).await;
    let asked = paying
        .signer
        .smart_payment(&payment(&view, "agent", &recipient, 6 * USDC, "a"))
        .await
        .unwrap();
    assert_eq!(asked.status, PaymentStatus::RequiresSignature);
    let key = format!("payments/{}", asked.payment_id);
    let store = paying.stack.dir.join("store.db");
    let waiting_record = |db: &std::path::Path| -> (i64, Vec<u8>) {
        let db = rusqlite::Connection::open(db).unwrap();
        db.query_row(
            "SELECT version, data FROM blobs WHERE key = ?1",
            [&key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    paying.stack.stop_host();
    let (waiting_version, waiting_data) = waiting_record(&store);
    paying.stack.start_host();
    paying.reconnect().await;

    paying.rpc().expire_blockhash().unwrap();
    paying
        .wait_status(
            &asked.payment_id,
            PaymentStatus::Expired,
            Duration::from_secs(60),
        )
        .await;

    // The crash state: the released reservation, the waiting record.
    paying.stack.stop_host();
    {
        let db = rusqlite::Connection::open(&store).unwrap();
        let changed = db
            .execute(
                "UPDATE blobs SET version = ?1, data = ?2 WHERE key = ?3",
                rusqlite::params![waiting_version, waiting_data, key],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    paying.stack.start_host();
    paying.reconnect().await;

    let read = paying.signer.payment(&asked.payment_id).await.unwrap();
    assert_eq!(read.status, PaymentStatus::Expired, "{read:?}");
    let session = &paying.signer.sessions(Some(&view.id)).await.unwrap()[0];
    assert_eq!(session.spent.day, 0, "{session:?}");
    // The same request again answers the same, and signs nothing new.
    let again = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, 6 * USDC, "a"))
        .await
        .unwrap();
    assert_eq!(again.status, PaymentStatus::Expired);
    assert_eq!(paying.usdc_of(&recipient), 0);
}

/// The device sends its signed copy of a waiting payment itself, and every RPC endpoint lists
/// it but none serves it yet (their transaction stores lag). When the blockhash expires, the
/// release must wait: that unserved transaction may be the copy. Once it is served, it counts
/// and the reservation goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_stays_while_a_listed_transaction_is_not_served() {
    let paying = PayingStack::start_options(
        "interactive-lag",
        StackOptions {
            lying_rpc: true,
            rpc_endpoints: 2,
            ..StackOptions::default()
        },
    )
    .await;
    let signer = &paying.signer;
    let recipient = fresh_address();
    let (device, view) = waiting_session(&paying).await;
    let waiting = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, 6 * USDC, "a"))
        .await
        .unwrap();
    assert_eq!(waiting.status, PaymentStatus::RequiresSignature);
    for endpoint in &paying.stack.rpc_proxies {
        endpoint.set(RpcLie::Lag);
    }
    let copy = device
        .sign_reviewed(&device.review(&waiting).unwrap())
        .unwrap();
    paying.rpc().send(&copy).unwrap();
    assert_eq!(paying.usdc_of(&recipient), 6 * USDC);
    paying.rpc().expire_blockhash().unwrap();

    // Tracking rounds come every 2 s: through several, the reservation holds.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        let now = signer.payment(&waiting.payment_id).await.unwrap();
        assert_eq!(now.status, PaymentStatus::RequiresSignature, "{now:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(paying.stack.rpc_proxies.iter().all(|e| e.lies() > 0));
    for endpoint in &paying.stack.rpc_proxies {
        endpoint.set(RpcLie::Honest);
    }
    paying
        .wait_status(
            &waiting.payment_id,
            PaymentStatus::Expired,
            Duration::from_secs(60),
        )
        .await;
    let session = &signer.sessions(Some(&view.id)).await.unwrap()[0];
    assert_eq!(session.spent.day, 6 * USDC, "the copy counts: {session:?}");
}
