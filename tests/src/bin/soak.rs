//! `soak [SECONDS]` (scripts/soak): autonomous payments from several workers across session
//! keys and agents through the whole local stack (each Lit node and each RPC endpoint a
//! process of its own), while the enclave, the host, a Lit node or an RPC endpoint is killed
//! (-9) at random moments and restarted; then every unanswered request is resent as a backend
//! would, the blockhash expires (nothing signed before can land later), and the audit checks
//! the chain and the ledger (tests/src/soak/audit.rs). Prints the figures; exits 1 on any
//! violation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aip_client::device::SessionKey;
use aip_tests::payments::{fresh_address, limits, PayingStack, USDC};
use aip_tests::service::StackOptions;
use aip_tests::soak::load::{self, Attempt, Backend, Outcome, SoakSession};
use aip_tests::soak::{audit, chaos};
use aip_wire::payments::{FeeMode, PaymentStatus};

const WORKERS: usize = 8;

/// Two keys whose caps the load reaches within the first minute (then every payment must be
/// refused, whatever is killed), and two it never reaches (throughput under faults).
async fn sessions(paying: &PayingStack) -> Vec<SoakSession> {
    let mut sessions = Vec::new();
    for (tight, wallet_usdc) in [
        (true, 5 * USDC),
        (true, 5 * USDC),
        (false, 1_000 * USDC),
        (false, 1_000 * USDC),
    ] {
        let (per_tx, key_day, autonomy, session_day) = if tight {
            (USDC / 20, USDC, USDC / 2, 3 * USDC / 10)
        } else {
            (USDC, 10_000 * USDC, 10_000 * USDC, 5_000 * USDC)
        };
        let key_limits = limits(per_tx, Some(key_day));
        let (key, view) = paying
            .register(SessionKey::generate(), key_limits, wallet_usdc)
            .await;
        paying.enable_autonomy(&key, &view, autonomy).await;
        for agent in ["agent-a", "agent-b"] {
            paying
                .session(
                    &view,
                    agent,
                    limits(per_tx, Some(session_day)),
                    FeeMode::Service,
                )
                .await;
            sessions.push(SoakSession {
                key_id: view.id.clone(),
                wallet: view.public_key.parse().unwrap(),
                agent: agent.to_owned(),
                session_day_cap: session_day,
                key_day_cap: key_day,
                autonomy_total: autonomy,
            });
        }
    }
    sessions
}

fn count<K: Ord>(map: &mut BTreeMap<K, usize>, key: K) {
    *map.entry(key).or_default() += 1;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map_or(60, |a| a.parse().expect("SECONDS"));
    eprintln!("soak: starting the stack (3 Lit node processes, 3 RPC endpoints, host, enclave)");
    let paying = PayingStack::start_options(
        "soak",
        StackOptions {
            split_processes: true,
            ..StackOptions::default()
        },
    )
    .await;
    let sessions = Arc::new(sessions(&paying).await);
    let recipients = Arc::new((0..3).map(|_| fresh_address()).collect::<Vec<_>>());
    let PayingStack {
        mut stack,
        signer,
        api_key,
        ..
    } = paying;
    let rpc = stack.solana.as_ref().unwrap().rpc.clone();
    let backend = Arc::new(
        Backend::new(signer, stack.attestation_client(), api_key)
            .await
            .expect("attest the enclave"),
    );

    eprintln!("soak: {seconds} s of payments from {WORKERS} workers under faults");
    let started = Instant::now();
    let stop = started + Duration::from_secs(seconds);
    let give_up = stop + Duration::from_secs(120);
    let killer = std::thread::spawn(move || {
        let kills = chaos::run(&mut stack, stop, (2_000, 6_000));
        (stack, kills)
    });
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        workers.spawn(load::worker(
            backend.clone(),
            sessions.clone(),
            recipients.clone(),
            next.clone(),
            stop,
            give_up,
        ));
    }
    let mut attempts: Vec<Attempt> = Vec::new();
    while let Some(done) = workers.join_next().await {
        attempts.extend(done.unwrap());
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let (_stack, kills) = killer.join().unwrap();

    // Everything runs again. Requests that never got a final answer are resent (the same
    // idempotency key), as a backend would.
    eprintln!("soak: settling");
    let unanswered = attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Unanswered)
        .count();
    for attempt in attempts
        .iter_mut()
        .filter(|a| a.outcome == Outcome::Unanswered)
    {
        let (id, outcome) = backend
            .pay(&attempt.request, Instant::now() + Duration::from_secs(120))
            .await;
        attempt.payment_id = id;
        attempt.outcome = outcome;
    }
    // The cluster moves on: nothing signed so far can land from now on, so every reservation
    // must end landed or released on proof.
    rpc.expire_blockhash().expect("expire the blockhash");
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut pending: Vec<&str> = attempts
        .iter()
        .filter_map(|a| a.payment_id.as_deref())
        .collect();
    while !pending.is_empty() && Instant::now() < deadline {
        let signer = backend.signer().1;
        let mut still = Vec::new();
        for id in pending {
            match signer.payment(id).await {
                Ok(answer)
                    if !matches!(
                        answer.status,
                        PaymentStatus::Submitted | PaymentStatus::RequiresSignature
                    ) => {}
                _ => still.push(id),
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    let keys = backend.enclave_keys.lock().unwrap().clone();
    let findings = audit::audit(&backend.signer().1, &rpc, &sessions, &attempts, &keys).await;

    let mut answered: BTreeMap<String, usize> = BTreeMap::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    for attempt in &attempts {
        match &attempt.outcome {
            Outcome::Answered { status, rule } => {
                count(&mut answered, format!("{status:?}").to_lowercase());
                if let Some(rule) = rule {
                    count(&mut refused, format!("denied: {rule}"));
                }
            }
            Outcome::Refused(code) => count(&mut refused, code.clone()),
            Outcome::Unanswered => count(&mut refused, "unanswered".into()),
        }
    }
    println!(
        "soak: {load_seconds:.0} s under faults, {WORKERS} workers, {} session keys, {} sessions",
        4,
        sessions.len()
    );
    println!("  payments attempted: {}", attempts.len());
    println!("  answers by status: {answered:?}");
    println!("  refused by cause: {refused:?}");
    println!("  resent after the run (no final answer in time): {unanswered}");
    println!(
        "  transient errors retried, by cause: {:?}",
        backend.transient.lock().unwrap()
    );
    println!(
        "  kills (-9): enclave {}, host {}, Lit node {}, RPC endpoint {}; blockhash expired {} times",
        kills.enclave, kills.host, kills.lit_node, kills.rpc_endpoint, kills.blockhash_expired
    );
    println!(
        "  on chain: {} transfers landed, {:.2} USDC ({:.1} landed/s); ledger entries {}; enclave boots seen {}",
        findings.landed,
        findings.landed_amount as f64 / USDC as f64,
        findings.landed as f64 / load_seconds,
        findings.ledger_entries,
        keys.len(),
    );
    println!("  final payment states: {:?}", findings.final_status);
    println!("  violations: {}", findings.violations.len());
    for violation in &findings.violations {
        println!("    {violation}");
    }
    if !findings.violations.is_empty() || kills.total() == 0 {
        std::process::exit(1);
    }
}
