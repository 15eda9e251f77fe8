//! Messages between enclave and host, one JSON document per frame.
//!
//! Control channel (enclave -> host): the blob store, time hints, health. The store is
//! compare-and-set on a version number, so an enclave that lost track of the latest state
//! cannot silently overwrite it. Unknown fields and unknown operations are refused.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::WireError;
use crate::frame::{read_frame, write_frame};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlRequest {
    /// Store `data` under `key` as `version` if the stored version is `expected` (`None`:
    /// the key must be absent). `version` must be greater than `expected`.
    Put {
        key: String,
        expected: Option<u64>,
        version: u64,
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
    Get {
        key: String,
    },
    /// Keys with their versions, in key order, under a prefix.
    List {
        prefix: String,
    },
    /// The host's wall clock, a hint the enclave only lets move its clock forward.
    Time,
    Health,
    /// The enclave's own counters (requests by route, status and error code; Lit latency),
    /// which the host cannot see inside TLS, for its `/metrics`. Replaces the last report.
    Metrics {
        samples: Vec<MetricSample>,
    },
    /// The enclave's log lines (one JSON object each), which have no other way out of a Nitro
    /// enclave, for the host to write with its own; and how many lines the enclave dropped
    /// since the last batch because the host did not take them fast enough.
    Logs {
        lines: Vec<String>,
        dropped: u64,
    },
}

/// Most log lines in one `Logs` request, and most bytes in one line.
pub const MAX_LOG_LINES: usize = 512;
pub const MAX_LOG_LINE_BYTES: usize = 16 * 1024;

/// One metric value the enclave reports: `name{labels} value`. Names and label keys are
/// `[a-z_]` (checked by the host before rendering), label values are escaped when rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSample {
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyVersion {
    pub key: String,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlResponse {
    /// Durable (fsynced) before this answer was sent.
    Stored {
        version: u64,
    },
    Found {
        version: u64,
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
    Missing,
    /// The compare-and-set failed; nothing was written.
    Conflict {
        current: Option<u64>,
    },
    Keys {
        entries: Vec<KeyVersion>,
    },
    Time {
        unix_ms: u64,
    },
    Healthy,
    Failed {
        reason: String,
    },
}

/// Sends one message as a frame.
pub async fn send<W: AsyncWrite + Unpin, T: Serialize>(
    writer: &mut W,
    message: &T,
    cap: u32,
) -> Result<(), WireError> {
    let bytes = serde_json::to_vec(message).map_err(WireError::Message)?;
    write_frame(writer, &bytes, cap).await
}

/// Receives one message; `Ok(None)` when the peer closed between messages.
pub async fn receive<R: AsyncRead + Unpin, T: DeserializeOwned>(
    reader: &mut R,
    cap: u32,
) -> Result<Option<T>, WireError> {
    match read_frame(reader, cap).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(WireError::Message),
    }
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
