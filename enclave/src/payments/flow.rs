//! `POST /v1/smart-payment`: build -> decide -> reserve and persist -> (release -> sign ->
//! wipe) -> record -> submit. Every step that matters is durable before the next begins, so
//! a crash anywhere leaves state a retry with the same idempotency key resumes from: the
//! message is fixed before the reservation, the reservation is tagged with the payment, and
//! the signature is recorded before it leaves the enclave. Re-signing the same message gives
//! the same signature, so a resumed payment can never become a second payment.

use aip_wire::payments::{PaymentAnswer, SmartPayment};
use solana_address::Address;
use zeroize::Zeroizing;

use super::account::Account;
use super::actor::Actor;
use super::error::PaymentError;
use super::fee_budget::FeeBudget;
use super::payer::Payer;
use super::record::{payment_id, request_sha256, save, PaymentRecord, Stage};
use super::settle::{finish_signed, release_unsigned};
use crate::api::state::ApiState;
use crate::policy::{Approval, SpendState, UnixSeconds};
use crate::solana::{Message, Signable, SigningKeypair, Transaction};
use crate::state::records;

/// Longest idempotency key and agent id accepted.
pub const MAX_ID_LEN: usize = 128;

/// Whether `text` is a usable identifier: 1..=128 printable ASCII characters.
pub fn valid_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_ID_LEN && text.bytes().all(|b| b.is_ascii_graphic())
}

pub fn payer(state: &ApiState) -> Result<&Payer, PaymentError> {
    state.payer.as_ref().ok_or(PaymentError::NotConfigured)
}

pub(super) fn now(state: &ApiState) -> UnixSeconds {
    UnixSeconds(i64::try_from(state.clock.now_unix_ms() / 1000).unwrap_or(i64::MAX))
}

/// Changes one account under its lock; persisted before it becomes visible.
pub(super) async fn update_account<T>(
    state: &ApiState,
    id: &str,
    change: impl FnOnce(&mut Account) -> Result<T, PaymentError>,
) -> Result<T, PaymentError> {
    state
        .accounts
        .update(&state.store, &state.state_key, id, change)
        .await
}

/// Holds a payment id while one request works on it; a concurrent retry is told to wait.
pub(super) struct InFlight<'a> {
    state: &'a ApiState,
    id: String,
}

impl<'a> InFlight<'a> {
    pub(super) fn take(state: &'a ApiState, id: &str) -> Result<Self, PaymentError> {
        let mut set = state
            .in_flight
            .lock()
            .map_err(|_| PaymentError::Internal("the in-flight set is unavailable"))?;
        if !set.insert(id.to_owned()) {
            return Err(PaymentError::InProgress(id.to_owned()));
        }
        Ok(Self {
            state,
            id: id.to_owned(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.state.in_flight.lock() {
            set.remove(&self.id);
        }
    }
}

/// The outcome of a smart payment: an answer, or a refusal whose record is kept so a retry
/// is refused the same way.
pub async fn smart_payment(
    state: &ApiState,
    actor: Actor<'_>,
    request: SmartPayment,
) -> Result<PaymentAnswer, PaymentError> {
    let caller = actor.key_id;
    payer(state)?;
    if !state.reconciled.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(PaymentError::NotReconciled);
    }
    if !valid_id(&request.idempotency_key) || !valid_id(&request.agent_id) {
        return Err(PaymentError::Invalid(
            "idempotency_key and agent_id must be 1..128 printable ASCII characters".into(),
        ));
    }
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
                Stage::ApprovalRequired
                | Stage::RequiresSignature
                | Stage::Submitted
                | Stage::Confirmed
                | Stage::FailedOnChain
                | Stage::Expired => return Ok(record.answer()),
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

fn denied_again(record: &PaymentRecord) -> PaymentError {
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
    Signable::new(message)
        .map_err(|_| PaymentError::Internal("a stored payment message is refused"))
}

enum Reserved {
    Autonomous,
    Interactive,
}

/// Decides and reserves under the account's lock, then signs autonomously or hands the
/// message to the device.
pub(super) async fn reserve_and_continue(
    state: &ApiState,
    version: u64,
    mut record: PaymentRecord,
    signable: &Signable,
    approval: Approval,
) -> Result<PaymentAnswer, PaymentError> {
    let at = now(state);
    let (id, agent, amount) = (record.id.clone(), record.agent_id.clone(), record.amount);
    // Gasless: the fee payer's daily budget is checked and the reservation made under one
    // lock, so concurrent payments cannot overdraw it.
    let budget = match record.service_fee_payer {
        true => Some(FeeBudget::hold(state, at).await?),
        false => None,
    };
    let reserved = update_account(state, &record.session_key_id, |account| {
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
            record.autonomous = true;
            let version = save(state, version, &record).await?;
            sign_autonomously(state, version, record).await
        }
        Ok(Reserved::Interactive) => {
            record.stage = Stage::RequiresSignature;
            save(state, version, &record).await?;
            Ok(record.answer())
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
async fn resume(
    state: &ApiState,
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

/// Obtains the session key from Lit, checks it is this session's, signs, wipes it.
async fn sign_autonomously(
    state: &ApiState,
    version: u64,
    record: PaymentRecord,
) -> Result<PaymentAnswer, PaymentError> {
    let payer = payer(state)?;
    let account = state.accounts.get(&record.session_key_id).await?;
    let Some(delegation) = account.delegation.clone() else {
        release_unsigned(state, version, record).await?;
        return Err(PaymentError::Delegation(
            "autonomy was disabled while this payment was in flight; nothing was signed".into(),
        ));
    };
    let started = std::time::Instant::now();
    let released = payer
        .lit
        .release(
            &payer.me,
            &delegation.ciphertext,
            &delegation.data_to_encrypt_hash,
        )
        .await;
    state.metrics.observe_lit(started.elapsed());
    let plaintext = match released {
        Ok((plaintext, tally)) => {
            if tally.subset_checks > 1 || tally.invalid > 0 {
                tracing::warn!(payment = %record.id, invalid = tally.invalid, combinations = tally.subset_checks, "a Lit node's share did not combine: excluded, released with the others");
            }
            plaintext
        }
        Err(error) => {
            tracing::warn!(payment = %record.id, error = %aip_wire::process::error_chain(&error), "session key release failed");
            release_unsigned(state, version, record).await?;
            return Err(PaymentError::Lit(error));
        }
    };
    let mut tx = Transaction::unsigned(signable_of(&record)?.into_message());
    let fee_payer = record.service_fee_payer.then_some(&payer.fee_payer);
    // Synchronous: the key exists only inside this call, never in this future's state.
    let signed = sign_released(plaintext, &account.public_key, &mut tx, fee_payer);
    crate::wipe::scrub_stack();
    if let Err(error) = signed {
        release_unsigned(state, version, record).await?;
        return Err(error);
    }
    finish_signed(state, version, record, tx).await
}

/// The session's keypair from a released plaintext, if it is the 32-byte seed of `expected`.
/// The plaintext and the seed are wiped on return.
pub(super) fn session_keypair(
    plaintext: Zeroizing<Vec<u8>>,
    expected: &Address,
) -> Option<SigningKeypair> {
    if plaintext.len() != 32 {
        return None;
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&plaintext);
    drop(plaintext);
    let keypair = SigningKeypair::from_seed(&seed);
    (keypair.address() == *expected).then_some(keypair)
}

/// Signs `tx` with the session key in `plaintext` (and the fee payer), then wipes the key.
/// Kept synchronous so the key never lives in an async task's (heap) state.
fn sign_released(
    plaintext: Zeroizing<Vec<u8>>,
    expected: &Address,
    tx: &mut Transaction,
    fee_payer: Option<&SigningKeypair>,
) -> Result<(), PaymentError> {
    let keypair = session_keypair(plaintext, expected).ok_or_else(|| {
        PaymentError::Delegation(
            "the delegated ciphertext does not hold this session's key; nothing was signed".into(),
        )
    })?;
    sign_with(tx, &keypair, fee_payer)
}

fn sign_with(
    tx: &mut Transaction,
    session: &SigningKeypair,
    fee_payer: Option<&SigningKeypair>,
) -> Result<(), PaymentError> {
    if let Some(fee_payer) = fee_payer {
        fee_payer
            .sign_transaction(tx)
            .map_err(|_| PaymentError::Internal("the fee payer is not a signer of the message"))?;
    }
    session
        .sign_transaction(tx)
        .map_err(|_| PaymentError::Internal("the session key is not a signer of the message"))
}
