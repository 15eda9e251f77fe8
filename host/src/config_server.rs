//! Serving the enclave its configuration at boot: each connection gets the file's current
//! bytes as one frame. The host is untrusted here too: the enclave binds what it receives
//! into its attestation, and the Lit nodes release nothing to a configuration the measurement
//! policy does not pin (docs/threat-model.md).

use std::path::PathBuf;

use aip_wire::frame::write_frame;
use aip_wire::{Listener, WireError};

/// Largest configuration the host sends (the enclave refuses more too).
pub const MAX_CONFIG_BYTES: u32 = 1024 * 1024;

/// Answers every connection with the file's bytes until the listener fails.
pub async fn serve_config(listener: Listener, file: PathBuf) -> Result<(), WireError> {
    loop {
        let (mut stream, peer) = listener.accept().await?;
        let file = file.clone();
        tokio::spawn(async move {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::error!(file = %file.display(), %error, "the enclave configuration is unreadable");
                    return;
                }
            };
            match write_frame(&mut stream, &bytes, MAX_CONFIG_BYTES).await {
                Ok(()) => {
                    tracing::info!(%peer, bytes = bytes.len(), "enclave configuration served")
                }
                Err(error) => {
                    tracing::warn!(%peer, %error, "serving the enclave configuration failed")
                }
            }
        });
    }
}
