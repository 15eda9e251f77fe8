#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! x402 payments within the intent, through the whole stack: the signer builds the `exact`
//! transaction, x402's own facilitator code (`@x402/svm`, under Node) verifies it against the
//! devnet and rejects it when one byte changes, settles it once, and the enclave follows it to
//! the chain by the payer's signature; what it cannot pay is refused with a code and changes
//! nothing; a payment nobody settles is released when its blockhash expires. Each check reads
//! the chain, not the enclave's own view.

use std::time::{Duration, Instant};

use aip_client::device::SessionKey;
use aip_tests::lying_rpc::RpcLie;
use aip_tests::payments::{fresh_address, limits, PayingStack, USDC};
use aip_tests::service::{StackOptions, DEVNET_USDC_MINT};
use aip_tests::x402::{Facilitator, ResourceServer, NETWORK, X402_CONFIG};
use aip_wire::payments::{PaymentStatus, SessionKeyView, X402Pay};
use base64::Engine as _;
use serde_json::{json, Value};
use solana_address::Address;

async fn x402_stack(name: &str) -> PayingStack {
    PayingStack::start_options(
        name,
        StackOptions {
            solana_config: X402_CONFIG,
            // Honest until a test says otherwise.
            lying_rpc: true,
            ..StackOptions::default()
        },
    )
    .await
}

/// A 402 answer asking `amount` of USDC for `pay_to`, fees paid by `fee_payer`.
fn payment_required(pay_to: &Address, fee_payer: &Address, amount: u64) -> Value {
    json!({
        "x402Version": 2,
        "error": "PAYMENT-SIGNATURE header is required",
        "resource": {"url": "https://api.example/weather", "description": "Weather", "mimeType": "application/json"},
        "accepts": [{
            "scheme": "exact",
            "network": NETWORK,
            "amount": amount.to_string(),
            "asset": DEVNET_USDC_MINT,
            "payTo": pay_to.to_string(),
            "maxTimeoutSeconds": 60,
            "extra": {"feePayer": fee_payer.to_string()},
        }],
    })
}

fn pay(view: &SessionKeyView, agent: &str, required: &Value, key: &str) -> X402Pay {
    X402Pay {
        agent_id: agent.to_owned(),
        session_key_id: view.id.clone(),
        payment_required: required.clone(),
        idempotency_key: key.to_owned(),
    }
}

/// The payload with one byte of its transaction changed at `index` (from the end).
fn with_byte_changed(payload: &Value, from_end: usize) -> Value {
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(payload["payload"]["transaction"].as_str().unwrap())
        .unwrap();
    let at = bytes.len() - from_end;
    bytes[at] ^= 0x01;
    let mut changed = payload.clone();
    changed["payload"]["transaction"] =
        json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    changed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x402_payment_passes_x402s_own_verifier_and_settles_once_within_the_intent() {
    let paying = x402_stack("x402-pay").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(15 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let wallet: Address = view.public_key.parse().unwrap();
    let merchant = fresh_address();
    // The merchant's token account exists (an x402 payment creates none).
    paying.rpc().usdc_airdrop(&merchant, 1).unwrap();
    let facilitator = Facilitator::funded(&paying);
    let required = payment_required(&merchant, &facilitator.address, 2_500_000);
    let requirements = &required["accepts"][0];

    let answer = paying
        .signer
        .x402_pay(&pay(&view, "agent", &required, "weather-1"))
        .await
        .unwrap();
    assert_eq!(answer.status, PaymentStatus::Authorized, "{answer:?}");
    assert_eq!(answer.amount, 2_500_000);
    assert_eq!(answer.recipient, merchant.to_string());
    assert_eq!(answer.resource, "https://api.example/weather");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(&answer.payment_signature_header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header, answer.payment_payload,
        "the header carries the payload"
    );
    assert_eq!(
        &answer.payment_payload["accepted"], requirements,
        "echoed verbatim"
    );
    // Counted from the moment it is signed; nothing moved yet.
    assert_eq!(paying.spent_today(&view.id, "agent").await, 2_500_000);
    assert_eq!(paying.usdc_of(&merchant), 1);

    // x402's own verifier accepts it against the devnet (it simulates it there)...
    let verified = facilitator.verify(&answer.payment_payload, requirements);
    assert_eq!(verified["isValid"], json!(true), "{verified}");
    assert_eq!(verified["payer"], json!(wallet.to_string()));
    // ...and rejects it when one byte of the transaction changes: the memo's last byte, the
    // transfer's amount, or the payer's signature.
    let message_len = {
        let wire = base64::engine::general_purpose::STANDARD
            .decode(
                answer.payment_payload["payload"]["transaction"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        wire.len()
    };
    for (what, from_end) in [
        ("memo", 1),
        ("amount", 32 + 2 + 10),
        ("signature", message_len - 70),
    ] {
        let changed = with_byte_changed(&answer.payment_payload, from_end);
        let rejected = facilitator.verify(&changed, requirements);
        assert_eq!(rejected["isValid"], json!(false), "{what}: {rejected}");
    }
    // The same request again: the same payment, not a second one.
    let again = paying
        .signer
        .x402_pay(&pay(&view, "agent", &required, "weather-1"))
        .await
        .unwrap();
    assert_eq!(again.payer_signature, answer.payer_signature);
    assert_eq!(paying.spent_today(&view.id, "agent").await, 2_500_000);

    // Before it is settled, one endpoint serves the wallet's earlier transactions (its
    // funding) with the payer's signature added: tracking would take one of them for the
    // payment's landing. A served signature must verify over its message, so none is
    // believed; the payment stays authorized through several tracking rounds.
    let liar = paying.stack.rpc_proxies[1].clone();
    liar.set(RpcLie::tag(&answer.payer_signature));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let tracked = paying.signer.payment(&answer.payment_id).await.unwrap();
        assert_eq!(tracked.status, PaymentStatus::Authorized, "{tracked:?}");
        if liar.lies() >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "tracking never read the history");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    liar.set(RpcLie::Honest);

    // x402's facilitator settles it: the merchant is paid once, on chain.
    let settled = facilitator.settle(&answer.payment_payload, requirements);
    assert_eq!(settled["success"], json!(true), "{settled}");
    let landed_id = settled["transaction"].as_str().unwrap().to_owned();
    assert_eq!(paying.usdc_of(&merchant), 1 + 2_500_000);
    let landed = paying
        .rpc()
        .transaction(&landed_id)
        .unwrap()
        .expect("landed");
    assert!(
        aip_enclave::solana::Transaction::from_bytes(&landed)
            .unwrap()
            .signatures
            .iter()
            .any(|s| bs58::encode(s).into_string() == answer.payer_signature),
        "the landed transaction carries the payer's signature"
    );
    // The enclave finds it on chain by the payer's signature.
    paying
        .wait_status(
            &answer.payment_id,
            PaymentStatus::Confirmed,
            Duration::from_secs(90),
        )
        .await;
    // Settling the same payload again (a facilitator without its duplicate cache, as the spec
    // warns) reports the same transaction: the cluster ran it once, nothing more moved.
    let twice = facilitator.settle(&answer.payment_payload, requirements);
    if twice["success"] == json!(true) {
        assert_eq!(twice["transaction"], json!(landed_id), "{twice}");
    }
    assert_eq!(paying.usdc_of(&merchant), 1 + 2_500_000);
    // Counted once, also after the chain reconciliation has read the wallet's history, in
    // which the payment stands under the facilitator's signature: a restarted enclave reads it
    // from its cursor before it pays again.
    let mut paying = paying;
    paying.stack.stop_host();
    paying.stack.start_host();
    paying.reconnect().await;
    let after = paying
        .pay_when_ready(&aip_tests::payments::payment(
            &view,
            "agent",
            &merchant,
            USDC,
            "after-restart",
        ))
        .await;
    assert_eq!(after.status, PaymentStatus::Confirmed, "{after:?}");
    assert_eq!(
        paying.spent_today(&view.id, "agent").await,
        2_500_000 + USDC
    );

    // The ledger names the resource the payment was for.
    let signed: Vec<Value> = paying
        .ledger_bodies("payment_signed")
        .await
        .into_iter()
        .filter(|body| body["payment_id"] == json!(answer.payment_id))
        .collect();
    assert_eq!(signed.len(), 1, "{signed:?}");
    assert_eq!(signed[0]["fee_payer"], "facilitator");
    assert_eq!(signed[0]["x402"]["resource"], "https://api.example/weather");
    assert_eq!(
        signed[0]["x402"]["fee_payer"],
        facilitator.address.to_string()
    );
    assert_eq!(signed[0]["signature"], answer.payer_signature);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_x402_asks_outside_the_intent_is_refused_and_an_unsettled_payment_is_released() {
    let paying = x402_stack("x402-refusals").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(15 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let wallet: Address = view.public_key.parse().unwrap();
    let merchant = fresh_address();
    paying.rpc().usdc_airdrop(&merchant, 1).unwrap();
    let facilitator = Facilitator::funded(&paying);
    let good = payment_required(&merchant, &facilitator.address, USDC);
    let change = |edit: &dyn Fn(&mut Value)| {
        let mut required = good.clone();
        edit(&mut required);
        required
    };
    let rows: Vec<(&str, Value, &str)> = vec![
        (
            "x402 version 1",
            change(&|r| r["x402Version"] = json!(1)),
            "x402_version_unsupported",
        ),
        (
            "another scheme",
            change(&|r| r["accepts"][0]["scheme"] = json!("upto")),
            "x402_scheme_unsupported",
        ),
        (
            "mainnet",
            change(&|r| {
                r["accepts"][0]["network"] = json!("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")
            }),
            "x402_network_unsupported",
        ),
        (
            "another mint",
            change(&|r| r["accepts"][0]["asset"] = json!(fresh_address().to_string())),
            "x402_asset_not_allowed",
        ),
        (
            "the payer as fee payer",
            change(&|r| r["accepts"][0]["extra"]["feePayer"] = json!(wallet.to_string())),
            "x402_requirements_invalid",
        ),
        (
            "an unknown extra",
            change(&|r| r["accepts"][0]["extra"]["refundTo"] = json!("x")),
            "x402_requirements_invalid",
        ),
        (
            "over the per-payment cap",
            change(&|r| r["accepts"][0]["amount"] = json!((11 * USDC).to_string())),
            "policy_denied",
        ),
        (
            "not a 402 document",
            json!({"accepts": "everything"}),
            "bad_request",
        ),
    ];
    for (n, (what, required, code)) in rows.into_iter().enumerate() {
        let refused = paying
            .signer
            .x402_pay(&pay(&view, "agent", &required, &format!("refused-{n}")))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some(code), "{what}: {refused}");
    }
    // An agent without a session, and a key without autonomy.
    let refused = paying
        .signer
        .x402_pay(&pay(&view, "stranger", &good, "no-session"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("not_found"), "{refused}");
    let (_, interactive) = paying
        .session_key(limits(10 * USDC, Some(15 * USDC)), 100 * USDC)
        .await;
    paying
        .session(
            &interactive,
            "agent",
            limits(10 * USDC, Some(15 * USDC)),
            aip_wire::payments::FeeMode::Session,
        )
        .await;
    let refused = paying
        .signer
        .x402_pay(&pay(&interactive, "agent", &good, "device-only"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("x402_needs_autonomy"), "{refused}");
    // Nothing was reserved by any refusal, and nothing moved.
    assert_eq!(paying.spent_today(&view.id, "agent").await, 0);
    assert_eq!(paying.spent_today(&interactive.id, "agent").await, 0);
    assert_eq!(paying.usdc_of(&merchant), 1);

    // A payment that no facilitator settles counts until its blockhash expires, then is
    // released: the chain shows it never landed.
    let answer = paying
        .signer
        .x402_pay(&pay(&view, "agent", &good, "abandoned"))
        .await
        .unwrap();
    assert_eq!(answer.status, PaymentStatus::Authorized);
    assert_eq!(paying.spent_today(&view.id, "agent").await, USDC);
    paying.rpc().expire_blockhash().unwrap();
    paying
        .wait_status(
            &answer.payment_id,
            PaymentStatus::Expired,
            Duration::from_secs(90),
        )
        .await;
    assert_eq!(paying.spent_today(&view.id, "agent").await, 0);
    // Too late for the facilitator: its settlement fails and nothing moves.
    let late = facilitator.settle(&answer.payment_payload, &good["accepts"][0]);
    assert_eq!(late["success"], json!(false), "{late}");
    assert_eq!(paying.usdc_of(&merchant), 1);
}

/// `aipctl x402 pay --url`: the resource answers 402, the signer pays within the intent, the
/// resource (x402's facilitator behind it) is fetched again with the payment and answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aipctl_pays_a_402_resource_through_the_signer_and_never_twice() {
    let paying = x402_stack("x402-aipctl").await;
    let dir = paying.stack.dir.clone();
    let (cert, key) = paying.stack.client_pem();
    std::fs::write(dir.join("client.pem"), cert).unwrap();
    std::fs::write(dir.join("client.key"), key).unwrap();
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(15 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let merchant = fresh_address();
    paying.rpc().usdc_airdrop(&merchant, 1).unwrap();
    let resource = ResourceServer::start(&paying, &merchant, 1_500_000, r#"{"forecast":"sunny"}"#);
    let greedy =
        ResourceServer::start(&paying, &merchant, 50 * USDC, r#"{"forecast":"priceless"}"#);
    let aipctl = |url: String, key: &'static str| {
        let stack = &paying.stack;
        let mut command = std::process::Command::new(&stack.binaries.aipctl);
        command
            .args(["x402", "pay", "--url", &url, "--session-key", &view.id])
            .args(["--agent", "agent", "--idempotency-key", key, "--json"])
            .env("AIP_URL", format!("tcp:{}", stack.public))
            .env("AIP_PIN", hex::encode(paying.pin))
            .env("AIP_CLIENT_DIR", &stack.dir)
            .env("AIP_API_KEY", &paying.api_key);
        tokio::task::spawn_blocking(move || command.output().expect("run aipctl"))
    };

    let out = aipctl(resource.url.clone(), "forecast-1").await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["paid"], json!(true), "{printed}");
    assert_eq!(printed["status"], json!(200));
    assert_eq!(printed["body"], json!(r#"{"forecast":"sunny"}"#));
    assert_eq!(printed["payment"]["amount"], json!(1_500_000));
    assert_eq!(printed["settlement"]["success"], json!(true), "{printed}");
    assert_eq!(paying.usdc_of(&merchant), 1 + 1_500_000, "paid on chain");

    // The same idempotency key again: the signer hands back the same payment, which the
    // resource's facilitator refuses to settle a second time (x402's duplicate_settlement).
    let out = aipctl(resource.url.clone(), "forecast-1").await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("duplicate_settlement"), "{stderr}");
    assert_eq!(paying.usdc_of(&merchant), 1 + 1_500_000, "not paid twice");
    assert_eq!(
        paying.spent_today(&view.id, "agent").await,
        1_500_000,
        "counted once"
    );

    // A resource asking more than the intent allows: refused by the signer, nothing moves.
    let out = aipctl(greedy.url.clone(), "greedy-1").await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("policy_denied"), "{stderr}");
    assert_eq!(paying.usdc_of(&merchant), 1 + 1_500_000);
    assert_eq!(paying.spent_today(&view.id, "agent").await, 1_500_000);
}
