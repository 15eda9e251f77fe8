//! The device's part in a payment: signing the message the enclave fixed
//! (`submit-signed`), and approving a payment above the approval threshold.

use aip_wire::payments::{approval_digest, approval_message, Approve, PaymentAnswer, SubmitSigned};
use base64::Engine as _;

use super::context::InFlight;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::flow::{reserve_and_continue, signable_of};
use super::record::{PaymentRecord, Stage};
use super::settle::finish_signed;
use crate::policy::Approval;
use crate::solana::{check_signatures, SignatureState, Transaction};
use crate::state::records;

pub use super::actor::Actor;

/// The payment, if `actor` asked for it (or holds `full`); another key's payment is
/// reported as unknown, so ids cannot be probed.
async fn load(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
) -> Result<(u64, PaymentRecord), PaymentError> {
    records::read::<PaymentRecord>(
        &state.store,
        &state.state_key,
        &PaymentRecord::record_name(id),
    )
    .await?
    .filter(|(_, record)| actor.full || record.caller == actor.key_id)
    .ok_or_else(|| PaymentError::UnknownPayment(id.to_owned()))
}

/// Accepts the device's signature on exactly the reserved message, adds the service fee
/// payer's if it pays, records and submits.
pub async fn submit_signed(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
    request: SubmitSigned,
) -> Result<PaymentAnswer, PaymentError> {
    let payer = state.payer()?;
    let _in_flight = InFlight::take(state, id)?;
    let (version, record) = load(state, actor, id).await?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&request.transaction)
        .map_err(|_| PaymentError::Invalid("transaction is not base64".into()))?;
    let mut tx = Transaction::from_bytes(&bytes)
        .map_err(|e| PaymentError::Invalid(format!("transaction: {e}")))?;
    let reserved = record.message_bytes().ok_or(PaymentError::Internal(
        "a stored payment message is not base64",
    ))?;
    if tx.message.to_bytes() != reserved {
        return Err(PaymentError::TransactionChanged(
            "the signed message is not the one reserved for this payment; nothing was submitted"
                .into(),
        ));
    }
    match record.stage {
        Stage::RequiresSignature => {}
        Stage::Signed | Stage::Submitted | Stage::Confirmed => return Ok(record.answer()),
        other => {
            return Err(PaymentError::Invalid(format!(
                "payment {id} is {other:?}, not waiting for a device signature"
            )))
        }
    }
    let account = state.accounts.get(&record.session_key_id).await?;
    if record.service_fee_payer {
        payer
            .fee_payer
            .sign_transaction(&mut tx)
            .map_err(|_| PaymentError::Internal("the fee payer is not a signer"))?;
    }
    for check in check_signatures(&tx) {
        if check.state != SignatureState::Valid {
            let who = if check.signer == account.public_key {
                "the session key"
            } else {
                "a signer"
            };
            return Err(PaymentError::BadSignature(format!(
                "{who} ({}) has not validly signed the transaction",
                check.signer
            )));
        }
    }
    finish_signed(state, version, record, tx).await
}

/// Checks the user's approval of this exact message, then reserves (the policy decides
/// again, approval given) and continues as any payment.
pub async fn approve(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
    request: Approve,
) -> Result<PaymentAnswer, PaymentError> {
    state.payer()?;
    let _in_flight = InFlight::take(state, id)?;
    let (version, mut record) = load(state, actor, id).await?;
    if record.stage != Stage::ApprovalRequired {
        return Err(PaymentError::Invalid(format!(
            "payment {id} is {:?}, not waiting for approval",
            record.stage
        )));
    }
    let account = state.accounts.get(&record.session_key_id).await?;
    let message = record.message_bytes().ok_or(PaymentError::Internal(
        "a stored payment message is not base64",
    ))?;
    let approval = approval_message(&approval_digest(&message));
    super::keys::verify_signature(
        &account.public_key,
        approval.as_bytes(),
        &request.signature,
        "the approval signature",
    )?;
    let signable = signable_of(&record)?;
    record.stage = Stage::Pending;
    reserve_and_continue(state, version, record, &signable, Approval::Approved).await
}

/// A payment's current answer.
pub async fn status(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
) -> Result<PaymentAnswer, PaymentError> {
    let (version, record) = load(state, actor, id).await?;
    Ok(super::settle::finish_released(state, version, record)
        .await?
        .answer())
}
