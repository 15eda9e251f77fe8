#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! AIP-1 payments through the whole local stack as real processes: Lit devnet (attested
//! release) + Solana devnet (LiteSVM) + aip-host + aip-enclave, driven through the SDK over
//! mutual TLS. USDC must move on the devnet exactly when the intent allows, and never
//! otherwise.

use aip_client::device::SessionKey;
use aip_client::signer::SignerError;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::service::{host_metrics, metric};
use aip_wire::payments::{FeeMode, PaymentStatus, SubmitSigned};
use base64::Engine as _;
use solana_address::Address;

fn code(result: Result<aip_wire::payments::PaymentAnswer, SignerError>) -> String {
    match result {
        Ok(answer) => panic!("expected a refusal, got {answer:?}"),
        Err(error) => error.code().unwrap_or("(no code)").to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autonomous_interactive_gasless_and_denials() {
    let paying = PayingStack::start("pay").await;
    let signer = &paying.signer;
    let recipient = fresh_address();

    // Autonomous, gasless: the enclave releases the key through Lit, signs, submits.
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(100 * USDC)),
            1000 * USDC,
            500 * USDC,
            "agent-1",
        )
        .await;
    let wallet: Address = view.public_key.parse().unwrap();
    let wallet_sol = paying.rpc().balance(&wallet).unwrap();
    let payer_sol = paying.rpc().balance(&paying.fee_payer).unwrap();
    let paid = signer
        .smart_payment(&payment(&view, "agent-1", &recipient, 5 * USDC, "first"))
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    assert_eq!(paying.usdc_of(&recipient), 5 * USDC);
    assert_eq!(paying.usdc_of(&wallet), 995 * USDC);
    assert_eq!(
        paying.rpc().balance(&wallet).unwrap(),
        wallet_sol,
        "gasless: the session wallet pays no lamports"
    );
    assert!(
        paying.rpc().balance(&paying.fee_payer).unwrap() < payer_sol,
        "the service fee payer paid"
    );

    // The receipt is signed by the enclave's key (the one in its ledger export).
    let export = signer
        .raw("GET", "/v1/ledger?from=1&limit=1", None)
        .await
        .unwrap()
        .json();
    let mut enclave_key = [0u8; 32];
    hex::decode_to_slice(
        export["signingPublicKey"].as_str().unwrap(),
        &mut enclave_key,
    )
    .unwrap();
    let enclave_key = ed25519_dalek::VerifyingKey::from_bytes(&enclave_key).unwrap();
    let receipt = paid.receipt.clone().unwrap();
    receipt.verify(&enclave_key).unwrap();
    assert_eq!(receipt.receipt.amount, 5 * USDC);
    assert_eq!(Some(&receipt.receipt.signature), paid.signature.as_ref());

    // The same idempotency key gets the same answer and pays nothing more.
    let again = signer
        .smart_payment(&payment(&view, "agent-1", &recipient, 5 * USDC, "first"))
        .await
        .unwrap();
    assert_eq!(again.signature, paid.signature);
    assert_eq!(paying.usdc_of(&recipient), 5 * USDC);
    // ... and a different request under it is refused.
    assert_eq!(
        code(
            signer
                .smart_payment(&payment(&view, "agent-1", &recipient, 6 * USDC, "first"))
                .await
        ),
        "idempotency_conflict"
    );

    // Denials never sign: over the per-transaction cap, another mint, unknown agent.
    assert_eq!(
        code(
            signer
                .smart_payment(&payment(&view, "agent-1", &recipient, 11 * USDC, "too-big"))
                .await
        ),
        "policy_denied"
    );
    let mut other_mint = payment(&view, "agent-1", &recipient, USDC, "other-mint");
    other_mint.mint = fresh_address().to_string();
    assert_eq!(
        code(signer.smart_payment(&other_mint).await),
        "policy_denied"
    );
    assert_eq!(
        code(
            signer
                .smart_payment(&payment(&view, "agent-9", &recipient, USDC, "who"))
                .await
        ),
        "not_found"
    );
    assert_eq!(
        paying.usdc_of(&recipient),
        5 * USDC,
        "no denial moved money"
    );

    // A smuggled instruction: an unsigned transaction that also pays lamports elsewhere. In
    // gasless mode a caller's transaction is refused before any policy: the service's fee
    // payer signs only what the service built (the engine's table tests deny the smuggled
    // transfer itself).
    let mut smuggled = payment(&view, "agent-1", &recipient, USDC, "smuggled");
    smuggled.transaction = Some(smuggling_transaction(&paying, &wallet, &recipient));
    assert_eq!(code(signer.smart_payment(&smuggled).await), "bad_request");

    // Interactive: a key without autonomy; the device signs what the enclave fixed.
    let (device_key, device_view) = paying
        .session_key(limits(20 * USDC, Some(100 * USDC)), 100 * USDC)
        .await;
    let device_wallet: Address = device_view.public_key.parse().unwrap();
    paying
        .session(
            &device_view,
            "agent-2",
            limits(20 * USDC, Some(100 * USDC)),
            FeeMode::Session,
        )
        .await;
    let asked = signer
        .smart_payment(&payment(
            &device_view,
            "agent-2",
            &recipient,
            7 * USDC,
            "device",
        ))
        .await
        .unwrap();
    assert_eq!(asked.status, PaymentStatus::RequiresSignature);
    let review = device_key.review(&asked).unwrap();
    assert_eq!(review.summary.fee_payer, device_wallet, "session-fee mode");
    let signed = device_key.sign_reviewed(&review).unwrap();
    // A changed message is refused and signs nothing.
    let mut changed = signed.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    let refused = signer
        .submit_signed(
            &asked.payment_id,
            &SubmitSigned {
                transaction: base64::engine::general_purpose::STANDARD.encode(&changed),
            },
        )
        .await;
    assert_eq!(code(refused), "transaction_mismatch");
    let device_sol = paying.rpc().balance(&device_wallet).unwrap();
    let done = signer
        .submit_signed(
            &asked.payment_id,
            &SubmitSigned {
                transaction: base64::engine::general_purpose::STANDARD.encode(&signed),
            },
        )
        .await
        .unwrap();
    assert_eq!(done.status, PaymentStatus::Confirmed, "{done:?}");
    assert_eq!(paying.usdc_of(&recipient), 12 * USDC);
    assert!(
        paying.rpc().balance(&device_wallet).unwrap() < device_sol,
        "session fee mode: the session wallet paid the fee"
    );

    // A payment belongs to the key that asked for it: another agent key cannot see or act
    // on it (reported unknown); the asking key (here `full`) can.
    let other_agent = paying.client_with(&["create_payments"]).await;
    let hidden = other_agent.payment(&paid.payment_id).await;
    assert_eq!(hidden.unwrap_err().code(), Some("not_found"));
    assert_eq!(
        signer.payment(&paid.payment_id).await.unwrap().signature,
        paid.signature
    );

    // Revoked: nothing more is signed for the key.
    let revoked = signer.revoke(&view.id).await.unwrap();
    assert_eq!(revoked.released_reservations, 0);
    assert_eq!(
        code(
            signer
                .smart_payment(&payment(&view, "agent-1", &recipient, USDC, "after-revoke"))
                .await
        ),
        "session_revoked"
    );
    assert_eq!(paying.usdc_of(&recipient), 12 * USDC);

    // Analytics from the ledger: one autonomous and one device payment.
    let agents = signer.agents().await.unwrap();
    let volume = |agent: &str| {
        agents
            .iter()
            .find(|a| a.agent_id == agent)
            .map(|a| (a.payments, a.volume))
    };
    assert_eq!(volume("agent-1"), Some((1, 5 * USDC)));
    assert_eq!(volume("agent-2"), Some((1, 7 * USDC)));
}

/// An unsigned transaction that pays `to` one USDC and also moves lamports from the wallet to
/// someone else: a System transfer is not a token intent's business.
fn smuggling_transaction(paying: &PayingStack, wallet: &Address, to: &Address) -> String {
    let message = paying
        .unsigned_transfer(
            *wallet,
            *to,
            USDC,
            None,
            aip_enclave::solana::FeePayer::Service {
                address: paying.fee_payer,
            },
        )
        .message;
    let mut instructions = decompile(&message);
    instructions.push(solana_system_interface::instruction::transfer(
        wallet,
        &fresh_address(),
        1_000_000,
    ));
    let compiled = solana_message::Message::new_with_blockhash(
        &instructions,
        Some(&paying.fee_payer),
        &message.recent_blockhash,
    );
    let tx = aip_enclave::solana::Transaction::unsigned(
        aip_enclave::solana::Message::from_bytes(&compiled.serialize()).unwrap(),
    );
    base64::engine::general_purpose::STANDARD.encode(tx.to_bytes())
}

/// The instructions of a legacy message, with their account metas.
fn decompile(message: &aip_enclave::solana::Message) -> Vec<solana_instruction::Instruction> {
    let keys = &message.account_keys;
    message
        .instructions
        .iter()
        .map(|ix| solana_instruction::Instruction {
            program_id: keys[usize::from(ix.program_id_index)],
            accounts: ix
                .accounts
                .iter()
                .map(|&i| {
                    let i = usize::from(i);
                    solana_instruction::AccountMeta {
                        pubkey: keys[i],
                        is_signer: message.is_signer(i),
                        is_writable: message.is_writable(i),
                    }
                })
                .collect(),
            data: ix.data.clone(),
        })
        .collect()
}

/// Fifty concurrent payments of 10 USDC against a daily cap of 100: exactly ten are signed
/// and land; the rest are denied by the daily cap. Then approval above a threshold, and an
/// expired session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_payments_hold_the_cap_approval_and_expiry() {
    let paying = PayingStack::start("cap").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(10 * USDC, Some(100 * USDC)),
            1000 * USDC,
            1000 * USDC,
            "agent",
        )
        .await;
    let recipient = fresh_address();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let signer = paying.signer.clone();
        let request = payment(&view, "agent", &recipient, 10 * USDC, &format!("burst-{i}"));
        tasks.spawn(async move { signer.smart_payment(&request).await });
    }
    let (mut signed, mut capped) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(answer) => {
                assert_eq!(answer.status, PaymentStatus::Confirmed, "{answer:?}");
                signed += 1;
            }
            Err(error) => {
                assert_eq!(error.code(), Some("policy_denied"), "{error}");
                assert!(error.to_string().contains("daily_cap"), "{error}");
                capped += 1;
            }
        }
    }
    assert_eq!((signed, capped), (10, 40));
    assert_eq!(
        paying.usdc_of(&recipient),
        100 * USDC,
        "exactly the cap landed"
    );
    let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
    assert_eq!(sessions[0].spent.day, 100 * USDC);
    assert_eq!(sessions[0].remaining.day, Some(0));

    // Above the approval threshold: the user approves this exact payment with the key.
    let mut approving = limits(50 * USDC, Some(100 * USDC));
    approving.require_approval_above = Some(5 * USDC);
    let (approver, approver_view) = paying
        .autonomous(
            SessionKey::generate(),
            approving,
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let asked = paying
        .signer
        .smart_payment(&payment(
            &approver_view,
            "agent",
            &recipient,
            20 * USDC,
            "big",
        ))
        .await
        .unwrap();
    assert_eq!(asked.status, PaymentStatus::ApprovalRequired);
    assert_eq!(
        paying.usdc_of(&recipient),
        100 * USDC,
        "nothing before approval"
    );
    // The device decodes what it approves: this payment, from its key, nothing else.
    let review = approver.review(&asked).unwrap();
    assert_eq!(review.summary.amount, 20 * USDC);
    assert_eq!(review.recipient.to_string(), recipient.to_string());
    assert!(
        review.describe().starts_with("pay $20 of mint"),
        "{}",
        review.describe()
    );
    let stranger = SessionKey::generate();
    assert!(
        stranger.review(&asked).is_err(),
        "another key's device refuses to review a payment it does not make"
    );
    // An approval by another key is refused.
    let bad = paying
        .signer
        .approve(&asked.payment_id, &stranger.approve(&review))
        .await;
    assert_eq!(code(bad), "signature_invalid");
    let approved = paying
        .signer
        .approve(&asked.payment_id, &approver.approve(&review))
        .await
        .unwrap();
    assert_eq!(approved.status, PaymentStatus::Confirmed, "{approved:?}");
    assert_eq!(paying.usdc_of(&recipient), 120 * USDC);

    // An expired session signs nothing.
    let (short, short_view) = paying
        .session_key(limits(10 * USDC, None), 100 * USDC)
        .await;
    paying
        .enable_autonomy(&short, &short_view, 100 * USDC)
        .await;
    let mut brief = limits(10 * USDC, None);
    brief.expires_at = aip_tests::unix_now() + 2;
    paying
        .session(&short_view, "agent", brief, FeeMode::Service)
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        code(
            paying
                .signer
                .smart_payment(&payment(&short_view, "agent", &recipient, USDC, "late"))
                .await
        ),
        "session_expired"
    );
    assert_eq!(paying.usdc_of(&recipient), 120 * USDC);
}

/// Payments of one session key in flight together share its Lit release (the nodes answer
/// after 700 ms, so a burst overlaps). Sharing the release shares nothing else: each payment
/// still passes its own policy, so a backend that floods a key to ride on one release gets
/// exactly the cap on chain; each transfer lands once, from its own key's wallet; and
/// another key's burst at the same moment is signed by its own release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_in_flight_together_share_a_release_and_nothing_else() {
    let paying = PayingStack::start_with(
        "shared-release",
        &[
            "--slow",
            "0=700..700",
            "--slow",
            "1=700..700",
            "--slow",
            "2=700..700",
        ],
    )
    .await;
    let (_, capped) = paying
        .autonomous(
            SessionKey::generate(),
            limits(USDC, Some(6 * USDC)),
            100 * USDC,
            1000 * USDC,
            "agent",
        )
        .await;
    let (_, other) = paying
        .autonomous(
            SessionKey::generate(),
            limits(USDC, Some(10 * USDC)),
            100 * USDC,
            1000 * USDC,
            "agent",
        )
        .await;
    let released = || {
        let metrics = host_metrics(paying.stack.metrics);
        let value = |name| metric(&metrics, name).unwrap_or(0.0);
        (
            value("aip_enclave_lit_release_ms_count "),
            value("aip_enclave_lit_released_payments_total "),
        )
    };
    // The enclave reports its counters every 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (releases_before, payments_before) = released();
    let (to_capped, to_other) = (fresh_address(), fresh_address());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let signer = paying.signer.clone();
        let request = payment(&capped, "agent", &to_capped, USDC, &format!("flood-{i}"));
        tasks.spawn(async move { ("capped", signer.smart_payment(&request).await) });
    }
    for i in 0..4 {
        let signer = paying.signer.clone();
        let request = payment(&other, "agent", &to_other, USDC, &format!("other-{i}"));
        tasks.spawn(async move { ("other", signer.smart_payment(&request).await) });
    }
    let mut outcomes = std::collections::BTreeMap::<(&str, String), usize>::new();
    while let Some(joined) = tasks.join_next().await {
        let (key, result) = joined.unwrap();
        let outcome = match result {
            Ok(answer) => format!("{:?}", answer.status),
            Err(error) => format!("{} {error}", error.code().unwrap_or("?")),
        };
        *outcomes.entry((key, outcome)).or_default() += 1;
    }
    let confirmed = |key| outcomes.get(&(key, "Confirmed".to_owned())).copied();
    assert_eq!(confirmed("capped"), Some(6), "{outcomes:?}");
    assert_eq!(confirmed("other"), Some(4), "{outcomes:?}");
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|((key, outcome), count)| *key == "capped"
                && *count == 4
                && outcome.starts_with("policy_denied")
                && outcome.contains("daily_cap")),
        "{outcomes:?}"
    );
    // The chain: exactly the cap from the capped key's wallet, the other key's four from its
    // own.
    assert_eq!(paying.usdc_of(&to_capped), 6 * USDC);
    assert_eq!(paying.usdc_of(&to_other), 4 * USDC);
    assert_eq!(
        paying.usdc_of(&capped.public_key.parse().unwrap()),
        94 * USDC
    );
    assert_eq!(
        paying.usdc_of(&other.public_key.parse().unwrap()),
        96 * USDC
    );
    // Ten payments signed with released keys, in fewer releases than payments.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (releases, payments) = loop {
        let (releases, payments) = released();
        if payments - payments_before >= 10.0 || std::time::Instant::now() > deadline {
            break (releases - releases_before, payments - payments_before);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert_eq!(payments, 10.0);
    assert!(
        (2.0..10.0).contains(&releases),
        "{releases} releases for 10 payments of two keys"
    );
}

/// Lit faults: with one of three nodes down the payment is signed; with a node sending
/// wrong shares the bad share is excluded and the payment is signed; with a node sealing its
/// answer under another key than its handshake named, the answer is refused unopened and the
/// payment is signed with the others' shares; with the network gone
/// the answer is lit_threshold_unmet and the reservation is released; when it returns, a
/// retry of that payment pays once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lit_faults() {
    for (name, faults) in [
        ("lit-down", &["--down", "0"] as &'static [&'static str]),
        // The wrong share arrives first (the honest nodes answer 300 ms later), so it is
        // always in the first combination tried.
        (
            "lit-wrong",
            &[
                "--wrong",
                "1",
                "--slow",
                "0=300..300",
                "--slow",
                "2=300..300",
            ],
        ),
        // The same timing: the foreign-sealed answer arrives first.
        (
            "lit-foreign-seal",
            &[
                "--foreign-seal",
                "1",
                "--slow",
                "0=300..300",
                "--slow",
                "2=300..300",
            ],
        ),
    ] {
        let mut paying = PayingStack::start_with(name, faults).await;
        let (_, view) = paying
            .autonomous(
                SessionKey::generate(),
                limits(10 * USDC, Some(100 * USDC)),
                100 * USDC,
                100 * USDC,
                "agent",
            )
            .await;
        let recipient = fresh_address();
        let paid = paying
            .signer
            .smart_payment(&payment(&view, "agent", &recipient, 3 * USDC, "one"))
            .await
            .unwrap();
        assert_eq!(paid.status, PaymentStatus::Confirmed, "{name}: {paid:?}");
        assert_eq!(paying.usdc_of(&recipient), 3 * USDC, "{name}");
        if name == "lit-wrong" {
            assert!(
                paying
                    .stack
                    .log_shows("did not combine", std::time::Duration::from_secs(5)),
                "the wrong share was detected"
            );
            continue;
        }
        if name == "lit-foreign-seal" {
            assert!(
                paying.stack.log_shows(
                    "sealed by another key than the node's identity key",
                    std::time::Duration::from_secs(5)
                ),
                "the foreign-sealed answer was refused"
            );
            continue;
        }
        paying.stack.stop_lit();
        let refused = paying
            .signer
            .smart_payment(&payment(&view, "agent", &recipient, 4 * USDC, "two"))
            .await;
        assert_eq!(code(refused), "lit_threshold_unmet");
        let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
        assert_eq!(
            sessions[0].spent.day,
            3 * USDC,
            "the reservation was released"
        );
        let key_view = paying.signer.session_key(&view.id).await.unwrap();
        assert_eq!(key_view.autonomy.unwrap().committed, 3 * USDC);
        assert_eq!(paying.usdc_of(&recipient), 3 * USDC);

        // The network comes back: a retry of the same payment (same idempotency key) pays,
        // once, with one live reservation (earlier builds reserved again and then tried to
        // sign the released first reservation, failing and leaking the second).
        paying.stack.restart_lit();
        let retried = paying
            .signer
            .smart_payment(&payment(&view, "agent", &recipient, 4 * USDC, "two"))
            .await
            .unwrap();
        assert_eq!(retried.status, PaymentStatus::Confirmed, "{retried:?}");
        assert_eq!(paying.usdc_of(&recipient), 7 * USDC);
        let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
        assert_eq!(sessions[0].spent.day, 7 * USDC, "each payment counted once");
        let key_view = paying.signer.session_key(&view.id).await.unwrap();
        assert_eq!(key_view.autonomy.unwrap().committed, 7 * USDC);
    }
}

/// The enclave is killed (SIGKILL) while a payment waits for the Lit network; the host
/// restarts it. The reservation survived, a retry with the same idempotency key pays once,
/// and afterwards the session key's seed is nowhere in the enclave's memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_payment_then_retry_and_no_key_in_memory() {
    let mut paying = PayingStack::start_with(
        "crash",
        &[
            "--slow",
            "0=1500..1500",
            "--slow",
            "1=1500..1500",
            "--slow",
            "2=1500..1500",
        ],
    )
    .await;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
    let (_, view) = paying
        .autonomous(
            SessionKey::from_seed(&seed),
            limits(10 * USDC, Some(100 * USDC)),
            100 * USDC,
            100 * USDC,
            "agent",
        )
        .await;
    let recipient = fresh_address();
    let request = payment(&view, "agent", &recipient, 4 * USDC, "crash-1");

    let signer = paying.signer.clone();
    let in_flight = {
        let request = request.clone();
        tokio::spawn(async move { signer.smart_payment(&request).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let pid = paying.stack.enclave_pid().expect("the enclave runs");
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the request died with the enclave"
    );
    assert_eq!(
        paying.usdc_of(&recipient),
        0,
        "nothing was paid before the crash"
    );

    paying.reconnect().await;
    let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
    assert_eq!(
        sessions[0].spent.day,
        4 * USDC,
        "the reservation survived the crash"
    );
    let paid = paying.pay_when_ready(&request).await;
    assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    let again = paying.signer.smart_payment(&request).await.unwrap();
    assert_eq!(again.signature, paid.signature);
    assert_eq!(paying.usdc_of(&recipient), 4 * USDC, "paid exactly once");
    let sessions = paying.signer.sessions(Some(&view.id)).await.unwrap();
    assert_eq!(sessions[0].spent.day, 4 * USDC);

    // The enclave released, used and wiped the seed: it is not in its memory. The scan
    // itself works: the operator CA certificate (from its configuration) is found.
    let pid = paying.stack.enclave_pid().expect("the enclave runs");
    let pem = paying.stack.operator.certificate_pem();
    let ca_line = pem.lines().nth(1).unwrap().as_bytes();
    assert!(
        aip_tests::memory::process_contains(pid, ca_line).unwrap(),
        "scan sanity"
    );
    let hits = aip_tests::memory::find_in_process(pid, seed.as_ref(), 8).unwrap();
    assert!(
        hits.is_empty(),
        "the session key seed is still in the enclave's memory: {hits:#?}"
    );
}

/// The operator restarts the enclave on an older copy of the host store, from before 80 USDC
/// of payments, and the backend forgets the ledger head. The enclave reconciles usage with
/// the session wallet's debits on chain, so the daily cap of 100 still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_is_reconciled_with_the_chain() {
    let mut paying = PayingStack::start("rollback").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(50 * USDC, Some(100 * USDC)),
            500 * USDC,
            500 * USDC,
            "agent",
        )
        .await;
    let snapshot = paying.stack.dir.join("before-payments.db");
    paying.stack.stop_host();
    paying.stack.snapshot_store(&snapshot);
    paying.stack.start_host();
    paying.reconnect().await;

    let recipient = fresh_address();
    for (i, amount) in [40, 40].into_iter().enumerate() {
        let paid = paying
            .pay_when_ready(&payment(
                &view,
                "agent",
                &recipient,
                amount * USDC,
                &format!("before-{i}"),
            ))
            .await;
        assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
    }
    assert_eq!(paying.usdc_of(&recipient), 80 * USDC);

    paying.stack.stop_host();
    paying.stack.restore_store(&snapshot);
    paying.stack.start_host();
    // A backend that kept the head sees the rollback...
    paying.reconnect().await;
    let refused = paying.signer.sessions(Some(&view.id)).await;
    assert_eq!(refused.unwrap_err().code(), Some("rollback_detected"));
    // ... one that forgot it does not, but the chain does.
    paying.reconnect_with(false).await;
    paying.wait_spent_today(&view.id, 80 * USDC).await;
    let over = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, 30 * USDC, "after-1"))
        .await;
    assert_eq!(
        code(over),
        "policy_denied",
        "80 on chain + 30 exceeds the daily 100"
    );
    let last = paying
        .pay_when_ready(&payment(&view, "agent", &recipient, 20 * USDC, "after-2"))
        .await;
    assert_eq!(last.status, PaymentStatus::Confirmed);
    assert_eq!(
        paying.usdc_of(&recipient),
        100 * USDC,
        "the cap held across the rollback"
    );
    let autonomy = paying
        .signer
        .session_key(&view.id)
        .await
        .unwrap()
        .autonomy
        .unwrap();
    assert_eq!(autonomy.committed, 100 * USDC);
}

/// The sealed size of a record in the host's store, read beside the running host.
fn stored_size(store: &std::path::Path, key: &str) -> usize {
    let db =
        rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    db.query_row(
        "SELECT length(data) FROM blobs WHERE key = ?1",
        [key],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| usize::try_from(n).unwrap())
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_key_folds_what_the_chain_passed_and_a_rollback_still_counts_it() {
    const PAYMENTS: u64 = 40;
    let mut paying = PayingStack::start("busy-fold").await;
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            limits(USDC, Some(PAYMENTS * USDC + USDC / 2)),
            500 * USDC,
            500 * USDC,
            "agent",
        )
        .await;
    let store = paying.stack.dir.join("store.db");
    let account = format!("session-keys/{}", view.id);
    let snapshot = paying.stack.dir.join("before-payments.db");
    paying.stack.stop_host();
    paying.stack.snapshot_store(&snapshot);
    paying.stack.start_host();
    paying.reconnect().await;

    let recipient = fresh_address();
    let mut largest = 0;
    for i in 0..PAYMENTS {
        let paid = paying
            .pay_when_ready(&payment(
                &view,
                "agent",
                &recipient,
                USDC,
                &format!("busy-{i}"),
            ))
            .await;
        assert_eq!(paid.status, PaymentStatus::Confirmed, "{paid:?}");
        largest = largest.max(stored_size(&store, &account));
    }
    assert_eq!(paying.usdc_of(&recipient), PAYMENTS * USDC);
    // The busy key is reconciled within seconds; what the cursor passed folds into its hour.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let size = stored_size(&store, &account);
        if size * 2 < largest {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the account record stayed at {size} bytes (largest {largest})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Folded, the payments still count in full ...
    paying.wait_spent_today(&view.id, PAYMENTS * USDC).await;
    let over = paying
        .smart_payment_when_ready(&payment(&view, "agent", &recipient, USDC, "over"))
        .await;
    assert_eq!(code(over), "policy_denied", "40 spent + 1 exceeds 40.5");

    // ... and a host that hands back the store from before them lifts nothing: the chain
    // reconciliation counts every one again.
    paying.stack.stop_host();
    paying.stack.restore_store(&snapshot);
    paying.stack.start_host();
    paying.reconnect_with(false).await;
    paying.wait_spent_today(&view.id, PAYMENTS * USDC).await;
    let over = paying
        .smart_payment_when_ready(&payment(
            &view,
            "agent",
            &recipient,
            USDC,
            "over-after-rollback",
        ))
        .await;
    assert_eq!(code(over), "policy_denied");
    assert_eq!(paying.usdc_of(&recipient), PAYMENTS * USDC);
}
