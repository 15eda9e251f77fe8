//! Interactive payments whose message can no longer land (docs/design.md, "Keys and flows").
//!
//! A payment beyond autonomy, or above the approval threshold, waits for the device's
//! signature or the user's approval with its amount reserved. If nobody acts before its
//! blockhash expires, that message can never land, and the reservation would otherwise hold
//! the session's caps for good. So each tracking round, once a quorum's block height is past
//! the message's last valid height, the reservation is released and the payment expires.
//!
//! The enclave never signed such a message, but the device holds the session key and could
//! have signed it and sent it to the cluster itself. Before releasing, the wallet's history
//! is therefore reconciled (`reconcile`): a copy that landed is counted as a debit of the key
//! before its reservation goes, so the caps never drop below what the chain shows. While a
//! quorum of endpoints lists a transaction of the wallet that none serves, the reservation
//! stays (it may be that copy). One endpoint alone listing it does not hold the release: a liar
//! could invent signatures to hold every interactive reservation for good.

use super::context::{InFlight, PaymentContext};
use super::error::PaymentError;
use super::reconcile::reconcile_account;
use super::record::{PaymentRecord, Stage};
use super::settle::release;
use super::track::{payments_reserved, record_expiry};
use crate::policy::{ReleaseProof, SpendState};
use crate::state::records;

/// Expires every interactive payment whose message's blockhash a quorum shows expired; the
/// number expired.
pub async fn expire_interactive(state: &PaymentContext) -> Result<usize, PaymentError> {
    // Unsigned reservations; some of them are interactive payments.
    let candidates = payments_reserved(state, |s| *s == SpendState::Reserved).await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let payer = state.payer()?;
    let mut height = None;
    let mut expired = 0;
    for id in candidates {
        // A request working on this payment (a device submitting its signature) goes first.
        let Ok(_working) = InFlight::take(state, &id) else {
            continue;
        };
        let name = PaymentRecord::record_name(&id);
        let Some((version, record)) =
            records::read::<PaymentRecord>(&state.store, &state.state_key, &name).await?
        else {
            continue;
        };
        if !matches!(
            record.stage,
            Stage::RequiresSignature | Stage::ApprovalRequired
        ) {
            continue;
        }
        let observed = match height {
            Some(h) => h,
            None => {
                let h = payer
                    .rpc
                    .block_height()
                    .await
                    .map_err(PaymentError::Chain)?;
                *height.insert(h)
            }
        };
        if observed <= record.last_valid_block_height {
            continue;
        }
        // A transaction a quorum lists but none serves yet may be the device's copy: not yet.
        if reconcile_account(state, &record.session_key_id)
            .await?
            .unresolved
            > 0
        {
            continue;
        }
        let record = release(
            state,
            version,
            record,
            ReleaseProof::NeverSigned,
            Stage::Expired,
        )
        .await?;
        record_expiry(state, &record, observed).await?;
        tracing::info!(payment = %record.id, height = observed, "an interactive payment's blockhash expired unsigned; its reservation was released");
        expired += 1;
    }
    Ok(expired)
}
