//! After the signature: record it before it leaves (reservation -> signed, ledger entry,
//! receipt), submit, confirm; or, when nothing was signed, release the reservation.

use aip_wire::payments::{PaymentAnswer, Receipt};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::context::PaymentContext;
use super::error::PaymentError;
use super::record::{save, PaymentRecord, SignedPart, Stage};
use crate::chain::LandedStatus;
use crate::policy::{Denial, ReleaseProof, Rule, SpendState, UsageError};
use crate::solana::Transaction;
use crate::state::records::{self, RecordError};

/// Releases the payment's reservation (nothing was signed) and marks the payment aborted, so
/// a retry starts over.
pub(super) async fn release_unsigned(
    state: &PaymentContext,
    version: u64,
    record: PaymentRecord,
) -> Result<(), PaymentError> {
    release(
        state,
        version,
        record,
        ReleaseProof::NeverSigned,
        Stage::Aborted,
    )
    .await
    .map(drop)
}

/// Releases the payment's reservation on `proof` (the usage refuses a proof that does not
/// hold for the reservation's state), returns its amount to the delegation if it was an
/// autonomous payment in flight, and moves the payment to `stage`.
pub(super) async fn release(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
    proof: ReleaseProof,
    stage: Stage,
) -> Result<PaymentRecord, PaymentError> {
    let (id, agent, amount) = (record.id.clone(), record.agent_id.clone(), record.amount);
    state
        .update_account(&record.session_key_id, |account| {
            account.with_reservations(&agent, &id, |usage, reservation| {
                match usage.release(reservation, proof.clone()) {
                    Ok(()) | Err(UsageError::AlreadyReleased(_)) => Ok(()),
                    Err(_) => Err(PaymentError::Internal(
                        "the proof does not release this reservation (a signed one needs its expiry)",
                    )),
                }
            })?;
            if let Some(delegation) = account.delegation.as_mut() {
                if delegation.in_flight.remove(&id) {
                    delegation.committed = delegation.committed.saturating_sub(amount);
                }
            }
            Ok(())
        })
        .await?;
    record.stage = stage;
    save(state, version, &record).await?;
    Ok(record)
}

/// A record still waiting (for a signature, an approval, the chain) whose reservation was
/// already released: the enclave stopped between the two writes of [`release`] (the account,
/// then the payment). Only an expiry releases a waiting payment's reservation without moving
/// it on itself (revocation releases unsigned ones), so it is moved to `Expired` now, on
/// read, and its answer tells the truth. Anything else is returned as it is.
pub(super) async fn finish_released(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
) -> Result<PaymentRecord, PaymentError> {
    if !matches!(
        record.stage,
        Stage::RequiresSignature | Stage::ApprovalRequired | Stage::Signed | Stage::Submitted
    ) {
        return Ok(record);
    }
    let account = state.accounts.get(&record.session_key_id).await?;
    let released = account
        .sessions
        .get(&record.agent_id)
        .and_then(|s| s.state.usage.for_payment(&record.id))
        .is_some_and(|r| matches!(r.state, SpendState::Released { .. }));
    if !released {
        return Ok(record);
    }
    record.stage = Stage::Expired;
    let name = PaymentRecord::record_name(&record.id);
    match records::write(
        &state.store,
        &state.state_key,
        &name,
        Some(version),
        &record,
    )
    .await
    {
        Ok(_) => {
            tracing::info!(payment = %record.id, "a payment whose reservation was released is marked expired");
            Ok(record)
        }
        // Moved on meanwhile (the expiry that released it finished its second write, or
        // another read did this): what is stored now is the answer.
        Err(RecordError::Conflict { .. }) => super::record::stored(state, &name).await,
        Err(error) => Err(error.into()),
    }
}

/// Records the signature (refused if the reservation was released meanwhile), appends the
/// ledger entry, signs the receipt, stores the signed payment; then submits it.
pub(super) async fn finish_signed(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
    tx: Transaction,
) -> Result<PaymentAnswer, PaymentError> {
    let signature = followed_signature(&record, &tx)?;
    let (id, agent, last_valid) = (
        record.id.clone(),
        record.agent_id.clone(),
        record.last_valid_block_height,
    );
    let marked = state.update_account(&record.session_key_id, |account| {
            let session = account
                .sessions
                .get_mut(&agent)
                .ok_or(PaymentError::Internal("the payment's session vanished"))?;
            // The cluster runs a transaction once: the same signature for a second payment
            // would be reported paid without moving anything. The key's usage holds every
            // session's records; a copy of a payment the service built names that payment's
            // reference and was refused before this (`solana::foreign_payment_reference`).
            let duplicate = account.key_usage.records().iter().any(|r| {
                r.payment.as_deref() != Some(id.as_str())
                    && r.state.signature() == Some(signature.as_str())
            });
            if duplicate {
                return Err(PaymentError::TransactionChanged(
                    "this exact transaction was already signed for another payment; nothing was signed again".into(),
                ));
            }
            if session.state.usage.for_payment(&id).is_none() {
                return Err(PaymentError::Internal("the payment has no reservation"));
            }
            account
                .with_reservations(&agent, &id, |usage, reservation| {
                    match usage.get(reservation).map(|r| &r.state) {
                        Some(SpendState::Reserved) => usage
                            .mark_signed(reservation, signature.clone(), last_valid)
                            .map_err(|_| PaymentError::Internal("marking the reservation signed")),
                        Some(SpendState::Signed { signature: s, .. }) if *s == signature => Ok(()),
                        Some(SpendState::Released { .. }) => Err(PaymentError::Denied(Denial::because(Rule::Revoked, "the session key was revoked while this payment was in flight; the signature was discarded"))),
                        _ => Err(PaymentError::Internal(
                            "the reservation holds another signature",
                        )),
                    }
                })
                .map(|_| ())
        })
        .await;
    if let Err(PaymentError::TransactionChanged(reason)) = marked {
        release_unsigned(state, version, record).await?;
        return Err(PaymentError::TransactionChanged(reason));
    }
    marked?;
    let message = record.message_bytes().ok_or(PaymentError::Internal(
        "a stored payment message is not base64",
    ))?;
    let message_sha256 = hex::encode(Sha256::digest(&message));
    let entry = state
        .ledger
        .record(
            "payment_signed",
            &json!({
                "payment_id": record.id,
                "agent_id": record.agent_id,
                "session_key_id": record.session_key_id,
                "amount": record.amount,
                "mint": record.mint,
                "recipient": record.recipient,
                "recipient_token_account": record.recipient_token_account,
                "fee_lamports": record.fee_lamports,
                "fee_payer": match (&record.x402, record.service_fee_payer) {
                    (Some(_), _) => "facilitator",
                    (None, true) => "service",
                    (None, false) => "session",
                },
                "signature": signature,
                "message_sha256": message_sha256,
                "autonomous": record.autonomous,
                "x402": record.x402.as_ref().map(|x| json!({
                    "resource": x.resource_url,
                    "network": x.network,
                    "fee_payer": x.fee_payer,
                })),
            }),
        )
        .await?;
    state.analytics_entry(&entry);
    let receipt = state.ledger.sign_receipt(Receipt {
        payment_id: record.id.clone(),
        agent_id: record.agent_id.clone(),
        session_key_id: record.session_key_id.clone(),
        amount: record.amount,
        mint: record.mint.clone(),
        recipient: record.recipient.clone(),
        signature: signature.clone(),
        message_sha256,
        ledger_seq: entry.seq,
        at_ms: entry.at_ms,
    });
    record.stage = Stage::Signed;
    record.signed = Some(SignedPart {
        signature,
        transaction: base64::engine::general_purpose::STANDARD.encode(tx.to_bytes()),
        receipt,
    });
    let version = save(state, version, &record).await?;
    if record.x402.is_some() {
        // The facilitator signs and submits; `track` follows it on chain.
        return Ok(record.answer());
    }
    submit(state, version, record).await
}

/// The signature the payment is known by until it lands: the transaction's id (its first
/// signature), except for an x402 payment, whose first signature is the facilitator's (added
/// after this one): there it is the payer's own, which the landed transaction carries too.
fn followed_signature(record: &PaymentRecord, tx: &Transaction) -> Result<String, PaymentError> {
    let slot =
        match record.x402 {
            Some(_) if tx.message.header.num_required_signatures == 2 => 1,
            Some(_) => return Err(PaymentError::Internal(
                "an x402 transaction must have exactly the facilitator and the payer as signers",
            )),
            None => 0,
        };
    tx.signatures
        .get(slot)
        .map(|s| bs58::encode(s).into_string())
        .ok_or(PaymentError::Internal("a transaction without signatures"))
}

/// Sends the signed transaction; confirms if it landed.
///
/// Sent first and asked about only if no endpoint took it: a transaction signed a moment ago
/// cannot be on chain yet, and one a resumed payment had already sent is refused as already
/// processed (the cluster keeps one copy per signature) and then found landed. Asking first
/// cost every payment a quorum round.
pub(super) async fn submit(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
) -> Result<PaymentAnswer, PaymentError> {
    let payer = state.payer()?;
    let signed = record.signed.clone().ok_or(PaymentError::Internal(
        "a signed payment without its signature",
    ))?;
    let bytes = record.signed_transaction_bytes()?;
    if let Err(error) = payer.rpc.send(&bytes).await {
        let landed = matches!(
            payer.rpc.status(&signed.signature).await,
            Ok(LandedStatus::Landed { .. })
        );
        if !landed {
            tracing::warn!(payment = %record.id, error = %aip_wire::process::error_chain(&error), "submission failed; the payment stays signed and counted, and is sent again until it lands or expires");
            return Err(PaymentError::Chain(error));
        }
    }
    record.stage = Stage::Submitted;
    if let Ok(LandedStatus::Landed { err: None, .. }) = payer.rpc.status(&signed.signature).await {
        confirm(state, &record).await?;
        record.stage = Stage::Confirmed;
    }
    save(state, version, &record).await?;
    Ok(record.answer())
}

/// The chain has the payment: its reservation is confirmed, and it leaves the delegation's
/// in-flight set (its amount stays committed).
pub(super) async fn confirm(
    state: &PaymentContext,
    record: &PaymentRecord,
) -> Result<(), PaymentError> {
    let (id, agent) = (record.id.clone(), record.agent_id.clone());
    state
        .update_account(&record.session_key_id, |account| {
            account.with_reservations(&agent, &id, |usage, reservation| {
                usage
                    .confirm(reservation)
                    .map_err(|_| PaymentError::Internal("confirming the reservation"))
            })?;
            if let Some(delegation) = account.delegation.as_mut() {
                delegation.in_flight.remove(&id);
            }
            Ok(())
        })
        .await
}
