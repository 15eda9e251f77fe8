//! Signed payments followed until the chain settles them (docs/design.md, "Keys and flows").
//!
//! A signed payment counts against the caps until there is proof it moved no money. Every few
//! seconds each signed, unsettled reservation is looked up on a quorum of RPC endpoints:
//! landed -> confirmed; absent while the cluster's block height has not passed the
//! transaction's last valid block height -> sent again (a dropped transaction can still land);
//! absent once the height is past it -> it can never land, and only then is the reservation
//! released (`ReleaseProof::ExpiredUnlanded`, checked against the reservation's own height).
//! No quorum -> nothing changes. Interactive payments nobody signed in time expire the same
//! way (`interactive_expiry`). The last valid height is the transaction's own blockhash's
//! for a payment the service built, and for a caller's transaction the newest blockhash's
//! when it was accepted (never earlier than its own).

use serde_json::json;

use super::context::InFlight;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::keys::record as ledger_record;
use super::record::{save, PaymentRecord, Stage};
use super::settle::{confirm, release};
use crate::chain::{Cosigned, LandedStatus, Span};
use crate::policy::{ReleaseProof, SpendState};
use crate::state::records;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub confirmed: usize,
    pub resent: usize,
    pub expired: usize,
}

/// The payments whose reservation (in the key's usage) is in a state `wanted` accepts.
pub(super) async fn payments_reserved(
    state: &PaymentContext,
    wanted: impl Fn(&SpendState) -> bool,
) -> Result<Vec<String>, PaymentError> {
    let mut payments = Vec::new();
    state
        .accounts
        .visit(|account| {
            payments.extend(
                account
                    .key_usage
                    .records()
                    .iter()
                    .filter(|r| wanted(&r.state))
                    .filter_map(|r| r.payment.clone()),
            );
        })
        .await?;
    Ok(payments)
}

/// Settles what the chain allows.
pub async fn track_all(state: &PaymentContext) -> Result<Round, PaymentError> {
    let mut round = Round::default();
    // Signed and unsettled.
    let signed = payments_reserved(state, |s| matches!(s, SpendState::Signed { .. })).await?;
    for id in signed {
        // A request working on this payment settles it itself.
        let Ok(_working) = InFlight::take(state, &id) else {
            continue;
        };
        match track(state, &id).await {
            Ok(Some(Settled::Confirmed)) => round.confirmed += 1,
            Ok(Some(Settled::Resent)) => round.resent += 1,
            Ok(Some(Settled::Expired)) => round.expired += 1,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(payment = %id, error = %aip_wire::process::error_chain(&error), "following a signed payment failed; retrying next round");
            }
        }
    }
    round.expired += super::interactive_expiry::expire_interactive(state).await?;
    Ok(round)
}

enum Settled {
    Confirmed,
    Resent,
    Expired,
}

async fn track(state: &PaymentContext, id: &str) -> Result<Option<Settled>, PaymentError> {
    let payer = state.payer()?;
    let name = PaymentRecord::record_name(id);
    let Some((version, mut record)) =
        records::read::<PaymentRecord>(&state.store, &state.state_key, &name).await?
    else {
        return Err(PaymentError::Internal(
            "a signed reservation has no payment record",
        ));
    };
    let signed = record.signed.clone().ok_or(PaymentError::Internal(
        "a signed reservation's payment has no signature",
    ))?;
    if record.x402.is_some() {
        return track_x402(state, version, record, &signed).await;
    }
    match payer
        .rpc
        .status(&signed.signature)
        .await
        .map_err(PaymentError::Chain)?
    {
        LandedStatus::Landed { err, .. } => {
            // A transaction that landed and failed moved no tokens but spent its fees; it
            // stays counted (it can never land again, and counting errs towards refusing).
            confirm(state, &record).await?;
            record.stage = if err.is_none() {
                Stage::Confirmed
            } else {
                Stage::FailedOnChain
            };
            save(state, version, &record).await?;
            Ok(Some(Settled::Confirmed))
        }
        LandedStatus::Absent => {
            let height = payer
                .rpc
                .block_height()
                .await
                .map_err(PaymentError::Chain)?;
            if height <= record.last_valid_block_height {
                let bytes = record.signed_transaction_bytes()?;
                payer.rpc.send(&bytes).await.map_err(PaymentError::Chain)?;
                if record.stage == Stage::Signed {
                    record.stage = Stage::Submitted;
                    save(state, version, &record).await?;
                }
                return Ok(Some(Settled::Resent));
            }
            expire(state, version, record, height).await?;
            Ok(Some(Settled::Expired))
        }
    }
}

/// How far before its signing an x402 payment's landing is looked for: the enclave's clock and
/// the cluster's block times need not agree to the second.
const CLOCK_MARGIN_SECONDS: i64 = 300;

/// An x402 payment: the facilitator submits it under its own signature, so the chain is asked
/// for the transaction that carries the payer's (`RpcQuorum::cosigned`). Nothing is ever
/// re-sent (the enclave cannot: the facilitator's signature is missing). Released only when
/// the block height, read before the history, is past the transaction's last valid height
/// and the history has no such transaction.
async fn track_x402(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
    signed: &super::record::SignedPart,
) -> Result<Option<Settled>, PaymentError> {
    let payer = state.payer()?;
    let height = payer
        .rpc
        .block_height()
        .await
        .map_err(PaymentError::Chain)?;
    let account = state.accounts.get(&record.session_key_id).await?;
    // The payer's own signature is among them: it is no transaction's id, so it skips nothing.
    let known = account.known_signatures();
    let signed_at = i64::try_from(signed.receipt.receipt.at_ms / 1000).unwrap_or(i64::MAX);
    let span = Span {
        cutoff: signed_at.saturating_sub(CLOCK_MARGIN_SECONDS),
        now: state.now().0.saturating_add(CLOCK_MARGIN_SECONDS),
    };
    let found = payer
        .rpc
        .cosigned(
            &account.public_key.to_string(),
            span,
            &signed.signature,
            &known,
        )
        .await
        .map_err(PaymentError::Chain)?;
    match found {
        Cosigned::Landed { id, failed } => {
            confirm(state, &record).await?;
            record.stage = if failed.is_none() {
                Stage::Confirmed
            } else {
                Stage::FailedOnChain
            };
            if let Some(part) = record.x402.as_mut() {
                part.landed_as = Some(id);
            }
            save(state, version, &record).await?;
            Ok(Some(Settled::Confirmed))
        }
        Cosigned::Absent if height > record.last_valid_block_height => {
            expire(state, version, record, height).await?;
            Ok(Some(Settled::Expired))
        }
        // The facilitator may still submit it.
        Cosigned::Absent => Ok(None),
    }
}

/// The transaction can never land: its reservation is released with the proof (the usage
/// refuses it if the height does not prove expiry), the delegation's commitment returns.
async fn expire(
    state: &PaymentContext,
    version: u64,
    record: PaymentRecord,
    height: u64,
) -> Result<(), PaymentError> {
    let proof = ReleaseProof::ExpiredUnlanded {
        observed_block_height: height,
    };
    let record = release(state, version, record, proof, Stage::Expired).await?;
    record_expiry(state, &record, height).await?;
    tracing::info!(payment = %record.id, height, "a signed payment expired unlanded; its reservation was released");
    Ok(())
}

/// The ledger entry of an expired payment (its signature, if the signer made one).
pub(super) async fn record_expiry(
    state: &PaymentContext,
    record: &PaymentRecord,
    observed_block_height: u64,
) -> Result<(), PaymentError> {
    ledger_record(
        state,
        "payment_expired",
        json!({
            "payment_id": record.id,
            "session_key_id": record.session_key_id,
            "agent_id": record.agent_id,
            "amount": record.amount,
            "signature": record.signed.as_ref().map(|s| s.signature.clone()),
            "last_valid_block_height": record.last_valid_block_height,
            "observed_block_height": observed_block_height,
        }),
    )
    .await
}

/// Follows signed payments every `every`, for as long as the enclave serves.
pub async fn keep_tracked(state: std::sync::Arc<PaymentContext>, every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        match track_all(&state).await {
            Ok(round) if round != Round::default() => {
                tracing::info!(
                    confirmed = round.confirmed,
                    resent = round.resent,
                    expired = round.expired,
                    "signed payments followed"
                );
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %aip_wire::process::error_chain(&error), "following signed payments failed");
            }
        }
    }
}
