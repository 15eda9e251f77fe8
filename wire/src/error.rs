//! Errors of the transports, the framing and the control protocol.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("frame of {length} bytes exceeds the cap of {cap} bytes")]
    FrameTooLarge { length: u64, cap: u32 },
    #[error("the peer closed the connection inside a frame ({read} of {expected} bytes read)")]
    Truncated { read: usize, expected: usize },
    #[error("i/o on the transport")]
    Io(#[source] io::Error),
    #[error("endpoint {text:?}: {why}")]
    Endpoint { text: String, why: String },
    #[error("control message is not valid: {0}")]
    Message(#[source] serde_json::Error),
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e)
    }
}
