//! The host's Prometheus metrics: what the host itself sees (store operations and their
//! latency, egress decisions, ingress connections, enclave restarts). It cannot see inside
//! the API's TLS; the enclave's own counters come with its control messages later.

use std::sync::Arc;

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
    pub egress: Family<OpLabels, Counter>,
    pub ingress_connections: Counter,
    pub enclave_starts: Counter,
}

impl HostMetrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("aip_host");
        let store_ops = Family::<OpLabels, Counter>::default();
        let store_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let egress = Family::<OpLabels, Counter>::default();
        let ingress_connections = Counter::default();
        let enclave_starts = Counter::default();
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
            egress,
            ingress_connections,
            enclave_starts,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
