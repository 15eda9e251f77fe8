//! `POST /v1/smart-payment`: build -> decide -> reserve and persist -> (release -> sign ->
//! wipe) -> record -> submit. Every step that matters is durable before the next begins, so
//! a crash anywhere leaves state a retry with the same idempotency key resumes from: the
//! message is fixed before the reservation, the reservation is tagged with the payment, and
//! the signature is recorded before it leaves the enclave. Re-signing the same message gives
//! the same signature, so a resumed payment can never become a second payment.

use aip_wire::payments::{PaymentAnswer, SmartPayment};

use super::account::Account;
use super::actor::Actor;
use super::context::InFlight;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::fee_budget::FeeBudget;
use super::record::{payment_id, request_sha256, save, PaymentRecord, Stage};
use super::release_batch::{release_and_sign, ReleasedSignError, ToSign};
use super::settle::{finish_signed, release_unsigned};
use crate::policy::{Approval, SpendState};
use crate::solana::{Message, Signable, Transaction};
use crate::state::records;

/// Longest idempotency key and agent id accepted.
pub const MAX_ID_LEN: usize = 128;

/// Whether `text` is a usable identifier: 1..=128 printable ASCII characters.
pub fn valid_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_ID_LEN && text.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether the enclave may take a payment request now (it pays, and usage was reconciled with
/// the chain since it started) and its ids are usable: the checks every payment path starts
/// with (smart payments, their dry runs, x402).
pub(super) fn admit(
    state: &PaymentContext,
    idempotency_key: &str,
    agent_id: &str,
) -> Result<(), PaymentError> {
    state.payer()?;
    if !state.reconciled() {
        return Err(PaymentError::NotReconciled);
    }
    if !valid_id(idempotency_key) || !valid_id(agent_id) {
        return Err(PaymentError::Invalid(
            "idempotency_key and agent_id must be 1..128 printable ASCII characters".into(),
        ));
    }
    Ok(())
}

/// The outcome of a smart payment: an answer, or a refusal whose record is kept so a retry
/// is refused the same way.
pub async fn smart_payment(
    state: &PaymentContext,
    actor: Actor<'_>,
    request: SmartPayment,
) -> Result<PaymentAnswer, PaymentError> {
    let caller = actor.key_id;
    admit(state, &request.idempotency_key, &request.agent_id)?;
    let id = payment_id(caller, &request.idempotency_key);
    let _in_flight = InFlight::take(state, &id)?;
    let sha = request_sha256(&request);
    let name = PaymentRecord::record_name(&id);
    let existing: Option<(u64, PaymentRecord)> =
        records::read(&state.store, &state.state_key, &name).await?;
    let expected = match existing {
        Some((version, record)) => {
            if record.request_sha256 != sha {
                return Err(PaymentError::IdempotencyConflict(request.idempotency_key));
            }
            match record.stage {
                Stage::Denied => return Err(denied_again(&record)),
                Stage::ApprovalRequired | Stage::RequiresSignature | Stage::Submitted => {
                    let record = super::settle::finish_released(state, version, record).await?;
                    return Ok(record.answer());
                }
                Stage::Confirmed | Stage::FailedOnChain | Stage::Expired => {
                    return Ok(record.answer())
                }
                Stage::Signed => return super::settle::submit(state, version, record).await,
                Stage::Pending => return resume(state, version, record).await,
                Stage::Aborted => Some(version),
            }
        }
        None => None,
    };
    let (record, signable) = super::transaction::build(state, actor, &id, &sha, &request).await?;
    let version = records::write(&state.store, &state.state_key, &name, expected, &record).await?;
    reserve_and_continue(state, version, record, &signable, Approval::None).await
}

pub(super) fn denied_again(record: &PaymentRecord) -> PaymentError {
    match &record.denial {
        Some(denial) => PaymentError::Denied(denial.clone()),
        None => PaymentError::Internal("a denied payment record has no denial"),
    }
}

/// The decoded, explained message of a stored record.
pub(super) fn signable_of(record: &PaymentRecord) -> Result<Signable, PaymentError> {
    let bytes = record.message_bytes().ok_or(PaymentError::Internal(
        "a stored payment message is not base64",
    ))?;
    let message = Message::from_bytes(&bytes)
        .map_err(|_| PaymentError::Internal("a stored payment message does not decode"))?;
    let signable = Signable::new(message)
        .map_err(|_| PaymentError::Internal("a stored payment message is refused"))?;
    match &record.x402 {
        // Its fee payer is the facilitator, declared as when it was built.
        Some(x402) => {
            let sponsor = x402
                .fee_payer
                .parse()
                .map_err(|_| PaymentError::Internal("a stored fee payer is not an address"))?;
            signable
                .sponsored_by(sponsor)
                .map_err(|_| PaymentError::Internal("a stored x402 message is not sponsored"))
        }
        None => Ok(signable),
    }
}

enum Reserved {
    Autonomous,
    Interactive,
}

/// Decides and reserves under the account's lock, then signs autonomously or hands the
/// message to the device.
pub(super) async fn reserve_and_continue(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
    signable: &Signable,
    approval: Approval,
) -> Result<PaymentAnswer, PaymentError> {
    let at = state.now();
    let (id, agent, amount) = (record.id.clone(), record.agent_id.clone(), record.amount);
    // Gasless: the fee payer's daily budget is checked and the reservation made under one
    // lock, so concurrent payments cannot overdraw it.
    let budget = match record.service_fee_payer {
        true => Some(FeeBudget::hold(state, at).await?),
        false => None,
    };
    let reserved = state
        .update_account(&record.session_key_id, |account| {
            let autonomous = account.autonomy_for(amount, at).is_some();
            account.reserve(&agent, signable, at, approval, &id)?;
            if let Some(budget) = &budget {
                budget.check(account, &id)?;
            }
            if autonomous {
                if let Some(delegation) = account.delegation.as_mut() {
                    delegation.committed = delegation.committed.saturating_add(amount);
                    delegation.in_flight.insert(id.clone());
                }
                Ok(Reserved::Autonomous)
            } else {
                Ok(Reserved::Interactive)
            }
        })
        .await;
    drop(budget);
    match reserved {
        Ok(Reserved::Autonomous) => {
            // Not saved here: the account write that made the reservation put the payment in
            // the delegation's in-flight set, which is what a resumed payment goes by; the
            // flag is stored with the signature (a write per payment fewer).
            record.autonomous = true;
            sign_autonomously(state, version, record).await
        }
        // An x402 payment answers a request in flight: it cannot wait for the device.
        Ok(Reserved::Interactive) if record.x402.is_some() => {
            release_unsigned(state, version, record).await?;
            Err(PaymentError::X402NeedsAutonomy(
                "this session key has no autonomy left for this amount; an x402 payment cannot wait for the device to sign".into(),
            ))
        }
        Ok(Reserved::Interactive) => {
            record.stage = Stage::RequiresSignature;
            save(state, version, &record).await?;
            Ok(record.answer())
        }
        Err(PaymentError::ApprovalNeeded { threshold }) if record.x402.is_some() => {
            record.stage = Stage::Aborted;
            save(state, version, &record).await?;
            Err(PaymentError::X402NeedsAutonomy(format!(
                "the amount is above the intent's approval threshold of {threshold}; an x402 payment cannot wait for the user's approval"
            )))
        }
        Err(PaymentError::ApprovalNeeded { .. }) => {
            record.stage = Stage::ApprovalRequired;
            save(state, version, &record).await?;
            Ok(record.answer())
        }
        Err(PaymentError::Denied(denial)) => {
            state.metrics.count_denial(denial.rule.as_str());
            record.stage = Stage::Denied;
            record.denial = Some(denial.clone());
            save(state, version, &record).await?;
            Err(PaymentError::Denied(denial))
        }
        Err(other) => Err(other),
    }
}

/// Continues a payment whose record is `Pending` (the enclave stopped mid-payment).
pub(super) async fn resume(
    state: &PaymentContext,
    version: u64,
    mut record: PaymentRecord,
) -> Result<PaymentAnswer, PaymentError> {
    let account = state.accounts.get(&record.session_key_id).await?;
    let reservation = account
        .sessions
        .get(&record.agent_id)
        .and_then(|s| s.state.usage.for_payment(&record.id))
        .map(|r| r.state.clone());
    let signable = signable_of(&record)?;
    match reservation {
        None => reserve_and_continue(state, version, record, &signable, Approval::None).await,
        Some(SpendState::Released { .. }) => {
            record.stage = Stage::Aborted;
            save(state, version, &record).await?;
            Err(PaymentError::Invalid(
                "the reservation for this payment was released (the session key was revoked); nothing was signed".into(),
            ))
        }
        Some(_) if record.autonomous || autonomous_in_flight(&account, &record.id) => {
            record.autonomous = true;
            sign_autonomously(state, version, record).await
        }
        Some(_) => {
            record.stage = Stage::RequiresSignature;
            save(state, version, &record).await?;
            Ok(record.answer())
        }
    }
}

fn autonomous_in_flight(account: &Account, id: &str) -> bool {
    account
        .delegation
        .as_ref()
        .is_some_and(|d| d.in_flight.contains(id))
}

/// Obtains the session key from Lit (in a release of its own, or one it shares with the
/// key's other payments in flight: `release_batch`), checks it is this session's, signs,
/// wipes it.
async fn sign_autonomously(
    state: &PaymentContext,
    version: u64,
    record: PaymentRecord,
) -> Result<PaymentAnswer, PaymentError> {
    let payer = state.payer()?;
    let account = state.accounts.get(&record.session_key_id).await?;
    let Some(delegation) = account.delegation.clone() else {
        release_unsigned(state, version, record).await?;
        return Err(PaymentError::Delegation(
            "autonomy was disabled while this payment was in flight; nothing was signed".into(),
        ));
    };
    let tx = Transaction::unsigned(signable_of(&record)?.into_message());
    let signed = release_and_sign(
        payer,
        &state.metrics,
        ToSign {
            payment: &record.id,
            session_key_id: &record.session_key_id,
            public_key: &account.public_key,
            ciphertext: &delegation.ciphertext,
            data_hash: &delegation.data_to_encrypt_hash,
            tx,
            fee_payer_signs: record.service_fee_payer,
        },
    )
    .await;
    let tx = match signed {
        Ok(tx) => tx,
        Err(error) => {
            let error = match error {
                ReleasedSignError::Release(error) => {
                    tracing::warn!(payment = %record.id, error = %aip_wire::process::error_chain(&*error), "session key release failed");
                    PaymentError::Lit(error)
                }
                ReleasedSignError::Key(error) => PaymentError::Delegation(format!(
                    "the delegated ciphertext does not hold this session's key ({error}); nothing was signed"
                )),
                ReleasedSignError::Sign(_) => PaymentError::Internal(
                    "the session key or fee payer is not a signer of the message",
                ),
            };
            release_unsigned(state, version, record).await?;
            return Err(error);
        }
    };
    finish_signed(state, version, record, tx).await
}
