//! `bench-payments`: autonomous payments through the whole local stack (SDK -> mutual TLS ->
//! aip-host -> aip-enclave -> Lit devnet -> Solana devnet), a fixed count at each
//! concurrency; prints throughput, p50 and p99 latency, the CPU milliseconds each process
//! spent per payment (from /proc: user + system, with its children, such as the Lit devnet's
//! Node action runners), the host store's writes and commits per payment, the enclave's mean
//! Lit release (from its own metric) beside the p50, the payments signed per release, and the
//! enclave's peak RSS.
//!
//! Usage: bench-payments [COUNT] [CONCURRENCY,...]   (defaults: 200 1,4,16,64)
//!
//! `AIP_PAYMENTS_PER_RELEASE=N` sets the enclave's `lit.payments_per_release` (1: a release
//! per payment, as before releases were shared).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use aip_client::device::SessionKey;
use aip_tests::devnet::Crashable;
use aip_tests::payments::{fresh_address, limits, payment, PayingStack, USDC};
use aip_tests::service::{host_metrics, metric, StackOptions};
use aip_wire::payments::PaymentStatus;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// CPU time of a process so far, in clock ticks: user + system, and those of its children it
/// has waited for (`/proc/PID/stat` fields 14-17).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are space-separated.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // `after` starts at field 3 (state): fields 14..=17 are at 11..=14.
    fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum()
}

/// The parent of each process now (`/proc/*/stat` field 4).
fn parents() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let after = &stat[stat.rfind(')')? + 2..];
            let parent = after.split(' ').nth(1)?.parse().ok()?;
            Some((pid, parent))
        })
        .collect()
}

/// CPU ticks of `pid` and of its live descendants that are not measured on their own rows
/// (the Lit devnet's long-lived action runners; not the enclave under the host).
fn cpu_ticks_with_children(pid: u32, measured: &[u32], parents: &[(u32, u32)]) -> u64 {
    let mut total = cpu_ticks(pid).unwrap_or(0);
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for (child, _) in parents.iter().filter(|(_, p)| *p == parent) {
            if !measured.contains(child) {
                total += cpu_ticks(*child).unwrap_or(0);
                frontier.push(*child);
            }
        }
    }
    total
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Counters read from the host's `/metrics` between levels.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    /// Host store writes stored, and the commits (fsyncs) they took.
    writes: f64,
    commits: f64,
    /// The enclave's Lit releases: total milliseconds and how many.
    release_ms: f64,
    releases: f64,
    /// Payments signed with a released session key (several may share a release).
    released_payments: f64,
}

/// The counters now, once the enclave's report (every 2 s) includes what just happened.
async fn counters(address: std::net::SocketAddr) -> Counters {
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let metrics = host_metrics(address);
    let value = |name: &str| metric(&metrics, name).unwrap_or(0.0);
    Counters {
        writes: value("aip_host_store_operations_total{op=\"put\",outcome=\"stored\"} "),
        commits: value("aip_host_store_groups_total "),
        release_ms: value("aip_enclave_lit_release_ms_sum "),
        releases: value("aip_enclave_lit_release_ms_count "),
        released_payments: value("aip_enclave_lit_released_payments_total "),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(200, |a| a.parse().expect("COUNT"));
    let levels: Vec<usize> = args.next().map_or(vec![1, 4, 16, 64], |a| {
        a.split(',')
            .map(|c| c.parse().expect("CONCURRENCY"))
            .collect()
    });
    eprintln!("starting the stack (Lit devnet, Solana devnet, aip-host, aip-enclave)...");
    let per_release = std::env::var("AIP_PAYMENTS_PER_RELEASE")
        .ok()
        .map(|n| n.parse().expect("AIP_PAYMENTS_PER_RELEASE"));
    let paying = PayingStack::start_options(
        "bench",
        StackOptions {
            payments_per_release: per_release,
            ..StackOptions::default()
        },
    )
    .await;
    let mut big = limits(USDC, None);
    big.max_per_day = Some(1_000_000 * USDC);
    let (_, view) = paying
        .autonomous(
            SessionKey::generate(),
            big,
            1_000_000 * USDC,
            1_000_000 * USDC,
            "bench",
        )
        .await;
    let recipient = fresh_address();
    // One payment first: the recipient's account exists and the path is warm.
    let warm = paying
        .signer
        .smart_payment(&payment(&view, "bench", &recipient, 10_000, "warm"))
        .await
        .unwrap();
    assert_eq!(warm.status, PaymentStatus::Confirmed);

    let enclave = paying.stack.enclave_pid().expect("the enclave runs");
    let processes: Vec<(&str, u32)> = vec![
        ("enclave", enclave),
        ("host", paying.stack.host_pid().expect("the host runs")),
        ("lit devnet", paying.stack.lit.as_ref().expect("lit").pid()),
        (
            "solana devnet",
            paying.stack.solana.as_ref().expect("solana").pid(),
        ),
        ("client", std::process::id()),
    ];
    let tick_ms = 1000.0 / ticks_per_second();
    let measured: Vec<u32> = processes.iter().map(|(_, pid)| *pid).collect();
    let cpu = || -> Vec<u64> {
        let parents = parents();
        measured
            .iter()
            .map(|pid| cpu_ticks_with_children(*pid, &measured, &parents))
            .collect()
    };

    println!("autonomous USDC payments through the local stack ({count} per level)");
    for concurrency in levels {
        let counted = counters(paying.stack.metrics).await;
        let before = cpu();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (signer, next, view) = (paying.signer.clone(), next.clone(), view.clone());
            workers.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= count {
                        return latencies;
                    }
                    let request = payment(
                        &view,
                        "bench",
                        &recipient,
                        10_000,
                        &format!("c{concurrency}-{i}"),
                    );
                    let at = Instant::now();
                    // Under overload the signer may refuse (a Lit node too slow for its
                    // timeout): counted, not fatal.
                    match signer.smart_payment(&request).await {
                        Ok(answer) => {
                            assert_eq!(answer.status, PaymentStatus::Confirmed, "{answer:?}");
                            latencies.push(Ok(at.elapsed()));
                        }
                        Err(error) => {
                            latencies.push(Err(error.code().unwrap_or("unreachable").to_owned()))
                        }
                    }
                }
            });
        }
        let mut outcomes = Vec::with_capacity(count);
        while let Some(done) = workers.join_next().await {
            outcomes.extend(done.unwrap());
        }
        let mut refused: std::collections::BTreeMap<String, usize> = Default::default();
        let mut latencies: Vec<Duration> = Vec::with_capacity(count);
        for outcome in outcomes {
            match outcome {
                Ok(latency) => latencies.push(latency),
                Err(code) => *refused.entry(code).or_default() += 1,
            }
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let after = cpu();
        if latencies.is_empty() {
            println!("concurrency {concurrency:>2}: no payment confirmed; refused: {refused:?}");
            continue;
        }
        println!(
            "concurrency {concurrency:>2}: {} payments confirmed in {:.2} s = {:.1} payments/s, p50 {:.0} ms, p99 {:.0} ms",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        );
        if !refused.is_empty() {
            println!("  refused (not in the figures above): {refused:?}");
        }
        let per_payment: Vec<f64> = before
            .iter()
            .zip(&after)
            .map(|(b, a)| (a.saturating_sub(*b)) as f64 * tick_ms / count as f64)
            .collect();
        let table: Vec<String> = processes
            .iter()
            .zip(&per_payment)
            .map(|((name, _), ms)| format!("{name} {ms:.1}"))
            .collect();
        println!(
            "  CPU ms per payment: {}; signer (enclave + host) {:.1}",
            table.join(", "),
            per_payment[0] + per_payment[1]
        );
        let now = counters(paying.stack.metrics).await;
        println!(
            "  host store per payment: {:.1} writes in {:.1} commits",
            (now.writes - counted.writes) / count as f64,
            (now.commits - counted.commits) / count as f64,
        );
        let releases = now.releases - counted.releases;
        if releases > 0.0 {
            let mean = (now.release_ms - counted.release_ms) / releases;
            println!(
                "  Lit release (the enclave's wait for the t-th share, and its own combine, verify, decrypt): mean {mean:.0} ms over {releases} releases; p50 minus it {:.0} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1000.0 - mean
            );
            println!(
                "  payments signed per release: {:.2}",
                (now.released_payments - counted.released_payments) / releases
            );
        }
        match peak_rss_kib(enclave) {
            Some(kib) => println!("  enclave peak RSS so far: {:.1} MiB", kib as f64 / 1024.0),
            None => println!("  enclave peak RSS: unavailable"),
        }
    }
}
