#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The host as the attacker (docs/threat-model.md): the real binaries (Lit devnet, Solana
//! devnet, aip-host, aip-enclave) with a hostile host on the enclave's control channel
//! (`aip_tests::hostile`) or with root on the host's store. Each test plays one capability
//! and checks that it gains nothing: on the chain where money is involved, in the host's own
//! store where secrets are.

use std::time::{Duration, Instant};

use aip_client::device::SessionKey;
use aip_client::signer::Signer;
use aip_enclave::state::sealed::{open, StateKey};
use aip_host::store::BlobStore;
use aip_tests::lying_rpc::RpcLie;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::service::{Stack, StackOptions};
use aip_tests::unix_now;
use aip_wire::payments::PaymentStatus;

const UP: Duration = Duration::from_secs(90);

fn hostile() -> StackOptions {
    StackOptions {
        hostile: true,
        ..StackOptions::default()
    }
}

/// A paying stack started with `options` and one autonomous session key for "agent": 50 USDC
/// a payment, 100 a day, 1000 in its wallet, 500 of autonomy.
async fn paying_agent(
    name: &str,
    options: StackOptions,
) -> (PayingStack, SessionKey, aip_wire::payments::SessionKeyView) {
    let paying = PayingStack::start_options(name, options).await;
    let (device, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(50 * USDC, Some(100 * USDC)),
            1000 * USDC,
            500 * USDC,
            "agent",
        )
        .await;
    (paying, device, view)
}

/// A client of `stack` with `api_key` (or none), pinned to `pin`.
fn client(stack: &Stack, pin: [u8; 32], api_key: Option<&str>) -> Signer {
    let (cert, key) = stack.client_pem();
    Signer::new(stack.endpoint(), pin, cert, key, api_key.map(str::to_owned)).unwrap()
}

/// `POST /v1/agent-keys` for a full key: the status and, on success, the key.
async fn create_key(signer: &Signer, label: &str) -> (u16, Option<String>) {
    let body = format!(r#"{{"label":"{label}","scopes":["full"]}}"#);
    let response = signer
        .raw("POST", "/v1/agent-keys", Some(body.into_bytes()))
        .await
        .unwrap();
    let key = (response.status == 201).then(|| response.json()["key"].as_str().unwrap().to_owned());
    (response.status, key)
}

/// The ledger's entries from `from` on, as the enclave exports them.
async fn ledger_from(signer: &Signer, from: u64) -> Vec<serde_json::Value> {
    let export = signer
        .raw("GET", &format!("/v1/ledger?from={from}"), None)
        .await
        .unwrap()
        .json();
    export["entries"].as_array().unwrap().clone()
}

/// The host plants, before the enclave's first boot, a Lit ciphertext of a state key it knows
/// where earlier builds kept the state key. Lit encryption is public-key, so anyone can make
/// one. The enclave must not seal anything with that key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_state_key_ciphertext_gains_nothing() {
    let mut stack = Stack::start("planted-key", StackOptions::default());
    stack.wait_attested(UP).await;
    stack.stop_host();
    // A fresh store with the planted ciphertext in it.
    let store_path = stack.dir.join("store.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", store_path.display()));
    }
    let lit = stack.lit.as_ref().unwrap();
    let conditions = aip_lit::conditions::attested_release(
        lit.attested_release["actionCid"].as_str().unwrap(),
        &stack.allowed_sets_sha256,
    );
    let known = StateKey::from_bytes(&[0x42; 32]).unwrap();
    let network_key = aip_lit::NetworkKey::from_hex(&lit.network_public_key).unwrap();
    let planted = aip_lit::encrypt_for(&network_key, &conditions, known.expose()).unwrap();
    {
        let mut store = BlobStore::open(&store_path).unwrap();
        let record = serde_json::json!({
            "ciphertext": planted.ciphertext,
            "data_to_encrypt_hash": planted.data_to_encrypt_hash,
            "conditions_hash": conditions.hash_hex(),
        });
        store
            .put(
                aip_enclave::state::state_key::LEGACY_STATE_KEY_RECORD,
                None,
                1,
                &serde_json::to_vec(&record).unwrap(),
            )
            .unwrap();
    }
    stack.start_host();
    let pin = stack.wait_attested(UP).await;
    let (status, _) = create_key(&client(&stack, pin, Some(&stack.root_api_key)), "op").await;
    assert_eq!(status, 201);
    stack.stop_host();

    // Every sealed record the enclave wrote: none opens with the planted key.
    let store = BlobStore::open(&store_path).unwrap();
    let mut sealed = 0;
    for prefix in ["keys/", "ledger/"] {
        for entry in store.list(prefix).unwrap() {
            let (version, data) = store.get(&entry.key).unwrap().unwrap();
            assert!(
                open(&known, &entry.key, version, &data).is_err(),
                "{} opens with the key the host planted",
                entry.key
            );
            sealed += 1;
        }
    }
    assert!(
        sealed >= 3,
        "the enclave sealed its records ({sealed}): key, ledger entries, head"
    );
}

/// The host stores a ledger write durably and drops the reply. The enclave must read the
/// record back, see its own write, and go on: no stale version wedging every later write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_write_reply_does_not_wedge_the_enclave() {
    let stack = Stack::start("dropped-reply", hostile());
    let pin = stack.wait_attested(UP).await;
    let root = client(&stack, pin, Some(&stack.root_api_key));
    let hostile = stack.hostile.clone().unwrap();
    let seq_before = {
        let (status, _) = create_key(&root, "first").await;
        assert_eq!(status, 201);
        root.head().unwrap().seq
    };
    for prefix in ["ledger/entry/", "ledger/head", "keys/"] {
        hostile.mischief(|m| m.drop_write_replies = Some((prefix.to_owned(), 1)));
        let (status, key) = create_key(&root, prefix).await;
        assert_eq!(status, 201, "reply to a {prefix} write dropped");
        // The key that was answered works (its record is durable).
        let (status, _) = create_key(&client(&stack, pin, key.as_deref()), "by-new").await;
        assert_eq!(status, 201, "after a dropped {prefix} reply");
    }
    assert_eq!(hostile.acted().replies_dropped, 3);
    // The ledger is whole: every entry once, chained, two per round.
    let entries = ledger_from(&root, 1).await;
    assert_eq!(entries.len() as u64, seq_before + 6);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["seq"], i as u64 + 1);
    }
    assert!(stack.log_shows(
        "the answer to a store write was lost",
        Duration::from_secs(5)
    ));
}

/// The host fails a write of a busy session key's record (as a full disk would) while eight
/// payments of it are in flight: the enclave writes a key's record once for the changes made
/// while its previous write was under way (`payments/registry.rs`), so one failed write may
/// fail several payments. Each of those is refused `unavailable` with nothing reserved and
/// nothing signed, the others pay, the enclave's totals stay equal to what the chain moved,
/// a retry of each refused payment pays it once, and the daily cap holds on chain to the
/// cent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_account_write_fails_the_payments_it_held_and_changes_nothing() {
    let paying = PayingStack::start_options("hostile-failed-write", hostile()).await;
    let hostile = paying.stack.hostile.clone().unwrap();
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(USDC, Some(10 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let recipient = fresh_address();
    let spent = || async {
        paying.signer.sessions(Some(&view.id)).await.unwrap()[0]
            .spent
            .day
    };
    // Idle now: the next write of the key's record is a payment's reservation.
    hostile.mischief(|m| m.fail_writes = Some(("session-keys/".into(), 1)));
    let burst = |keys: Vec<String>| {
        let mut tasks = tokio::task::JoinSet::new();
        for key in keys {
            let signer = paying.signer.clone();
            let request = payment(&view, "agent", &recipient, USDC, &key);
            tasks.spawn(async move { (key, signer.smart_payment(&request).await) });
        }
        tasks
    };
    let mut tasks = burst((0..8).map(|i| format!("p{i}")).collect());
    let (mut paid, mut refused) = (0, Vec::new());
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap() {
            (_, Ok(answer)) => {
                assert_eq!(answer.status, PaymentStatus::Confirmed, "{answer:?}");
                paid += 1;
            }
            (key, Err(error)) => {
                assert_eq!(error.code(), Some("unavailable"), "{error}");
                refused.push(key);
            }
        }
    }
    assert_eq!(hostile.acted().writes_failed, 1);
    assert!(!refused.is_empty(), "the failed write held a payment");
    assert_eq!(paid + refused.len(), 8);
    assert_eq!(paying.usdc_of(&recipient), paid as u64 * USDC);
    assert_eq!(
        spent().await,
        paid as u64 * USDC,
        "nothing of the failed write counts"
    );
    // Each refused payment, retried, pays once.
    let mut tasks = burst(refused);
    while let Some(joined) = tasks.join_next().await {
        let (key, answer) = joined.unwrap();
        let answer = answer.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(answer.status, PaymentStatus::Confirmed, "{answer:?}");
    }
    assert_eq!(paying.usdc_of(&recipient), 8 * USDC);
    assert_eq!(spent().await, 8 * USDC);
    // Three more: the cap of ten holds on chain.
    let mut tasks = burst((8..11).map(|i| format!("p{i}")).collect());
    let mut capped = 0;
    while let Some(joined) = tasks.join_next().await {
        if let (_, Err(error)) = joined.unwrap() {
            assert_eq!(error.code(), Some("policy_denied"), "{error}");
            capped += 1;
        }
    }
    assert_eq!(capped, 1);
    assert_eq!(paying.usdc_of(&recipient), 10 * USDC);
    assert_eq!(spent().await, 10 * USDC);
}

/// The host hides every key record from a booting enclave. Earlier builds then let any
/// operator-certificate holder mint a `full` key; now there is no bootstrap request at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_key_records_at_boot_mint_nothing() {
    let mut stack = Stack::start("hidden-keys", hostile());
    let pin = stack.wait_attested(UP).await;
    let (status, made) = create_key(&client(&stack, pin, Some(&stack.root_api_key)), "op").await;
    assert_eq!(status, 201);
    let made = made.unwrap();

    stack.stop_host();
    let hostile = stack.hostile.clone().unwrap();
    hostile.mischief(|m| m.hide_prefixes = vec!["keys/".to_owned()]);
    stack.start_host();
    let pin = stack.wait_attested(UP).await;
    assert!(hostile.acted().hidden > 0, "the records were hidden");

    // A certificate holder without a key: refused, nothing recorded.
    let bare = client(&stack, pin, None);
    let (status, _) = create_key(&bare, "mint").await;
    assert_eq!(status, 401);
    // The hidden key is unknown to this boot (denial of service only)...
    let (status, _) = create_key(&client(&stack, pin, Some(&made)), "x").await;
    assert_eq!(status, 401);
    // ... and the root key the operator already held still works, as it always did.
    let root = client(&stack, pin, Some(&stack.root_api_key));
    let (status, _) = create_key(&root, "again").await;
    assert_eq!(status, 201);
    let created: Vec<_> = ledger_from(&root, 1)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "api_key_created")
        .collect();
    assert_eq!(created.len(), 2, "only the two root-authorized keys exist");
}

/// The host answers every time request two days ahead, from before the first payment. A day's
/// cap must still hold, and the enclave's clock stay within seconds of the chain's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_hints_far_ahead_do_not_reset_the_daily_cap() {
    let paying = PayingStack::start_options("hostile-time", hostile()).await;
    let hostile = paying.stack.hostile.clone().unwrap();
    hostile.mischief(|m| m.time_ahead_ms = 2 * 86_400 * 1000);
    let recipient = fresh_address();
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(20 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    for i in 0..2 {
        let paid = paying
            .signer
            .smart_payment(&payment(
                &view,
                "agent",
                &recipient,
                10 * USDC,
                &format!("p{i}"),
            ))
            .await
            .unwrap();
        assert_eq!(paid.status, PaymentStatus::Confirmed);
    }
    // Several rounds of hints (the enclave asks every 2 s).
    let waited = Instant::now();
    while hostile.acted().times_forged < 4 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no time requests"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let over = paying
        .signer
        .smart_payment(&payment(&view, "agent", &recipient, 10 * USDC, "p2"))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Some("policy_denied"), "{over}");
    assert!(over.to_string().contains("daily_cap"), "{over}");
    assert_eq!(
        paying.usdc_of(&recipient),
        20 * USDC,
        "the chain shows the cap"
    );

    // The enclave's clock, as its newest ledger entry shows it.
    let (status, _) = create_key(&paying.signer, "clock-probe").await;
    assert_eq!(status, 201);
    let seq = paying.signer.head().unwrap().seq;
    let newest = ledger_from(&paying.signer, seq).await;
    let at_ms = newest[0]["at_ms"].as_u64().unwrap() as i64;
    let skew = at_ms - unix_now() * 1000;
    assert!(
        skew.abs() < 15_000,
        "the enclave's clock is {skew} ms off real time"
    );
}

/// One of the two RPC endpoints (quorum 2 of 2) hides the session wallet's history while the
/// host hands the enclave a store from before 80 USDC of payments, and dust deposits push the
/// payments past the first pages of history. The honest endpoint's answer counts: usage is
/// reconciled to 80 and the day's cap of 100 holds on the chain. With every endpoint down,
/// payments stop (nothing lands) instead of going on blind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_rpc_endpoint_cannot_hide_debits_and_none_stops_payments() {
    let (mut paying, _, view) = paying_agent(
        "lying-rpc",
        StackOptions {
            lying_rpc: true,
            history_page_size: 2,
            ..StackOptions::default()
        },
    )
    .await;
    let wallet: solana_address::Address = view.public_key.parse().unwrap();
    paying.stack.stop_host();
    let snapshot = paying.stack.dir.join("before-payments.db");
    paying.stack.snapshot_store(&snapshot);
    paying.stack.start_host();
    paying.reconnect().await;

    let recipient = fresh_address();
    for i in 0..2 {
        let paid = paying
            .pay_when_ready(&payment(
                &view,
                "agent",
                &recipient,
                40 * USDC,
                &format!("before-{i}"),
            ))
            .await;
        assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    }
    // Dust: newer history than the payments, more than a page of it.
    for dust in 1..=5 {
        paying.rpc().usdc_airdrop(&wallet, dust).unwrap();
    }
    let liar = paying.stack.rpc_proxies[1].clone();
    liar.set(RpcLie::HideHistory);

    paying.stack.stop_host();
    paying.stack.restore_store(&snapshot);
    paying.stack.start_host();
    paying.reconnect_with(false).await;
    paying.wait_spent_today(&view.id, 80 * USDC).await;
    assert!(liar.lies() > 0, "the endpoint did lie");
    let over = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, 30 * USDC, "after-1"))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Some("policy_denied"), "{over}");
    assert_eq!(paying.usdc_of(&recipient), 80 * USDC);

    // "Landed" needs the quorum: with one endpoint saying every transaction is unknown, a
    // payment that did land stays submitted (and counted), never confirmed on one word.
    let unconfirmed = paying
        .pay_when_ready(&payment(
            &view,
            "agent",
            &recipient,
            10 * USDC,
            "while-lying",
        ))
        .await;
    assert_eq!(
        unconfirmed.status,
        PaymentStatus::Submitted,
        "{unconfirmed:?}"
    );
    assert_eq!(paying.usdc_of(&recipient), 90 * USDC, "it did land");

    // "Failed" needs every landed report: with one endpoint saying every transaction failed,
    // a payment that landed clean is not reported failed (a backend might pay again), nor
    // confirmed; it stays submitted and counted.
    liar.set(RpcLie::ReportFailed);
    let said_failed = paying
        .pay_when_ready(&payment(
            &view,
            "agent",
            &recipient,
            5 * USDC,
            "said-failed",
        ))
        .await;
    assert_eq!(
        said_failed.status,
        PaymentStatus::Submitted,
        "{said_failed:?}"
    );
    let lies = liar.lies();
    let deadline = Instant::now() + Duration::from_secs(30);
    while liar.lies() < lies + 2 {
        assert!(
            Instant::now() < deadline,
            "the status was never asked again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let tracked = paying
        .signer
        .payment(&said_failed.payment_id)
        .await
        .unwrap();
    assert_eq!(tracked.status, PaymentStatus::Submitted, "{tracked:?}");
    assert_eq!(paying.usdc_of(&recipient), 95 * USDC, "it did land");

    // Every endpoint down or blocked, or answered by the host's own server (TLS under a CA
    // the enclave does not trust): nothing is signed blind.
    for (lie, cause) in [
        (RpcLie::Down, "an RPC endpoint failed"),
        (RpcLie::Impostor, "invalid peer certificate"),
    ] {
        for proxy in &paying.stack.rpc_proxies {
            proxy.set(lie);
        }
        let blind = paying
            .signer
            .smart_payment(&payment(
                &view,
                "agent",
                &recipient,
                5 * USDC,
                &format!("blind-{lie:?}"),
            ))
            .await
            .unwrap_err();
        assert_eq!(blind.code(), Some("chain_unavailable"), "{lie:?}: {blind}");
        assert_eq!(
            paying.usdc_of(&recipient),
            95 * USDC,
            "{lie:?}: nothing landed"
        );
        assert!(
            paying.stack.log_shows(cause, Duration::from_secs(5)),
            "{lie:?}: the cause is logged"
        );
    }

    // Honest again: the one said to have failed is confirmed, the cap's last 5 pays, and
    // that is all.
    for proxy in &paying.stack.rpc_proxies {
        proxy.set(RpcLie::Honest);
    }
    let last = paying
        .pay_when_ready(&payment(&view, "agent", &recipient, 5 * USDC, "after-2"))
        .await;
    assert_eq!(last.status, PaymentStatus::Confirmed, "{last:?}");
    // Confirmed once all agree.
    paying
        .wait_status(
            &said_failed.payment_id,
            PaymentStatus::Confirmed,
            Duration::from_secs(30),
        )
        .await;
    let beyond = paying
        .signer
        .smart_payment(&payment(&view, "agent", &recipient, USDC, "after-3"))
        .await
        .unwrap_err();
    assert_eq!(beyond.code(), Some("policy_denied"), "{beyond}");
    assert_eq!(
        paying.usdc_of(&recipient),
        100 * USDC,
        "the cap held on chain"
    );
}

/// The host rewrites the enclave's configuration (on SEV-SNP it writes it; here it swaps the
/// operator CA for its own and the RPC endpoints for its own). The configuration's digest is
/// bound in the evidence and the policy pins its identity: the Lit nodes refuse the release,
/// the enclave never obtains its state key and never serves, and the log says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_configuration_gets_no_state_key() {
    let mut stack = Stack::start("rewritten-config", StackOptions::default());
    stack.wait_attested(UP).await;
    stack.stop_host();
    let path = stack.dir.join("enclave.toml");
    let honest = std::fs::read_to_string(&path).unwrap();
    let hosts_ca = aip_client::tls::OperatorCa::generate("the host's own CA").unwrap();
    let rewritten = honest.replacen(
        stack.operator.certificate_pem().trim(),
        hosts_ca.certificate_pem().trim(),
        1,
    );
    assert_ne!(rewritten, honest);
    std::fs::write(&path, rewritten).unwrap();
    stack.start_host();
    let deadline = Instant::now() + UP;
    let log = loop {
        let log = stack.host_log();
        if log.contains("boot failed; not serving") && log.contains("\"stage\":\"state_key\"") {
            break log;
        }
        assert!(
            Instant::now() < deadline,
            "the enclave did not stop:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // The nodes ran the attested-release action, which said no (Lit's nodes give no more
    // reason than the condition's result; the action refuses the configuration pin).
    assert!(
        log.contains("the Lit Action returned") && log.contains("false"),
        "the refusal names the condition:\n{log}"
    );
    // Nothing serves: the attested fetch finds no enclave.
    let verifier = aip_attestation::Verifier::new()
        .unwrap()
        .trust_dev_root(stack.dev_root_pem.as_bytes())
        .unwrap();
    let fetched = aip_attestation::fetch::fetch(
        &stack.endpoint(),
        Some(stack.client_pem()),
        &verifier,
        None,
        unix_now() as u64,
    )
    .await;
    assert!(fetched.is_err());
}

/// One of three RPC endpoints (quorum two) serves every transaction with a signature the
/// signer knows added to it (one of its own payments'), so that the device's transfer made
/// outside the signer would read as that payment and reconciliation would skip it. Every
/// signature served must verify over its message, so that endpoint's answers are discarded;
/// the honest two count the transfer before a restarted enclave pays again, and the day's cap
/// of 100 holds on chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debit_dressed_as_a_known_payment_by_one_endpoint_still_counts() {
    let (mut paying, device, view, recipient, paid) =
        forty_paid_behind_three_endpoints("tagging-rpc").await;
    let liar = paying.stack.rpc_proxies[2].clone();
    liar.set(RpcLie::tag(paid.signature.as_deref().unwrap()));
    let outside = thirty_paid_outside_across_a_restart(&mut paying, &device, &recipient).await;
    the_outside_transfer_counts(&paying, &view, &recipient, &outside).await;
    // Asked once the transfer is counted: the restarted enclave's reconciliation, which read
    // the liar's answers, may still be running when the stack answers again.
    assert!(liar.lies() > 0, "the endpoint did lie");
}

/// Three RPC endpoints (quorum two) behind lying proxies, and an autonomous agent (50 a
/// payment, 100 a day) that has paid 40 through the signer: the start of the tests where the
/// device then pays outside the signer. The stack, the device, its key, the recipient and the
/// payment.
async fn forty_paid_behind_three_endpoints(
    name: &str,
) -> (
    PayingStack,
    SessionKey,
    aip_wire::payments::SessionKeyView,
    solana_address::Address,
    aip_wire::payments::PaymentAnswer,
) {
    let (paying, device, view) = paying_agent(
        name,
        StackOptions {
            lying_rpc: true,
            rpc_endpoints: 3,
            ..StackOptions::default()
        },
    )
    .await;
    let recipient = fresh_address();
    let paid = paying
        .pay_when_ready(&payment(&view, "agent", &recipient, 40 * USDC, "signed"))
        .await;
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    (paying, device, view, recipient, paid)
}

/// While the host (and with it the enclave) is down, the device pays 30 to `recipient` on its
/// own; then the stack comes back. The transfer's signature.
async fn thirty_paid_outside_across_a_restart(
    paying: &mut PayingStack,
    device: &SessionKey,
    recipient: &solana_address::Address,
) -> String {
    paying.stack.stop_host();
    let outside = paying.pay_outside_the_signer(device, recipient, 30 * USDC);
    paying.stack.start_host();
    paying.reconnect().await;
    outside
}

/// After 40 paid through the signer and `outside` (30) paid by the device alone, against a
/// day's cap of 100: the enclave counts 70 and says so in the ledger, refuses 40 more, pays the
/// last 30, and the chain shows exactly the cap.
async fn the_outside_transfer_counts(
    paying: &PayingStack,
    view: &aip_wire::payments::SessionKeyView,
    recipient: &solana_address::Address,
    outside: &str,
) {
    paying.wait_spent_today(&view.id, 70 * USDC).await;
    let reconciled = paying.ledger_bodies("chain_reconciled").await;
    assert!(
        reconciled
            .iter()
            .any(|body| body["signatures"] == serde_json::json!([outside])),
        "{reconciled:?}"
    );
    let over = paying
        .smart_payment_when_ready(&payment(view, "agent", recipient, 40 * USDC, "over"))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Some("policy_denied"), "{over}");
    let last = paying
        .pay_when_ready(&payment(view, "agent", recipient, 30 * USDC, "last"))
        .await;
    assert_eq!(last.status, PaymentStatus::Confirmed, "{last:?}");
    assert_eq!(
        paying.usdc_of(recipient),
        100 * USDC,
        "the cap held on chain"
    );
}

/// Every endpoint (three, quorum two) lists the device's own transfer but none serves it yet
/// (their transaction stores lag): a restarted enclave must not open payments on usage that
/// misses it. It keeps payments closed until the transfer is served, then counts it: the cap
/// holds on chain. One endpoint inventing a signature nobody serves does not keep them closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_stay_closed_while_a_listed_debit_is_not_served() {
    let (mut paying, device, view, recipient, _) =
        forty_paid_behind_three_endpoints("lagging-rpc").await;
    for endpoint in &paying.stack.rpc_proxies {
        endpoint.set(RpcLie::Lag);
    }
    let outside = thirty_paid_outside_across_a_restart(&mut paying, &device, &recipient).await;
    // Without the transfer, 40 more would fit (40 + 40 of 100): the enclave must not pay yet.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        let early = paying
            .signer
            .smart_payment(&payment(&view, "agent", &recipient, 40 * USDC, "early"))
            .await
            .unwrap_err();
        assert_eq!(early.code(), Some("unavailable"), "{early}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        paying.stack.rpc_proxies.iter().all(|e| e.lies() > 0),
        "every endpoint withheld the transfer"
    );
    for endpoint in &paying.stack.rpc_proxies {
        endpoint.set(RpcLie::Honest);
    }
    the_outside_transfer_counts(&paying, &view, &recipient, &outside).await;

    // One endpoint alone listing a signature nobody serves holds nothing: after a restart,
    // payments open (the day's cap answers, not `unavailable`).
    let inventor = paying.stack.rpc_proxies[2].clone();
    inventor.set(RpcLie::Invent);
    paying.stack.stop_host();
    paying.stack.start_host();
    paying.reconnect().await;
    let answered = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, USDC, "after"))
        .await
        .unwrap_err();
    assert_eq!(answered.code(), Some("policy_denied"), "{answered}");
    assert!(inventor.lies() > 0, "the endpoint did invent");
}

/// The host rolls back one blob only: a session key's account record, to its sealed version
/// from before 80 USDC of payments, while the ledger stays current (so a backend that kept
/// the ledger head sees nothing wrong). Records cannot be relabelled (the version is in the
/// AAD), but an old record at its own old version opens. The chain reconciliation restores
/// the usage: the day's cap of 100 holds on chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_record_rolled_back_alone_is_reconciled_with_the_chain() {
    let (mut paying, _, view) = paying_agent("one-blob", StackOptions::default()).await;
    let record = format!("session-keys/{}", view.id);
    let store_path = paying.stack.dir.join("store.db");
    let (old_version, old_bytes) = BlobStore::open(&store_path)
        .unwrap()
        .get(&record)
        .unwrap()
        .unwrap();
    let recipient = fresh_address();
    for i in 0..2 {
        let paid = paying
            .pay_when_ready(&payment(
                &view,
                "agent",
                &recipient,
                40 * USDC,
                &format!("p{i}"),
            ))
            .await;
        assert_eq!(paid.status, PaymentStatus::Confirmed);
    }
    paying.stack.stop_host();
    let rolled = rusqlite::Connection::open(&store_path)
        .unwrap()
        .execute(
            "UPDATE blobs SET version = ?1, data = ?2 WHERE key = ?3",
            rusqlite::params![old_version as i64, old_bytes, record],
        )
        .unwrap();
    assert_eq!(rolled, 1);
    paying.stack.start_host();
    paying.reconnect().await;
    paying.wait_spent_today(&view.id, 80 * USDC).await;
    let over = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, 30 * USDC, "over"))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Some("policy_denied"), "{over}");
    let last = paying
        .pay_when_ready(&payment(&view, "agent", &recipient, 20 * USDC, "last"))
        .await;
    assert_eq!(last.status, PaymentStatus::Confirmed);
    assert_eq!(
        paying.usdc_of(&recipient),
        100 * USDC,
        "the cap held on chain"
    );
}
