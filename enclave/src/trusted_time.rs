//! Anchoring the enclave's clock to time the host cannot forge (see `crate::clock`).
//!
//! On Nitro: the timestamp of a fresh NSM attestation document (the Nitro hypervisor signs
//! it; the document is produced here, from /dev/nsm, not received from the host). Elsewhere
//! (SEV-SNP reports carry no time; dev): the block time of the newest confirmed slot, read
//! from the Solana cluster over the egress. Payments wait for the first anchor (it comes with
//! the first reconciliation), so no window is ever judged by the host-set system clock.

use std::sync::Arc;

use aip_attestation::{Platform, ProduceError};
use rand_core::{OsRng, RngCore};

use crate::chain::RpcError;
use crate::payments::context::PaymentContext;

#[derive(Debug, thiserror::Error)]
pub enum TrustedTimeError {
    #[error("producing an NSM document for its timestamp")]
    Evidence(#[source] ProduceError),
    #[error("the evidence task stopped")]
    Task,
    #[error("the platform's evidence carries no timestamp")]
    NoTimestamp,
    #[error("reading the cluster's block time")]
    Rpc(#[source] RpcError),
    #[error("no trusted time source: payments are not configured")]
    NoSource,
}

/// Reads a trusted time and anchors the clock to it; how far the clock moved forward.
pub async fn anchor_clock(state: &PaymentContext) -> Result<u64, TrustedTimeError> {
    let trusted_ms = match state.attestation.producer.platform() {
        Platform::Nitro => nsm_time_ms(state).await?,
        Platform::SevSnp | Platform::Dev => {
            let payer = state.payer.as_ref().ok_or(TrustedTimeError::NoSource)?;
            let seconds = payer
                .rpc
                .block_time()
                .await
                .map_err(TrustedTimeError::Rpc)?;
            u64::try_from(seconds).unwrap_or(0).saturating_mul(1000)
        }
    };
    let moved = state.clock.anchor(trusted_ms);
    if moved > 0 {
        tracing::info!(moved_ms = moved, "clock moved forward to a trusted time");
    }
    Ok(moved)
}

async fn nsm_time_ms(state: &PaymentContext) -> Result<u64, TrustedTimeError> {
    let producer = Arc::clone(&state.attestation.producer);
    let keys = state.attestation.keys.clone();
    let mut nonce = [0u8; 32];
    OsRng.fill_bytes(&mut nonce);
    let evidence = tokio::task::spawn_blocking(move || producer.produce(&keys, &nonce))
        .await
        .map_err(|_| TrustedTimeError::Task)?
        .map_err(TrustedTimeError::Evidence)?;
    evidence
        .nitro_timestamp_ms()
        .ok_or(TrustedTimeError::NoTimestamp)
}
