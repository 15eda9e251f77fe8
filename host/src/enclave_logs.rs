//! Writing the enclave's log lines with the host's own (on Nitro they have no other way out).
//!
//! Each line must be one JSON object within the size bound; it is written to the host's stderr
//! with `"from":"enclave"` set by the host (a line cannot claim to be the host's), on one line
//! (a line cannot forge others). Anything else is counted as dropped, never written.

use std::io::Write;

use aip_wire::control::{ControlResponse, MAX_LOG_LINES, MAX_LOG_LINE_BYTES};
use serde_json::{Map, Value};

use crate::metrics::HostMetrics;

/// Writes a batch; refuses one larger than the protocol allows.
pub fn write(lines: &[String], dropped: u64, metrics: &HostMetrics) -> ControlResponse {
    if lines.len() > MAX_LOG_LINES {
        return ControlResponse::Failed {
            reason: format!(
                "{} log lines in one batch; at most {MAX_LOG_LINES}",
                lines.len()
            ),
        };
    }
    let mut out = String::new();
    let mut malformed = 0u64;
    for line in lines {
        match stamped(line) {
            Some(text) => {
                out.push_str(&text);
                out.push('\n');
            }
            None => malformed += 1,
        }
    }
    let written = lines.len() as u64 - malformed;
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
    metrics.enclave_log_lines.inc_by(written);
    metrics
        .enclave_log_dropped
        .inc_by(dropped.saturating_add(malformed));
    if dropped > 0 || malformed > 0 {
        tracing::warn!(dropped, malformed, "enclave log lines were lost");
    }
    ControlResponse::Healthy
}

/// The line as one JSON object marked as the enclave's, if it is one.
fn stamped(line: &str) -> Option<String> {
    if line.len() > MAX_LOG_LINE_BYTES {
        return None;
    }
    let mut object: Map<String, Value> = serde_json::from_str(line).ok()?;
    object.insert("from".into(), Value::String("enclave".into()));
    serde_json::to_string(&object).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_objects_pass_and_they_are_marked() {
        assert_eq!(
            stamped(r#"{"level":"INFO","from":"host"}"#).as_deref(),
            Some(r#"{"from":"enclave","level":"INFO"}"#)
        );
        for bad in ["plain text", "[1,2]", "{\"a\":1}\n{\"forged\":true}", ""] {
            assert_eq!(stamped(bad), None, "{bad:?}");
        }
        let metrics = HostMetrics::new();
        let response = write(&["{}".into(), "nope".into()], 3, &metrics);
        assert_eq!(response, ControlResponse::Healthy);
        assert_eq!(metrics.enclave_log_lines.get(), 1);
        assert_eq!(metrics.enclave_log_dropped.get(), 4);
        let too_many = vec!["{}".to_owned(); MAX_LOG_LINES + 1];
        assert!(matches!(
            write(&too_many, 0, &metrics),
            ControlResponse::Failed { .. }
        ));
    }
}
