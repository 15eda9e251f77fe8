//! The egress channel: the enclave reaches a Lit node or an RPC endpoint through the host.
//! The first frame names `host:port`; the host answers and, if it connected, only copies
//! bytes afterwards, so TLS to the target stays end to end inside the enclave.

use serde::{Deserialize, Serialize};

use crate::control::{receive, send};
use crate::endpoint::Endpoint;
use crate::error::WireError;
use crate::transport::Stream;

/// Frames on the egress channel are tiny.
pub const EGRESS_FRAME_CAP: u32 = 4096;

/// The first frame on an egress connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressRequest {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case", deny_unknown_fields)]
pub enum EgressReply {
    Connected,
    Refused { reason: String },
}

/// The enclave side: a byte stream to `host:port` through the host, or the host's refusal.
pub async fn connect_via_host(
    egress: &Endpoint,
    host: &str,
    port: u16,
) -> Result<Result<Stream, String>, WireError> {
    let mut stream = Stream::connect(egress).await?;
    let request = EgressRequest {
        host: host.to_owned(),
        port,
    };
    send(&mut stream, &request, EGRESS_FRAME_CAP).await?;
    match receive::<_, EgressReply>(&mut stream, EGRESS_FRAME_CAP).await? {
        Some(EgressReply::Connected) => Ok(Ok(stream)),
        Some(EgressReply::Refused { reason }) => Ok(Err(reason)),
        None => Ok(Err("the host closed the egress channel".into())),
    }
}
