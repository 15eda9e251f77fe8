#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The enclave's metric reports: rendered in the exposition (values escaped), and refused
//! whole when a name, label or value is not acceptable.

use std::collections::BTreeMap;

use aip_host::metrics::{HostMetrics, MAX_ENCLAVE_SAMPLES};
use aip_wire::control::MetricSample;

fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> MetricSample {
    MetricSample {
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect::<BTreeMap<_, _>>(),
        value,
    }
}

#[test]
fn reports_render_and_bad_reports_change_nothing() {
    let metrics = HostMetrics::new();
    metrics
        .set_enclave(vec![
            sample(
                "aip_enclave_requests_total",
                &[("route", "/v1/health"), ("code", "a\"b\\c\nd")],
                3.0,
            ),
            sample("aip_enclave_lit_release_ms_count", &[], 1.0),
        ])
        .unwrap();
    let text = metrics.render();
    assert!(
        text.contains(r#"aip_enclave_requests_total{code="a\"b\\c\nd",route="/v1/health"} 3"#),
        "{text}"
    );
    assert!(
        text.contains("aip_enclave_lit_release_ms_count 1\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));

    for bad in [
        vec![sample("host_spoofed_total", &[], 1.0)],
        vec![sample("aip_enclave_Bad", &[], 1.0)],
        vec![sample("aip_enclave_x", &[("Route", "x")], 1.0)],
        vec![sample("aip_enclave_x", &[("route}", "x")], 1.0)],
        vec![sample("aip_enclave_x", &[], f64::NAN)],
        vec![sample("aip_enclave_x", &[], 1.0); MAX_ENCLAVE_SAMPLES + 1],
    ] {
        assert!(metrics.set_enclave(bad).is_err());
    }
    assert_eq!(
        metrics.render(),
        text,
        "a refused report leaves the last good one"
    );
}
