//! The enclave's own counters, reported to the host over the control channel every few
//! seconds (the host cannot see inside TLS) and exposed there under `aip_enclave_*`:
//! requests by route, status and error code, policy denials by rule, Lit release latency and
//! the payments signed with released keys. Labels carry no request data beyond the matched
//! route pattern.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aip_wire::control::MetricSample;

use crate::state::host_store::HostStore;

/// Upper bounds (ms) of the Lit latency histogram.
const LIT_BUCKETS_MS: [f64; 10] = [
    25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, 12800.0,
];

#[derive(Debug, Default)]
struct Latency {
    buckets: [u64; LIT_BUCKETS_MS.len()],
    count: u64,
    sum_ms: f64,
}

#[derive(Debug, Default)]
pub struct EnclaveMetrics {
    requests: Mutex<BTreeMap<(String, u16, String), u64>>,
    /// Policy denials by rule (a bounded set of names).
    denials: Mutex<BTreeMap<&'static str, u64>>,
    lit: Mutex<Latency>,
    /// Payments signed with a released session key (several may share one release).
    released_payments: AtomicU64,
}

impl EnclaveMetrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// One answered request: its route pattern, status and error code ("" when none).
    pub fn count_request(&self, route: &str, status: u16, code: &str) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((route.to_owned(), status, code.to_owned()))
                .or_default() += 1;
        }
    }

    /// One payment denied by the policy, by the rule's stable name.
    pub fn count_denial(&self, rule: &'static str) {
        if let Ok(mut denials) = self.denials.lock() {
            *denials.entry(rule).or_default() += 1;
        }
    }

    /// One Lit release (handshakes, evidence, shares, combination), in milliseconds.
    pub fn observe_lit(&self, elapsed: Duration) {
        let ms = elapsed.as_secs_f64() * 1000.0;
        if let Ok(mut lit) = self.lit.lock() {
            for (bucket, bound) in lit.buckets.iter_mut().zip(LIT_BUCKETS_MS) {
                if ms <= bound {
                    *bucket += 1;
                }
            }
            lit.count += 1;
            lit.sum_ms += ms;
        }
    }

    /// `count` payments signed with the key one release of a session key brought.
    pub fn count_released_payments(&self, count: usize) {
        self.released_payments
            .fetch_add(count as u64, Ordering::Relaxed);
    }

    pub fn samples(&self) -> Vec<MetricSample> {
        let sample = |name: &str, labels: &[(&str, String)], value: f64| MetricSample {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            value,
        };
        let mut out = Vec::new();
        if let Ok(requests) = self.requests.lock() {
            for ((route, status, code), count) in requests.iter() {
                out.push(sample(
                    "aip_enclave_requests_total",
                    &[
                        ("route", route.clone()),
                        ("status", status.to_string()),
                        ("code", code.clone()),
                    ],
                    *count as f64,
                ));
            }
        }
        if let Ok(denials) = self.denials.lock() {
            for (rule, count) in denials.iter() {
                out.push(sample(
                    "aip_enclave_policy_denials_total",
                    &[("rule", (*rule).to_owned())],
                    *count as f64,
                ));
            }
        }
        if let Ok(lit) = self.lit.lock() {
            for (bound, count) in LIT_BUCKETS_MS.iter().zip(lit.buckets) {
                out.push(sample(
                    "aip_enclave_lit_release_ms_bucket",
                    &[("le", bound.to_string())],
                    count as f64,
                ));
            }
            out.push(sample(
                "aip_enclave_lit_release_ms_bucket",
                &[("le", "+Inf".into())],
                lit.count as f64,
            ));
            out.push(sample(
                "aip_enclave_lit_release_ms_count",
                &[],
                lit.count as f64,
            ));
            out.push(sample("aip_enclave_lit_release_ms_sum", &[], lit.sum_ms));
        }
        out.push(sample(
            "aip_enclave_lit_released_payments_total",
            &[],
            self.released_payments.load(Ordering::Relaxed) as f64,
        ));
        out
    }
}

/// Every `every`: sends the counters to the host, and takes its time hint for `clock`. A
/// failure is logged and retried at the next tick.
pub async fn report(
    metrics: Arc<EnclaveMetrics>,
    clock: Arc<crate::clock::EnclaveClock>,
    store: Arc<HostStore>,
    every: Duration,
) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        if let Err(error) = store.report_metrics(metrics.samples()).await {
            tracing::warn!(%error, "metrics report to the host failed");
        }
        match store.time_hint().await {
            Ok(hint) => {
                let moved = clock.hint(hint);
                if moved > 0 {
                    tracing::info!(moved_ms = moved, "clock moved forward by a host hint");
                }
            }
            Err(error) => tracing::warn!(%error, "time hint from the host failed"),
        }
    }
}
