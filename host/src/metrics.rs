//! The host's Prometheus metrics: what the host itself sees (store operations and their
//! latency, egress decisions, ingress connections, enclave restarts), and what the enclave
//! reports of itself over the control channel (requests by route, status and error code;
//! Lit latency), since the host cannot see inside the API's TLS.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use aip_wire::control::MetricSample;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    pub op: String,
    pub outcome: String,
}

#[derive(Debug)]
pub struct HostMetrics {
    registry: Registry,
    pub store_ops: Family<OpLabels, Counter>,
    pub store_seconds: Histogram,
    /// Store groups with writes committed (one transaction and fsync each, for every write
    /// that arrived with the others).
    pub store_groups: Counter,
    pub egress: Family<OpLabels, Counter>,
    pub ingress_connections: Counter,
    pub enclave_starts: Counter,
    /// The enclave's log lines written, and those it or the host dropped.
    pub enclave_log_lines: Counter,
    pub enclave_log_dropped: Counter,
    /// The enclave's last report.
    enclave: Mutex<Vec<MetricSample>>,
}

/// Most samples one report may carry.
pub const MAX_ENCLAVE_SAMPLES: usize = 2000;

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl HostMetrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("aip_host");
        let store_ops = Family::<OpLabels, Counter>::default();
        let store_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let store_groups = Counter::default();
        let egress = Family::<OpLabels, Counter>::default();
        let ingress_connections = Counter::default();
        let enclave_starts = Counter::default();
        let enclave_log_lines = Counter::default();
        let enclave_log_dropped = Counter::default();
        registry.register(
            "enclave_log_lines",
            "Enclave log lines written by the host",
            enclave_log_lines.clone(),
        );
        registry.register(
            "enclave_log_dropped",
            "Enclave log lines dropped (the enclave's queue was full, or a line was malformed)",
            enclave_log_dropped.clone(),
        );
        registry.register(
            "store_operations",
            "Blob store operations by op and outcome",
            store_ops.clone(),
        );
        registry.register(
            "store_seconds",
            "Blob store operation latency",
            store_seconds.clone(),
        );
        registry.register(
            "store_groups",
            "Blob store commits with writes (one fsync each, for the writes that arrived together)",
            store_groups.clone(),
        );
        registry.register(
            "egress_requests",
            "Egress requests by target and outcome",
            egress.clone(),
        );
        registry.register(
            "ingress_connections",
            "Client connections forwarded to the enclave",
            ingress_connections.clone(),
        );
        registry.register(
            "enclave_starts",
            "Enclave process starts",
            enclave_starts.clone(),
        );
        Arc::new(Self {
            registry,
            store_ops,
            store_seconds,
            store_groups,
            egress,
            ingress_connections,
            enclave_starts,
            enclave_log_lines,
            enclave_log_dropped,
            enclave: Mutex::new(Vec::new()),
        })
    }

    /// Replaces the enclave's report after checking every name and label key; a report with
    /// anything else is refused whole.
    pub fn set_enclave(&self, samples: Vec<MetricSample>) -> Result<(), String> {
        if samples.len() > MAX_ENCLAVE_SAMPLES {
            return Err(format!(
                "{} samples, at most {MAX_ENCLAVE_SAMPLES}",
                samples.len()
            ));
        }
        for sample in &samples {
            if !sample.name.starts_with("aip_enclave_") || !is_identifier(&sample.name) {
                return Err(format!(
                    "metric name {:?} is not aip_enclave_[a-z_]+",
                    sample.name
                ));
            }
            if let Some(key) = sample.labels.keys().find(|k| !is_identifier(k)) {
                return Err(format!("label {key:?} is not [a-z_]+"));
            }
            if !sample.value.is_finite() {
                return Err(format!("{} is not finite", sample.name));
            }
        }
        *self
            .enclave
            .lock()
            .map_err(|_| "metrics unavailable".to_string())? = samples;
        Ok(())
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        // The registry ends with "# EOF"; the enclave's samples go before it.
        if let Some(stripped) = text.strip_suffix("# EOF\n") {
            text = stripped.to_owned();
        }
        if let Ok(samples) = self.enclave.lock() {
            for sample in samples.iter() {
                let labels: Vec<String> = sample
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                let _ = if labels.is_empty() {
                    writeln!(text, "{} {}", sample.name, sample.value)
                } else {
                    let labels = labels.join(",");
                    writeln!(text, "{}{{{labels}}} {}", sample.name, sample.value)
                };
            }
        }
        text.push_str("# EOF\n");
        text
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
