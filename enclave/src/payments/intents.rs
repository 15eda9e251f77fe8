//! Payment intents (AIP-1, Stripe-like): `POST /v1/payment-intents` fixes what will be paid
//! (amount, mint, the agent whose session pays, the wallet paid) and answers a client secret
//! once; `POST .../confirm` with that secret pays it through the same policy and flow as a
//! smart payment, from the customer's session key.
//!
//! The secret is single-use: the first confirmation binds the intent to the confirming API key
//! and session key, and only they may confirm again (a retry resumes the one payment, whose
//! idempotency key is the intent's). Only its SHA-256 is stored, compared in constant time;
//! it is never logged and shown only at creation. The status is derived from the payment's
//! record, so it cannot disagree with it.

use std::collections::BTreeMap;

use aip_wire::payments::{
    ConfirmPaymentIntent, CreatePaymentIntent, DenialView, PaymentIntentStatus, PaymentIntentView,
    SmartPayment,
};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::actor::Actor;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::flow::valid_id;
use super::keys::record as ledger_record;
use super::record::{denial_view, payment_id, PaymentRecord, Stage};
use crate::state::records::{self, RecordError};

/// Prefix of the intent records in the host's store.
const INTENT_PREFIX: &str = "payment-intents/";
const DEFAULT_EXPIRES_IN: u64 = 24 * 3600;
const MAX_EXPIRES_IN: u64 = 30 * 86_400;
const MAX_DESCRIPTION_BYTES: usize = 512;
const MAX_METADATA_ENTRIES: usize = 16;
const MAX_METADATA_KEY_BYTES: usize = 64;
const MAX_METADATA_VALUE_BYTES: usize = 256;

/// Why an intent cannot be acted on (each its own API code).
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    #[error("no payment intent {0}")]
    Unknown(String),
    #[error("the client secret does not match this payment intent")]
    SecretInvalid,
    #[error("this payment intent was confirmed by another API key or session key; its client secret is used")]
    SecretUsed,
    #[error("this payment intent was canceled")]
    Canceled,
    #[error("this payment intent expired before it was confirmed")]
    Expired,
    #[error("only a payment intent that requires payment can be canceled")]
    NotCancelable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentRecord {
    id: String,
    tenant: String,
    amount: u64,
    mint: String,
    agent_id: String,
    recipient: String,
    description: Option<String>,
    metadata: BTreeMap<String, String>,
    created_at: i64,
    expires_at: i64,
    /// Hex SHA-256 of the client secret.
    secret_sha256: String,
    canceled_at: Option<i64>,
    /// The API key and session key of the first confirmation.
    confirmed_by: Option<String>,
    session_key_id: Option<String>,
    payment_id: Option<String>,
}

fn record_name(id: &str) -> String {
    format!("{INTENT_PREFIX}{id}")
}

fn idempotency_key(intent: &str) -> String {
    format!("intent-{intent}")
}

pub async fn create(
    state: &PaymentContext,
    actor: Actor<'_>,
    request: CreatePaymentIntent,
) -> Result<PaymentIntentView, PaymentError> {
    let payer = state.payer()?;
    let invalid = |m: &str| PaymentError::Invalid(m.to_owned());
    if request.amount == 0 {
        return Err(invalid("amount must be greater than zero"));
    }
    if !valid_id(&request.agent_id) {
        return Err(invalid(
            "agent_id must be 1..128 printable ASCII characters",
        ));
    }
    request
        .recipient
        .parse::<solana_address::Address>()
        .map_err(|_| invalid("recipient is not a base58 address"))?;
    let mint = match &request.mint {
        None => payer
            .usdc_mints
            .first()
            .map(ToString::to_string)
            .ok_or(PaymentError::NotConfigured)?,
        Some(mint) if payer.usdc_mints.iter().any(|m| m.to_string() == *mint) => mint.clone(),
        Some(_) => return Err(invalid("mint is not one of this signer's USDC mints")),
    };
    if request
        .description
        .as_ref()
        .is_some_and(|d| d.len() > MAX_DESCRIPTION_BYTES)
    {
        return Err(invalid("description is longer than 512 bytes"));
    }
    let metadata = request.metadata.unwrap_or_default();
    if metadata.len() > MAX_METADATA_ENTRIES
        || metadata.iter().any(|(k, v)| {
            k.is_empty() || k.len() > MAX_METADATA_KEY_BYTES || v.len() > MAX_METADATA_VALUE_BYTES
        })
    {
        return Err(invalid(
            "metadata holds at most 16 entries, keys of 1 to 64 bytes, values of at most 256",
        ));
    }
    let expires_in = request.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    if !(60..=MAX_EXPIRES_IN).contains(&expires_in) {
        return Err(invalid("expires_in must be 60 seconds to 30 days"));
    }
    let now = state.now().0;
    let mut random = [0u8; 44];
    OsRng.fill_bytes(&mut random);
    let id = format!("pi_{}", hex::encode(&random[..12]));
    let secret = zeroize::Zeroizing::new(format!("{id}_secret_{}", hex::encode(&random[12..])));
    zeroize::Zeroize::zeroize(&mut random);
    let record = IntentRecord {
        id: id.clone(),
        tenant: actor.tenant.to_owned(),
        amount: request.amount,
        mint,
        agent_id: request.agent_id,
        recipient: request.recipient,
        description: request.description,
        metadata,
        created_at: now,
        expires_at: now.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX)),
        secret_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        canceled_at: None,
        confirmed_by: None,
        session_key_id: None,
        payment_id: None,
    };
    records::write(
        &state.store,
        &state.state_key,
        &record_name(&id),
        None,
        &record,
    )
    .await?;
    ledger_record(
        state,
        "payment_intent_created",
        json!({
            "intent_id": id,
            "tenant": record.tenant,
            "agent_id": record.agent_id,
            "amount": record.amount,
            "mint": record.mint,
            "recipient": record.recipient,
            "expires_at": record.expires_at,
        }),
    )
    .await?;
    let mut view = view(state, &record).await?;
    view.client_secret = Some(secret.to_string());
    Ok(view)
}

pub async fn get(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
) -> Result<PaymentIntentView, PaymentError> {
    let (_, record) = read(state, actor, id).await?;
    view(state, &record).await
}

pub async fn cancel(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
) -> Result<PaymentIntentView, PaymentError> {
    let (version, mut record) = read(state, actor, id).await?;
    if record.canceled_at.is_none() {
        if record.confirmed_by.is_some() {
            return Err(PaymentError::Intent(IntentError::NotCancelable));
        }
        record.canceled_at = Some(state.now().0);
        write(state, version, &record).await?;
        ledger_record(state, "payment_intent_canceled", json!({ "intent_id": id })).await?;
    }
    view(state, &record).await
}

/// Checks the secret, binds the intent on its first confirmation, and pays (or resumes the
/// payment) through the smart payment's flow.
pub async fn confirm(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
    request: ConfirmPaymentIntent,
) -> Result<PaymentIntentView, PaymentError> {
    let (version, mut record) = read(state, actor, id).await?;
    let offered: [u8; 32] = Sha256::digest(request.client_secret.as_bytes()).into();
    let stored = hex::decode(&record.secret_sha256)
        .map_err(|_| PaymentError::Internal("a stored secret hash is not hex"))?;
    if !bool::from(offered.as_slice().ct_eq(stored.as_slice())) {
        return Err(PaymentError::Intent(IntentError::SecretInvalid));
    }
    if record.canceled_at.is_some() {
        return Err(PaymentError::Intent(IntentError::Canceled));
    }
    match (&record.confirmed_by, &record.session_key_id) {
        (None, _) => {
            if state.now().0 >= record.expires_at {
                return Err(PaymentError::Intent(IntentError::Expired));
            }
            record.confirmed_by = Some(actor.key_id.to_owned());
            record.session_key_id = Some(request.session_key_id.clone());
            record.payment_id = Some(payment_id(actor.key_id, &idempotency_key(id)));
            // Two confirmations at once: the store takes one write at this version.
            write(state, version, &record).await?;
            ledger_record(
                state,
                "payment_intent_confirmed",
                json!({
                    "intent_id": id,
                    "session_key_id": request.session_key_id,
                    "payment_id": record.payment_id,
                }),
            )
            .await?;
        }
        (Some(key), Some(session_key))
            if key == actor.key_id && *session_key == request.session_key_id => {}
        _ => return Err(PaymentError::Intent(IntentError::SecretUsed)),
    }
    super::flow::smart_payment(
        state,
        actor,
        SmartPayment {
            agent_id: record.agent_id.clone(),
            session_key_id: request.session_key_id,
            recipient: record.recipient.clone(),
            amount: record.amount,
            mint: record.mint.clone(),
            memo: None,
            gasless: None,
            auto_detect_gasless: false,
            idempotency_key: idempotency_key(id),
            transaction: None,
            dry_run: false,
        },
    )
    .await?;
    view(state, &record).await
}

/// Writes the intent as the version after `version`. Losing that race means another request
/// is acting on the intent (`payment_in_progress`); anything else is the store's failure.
async fn write(
    state: &PaymentContext,
    version: u64,
    record: &IntentRecord,
) -> Result<(), PaymentError> {
    let name = record_name(&record.id);
    match records::write(&state.store, &state.state_key, &name, Some(version), record).await {
        Ok(_) => Ok(()),
        Err(RecordError::Conflict { .. }) => Err(PaymentError::InProgress(record.id.clone())),
        Err(other) => Err(other.into()),
    }
}

async fn read(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
) -> Result<(u64, IntentRecord), PaymentError> {
    let unknown = || PaymentError::Intent(IntentError::Unknown(id.to_owned()));
    if !valid_id(id) {
        return Err(unknown());
    }
    let (version, record): (u64, IntentRecord) =
        records::read(&state.store, &state.state_key, &record_name(id))
            .await?
            .ok_or_else(unknown)?;
    // Another tenant's intent does not exist for this caller.
    if record.id != id || !actor.sees_tenant(&record.tenant) {
        return Err(unknown());
    }
    Ok((version, record))
}

/// The intent as its payment's record says it stands.
async fn view(
    state: &PaymentContext,
    record: &IntentRecord,
) -> Result<PaymentIntentView, PaymentError> {
    let payment = match &record.payment_id {
        Some(payment) => records::read::<PaymentRecord>(
            &state.store,
            &state.state_key,
            &PaymentRecord::record_name(payment),
        )
        .await?
        .map(|(_, p)| p),
        None => None,
    };
    let outcome = payment.as_ref().map(|p| (p.stage, p.denial.as_ref()));
    let (status, last_payment_error) = status(record, outcome, state.now().0);
    Ok(PaymentIntentView {
        id: record.id.clone(),
        client_secret: None,
        status,
        amount: record.amount,
        mint: record.mint.clone(),
        agent_id: record.agent_id.clone(),
        recipient: record.recipient.clone(),
        description: record.description.clone(),
        metadata: record.metadata.clone(),
        created_at: record.created_at,
        expires_at: record.expires_at,
        session_key_id: record.session_key_id.clone(),
        payment_id: record.payment_id.clone(),
        last_payment_error,
    })
}

/// The intent's status from its own record and its payment's stage (and denial) at `now`.
fn status(
    record: &IntentRecord,
    payment: Option<(Stage, Option<&crate::policy::Denial>)>,
    now: i64,
) -> (PaymentIntentStatus, Option<DenialView>) {
    use PaymentIntentStatus as S;
    let error = |rule: &str, detail: &str| {
        Some(DenialView {
            rule: rule.to_owned(),
            detail: detail.to_owned(),
        })
    };
    if record.canceled_at.is_some() {
        return (S::Canceled, None);
    }
    let Some((stage, denial)) = payment else {
        return match (&record.confirmed_by, now >= record.expires_at) {
            // Bound, its payment not written yet: a confirmation is under way (or stopped).
            (Some(_), _) => (S::Processing, None),
            (None, true) => (S::Expired, None),
            (None, false) => (S::RequiresPayment, None),
        };
    };
    match stage {
        Stage::Confirmed => (S::Succeeded, None),
        Stage::Pending
        | Stage::Signed
        | Stage::Submitted
        | Stage::RequiresSignature
        | Stage::ApprovalRequired => (S::Processing, None),
        // Nothing was signed: confirming again with the same keys starts it over.
        Stage::Aborted => (S::RequiresPayment, None),
        Stage::Denied => (S::Canceled, denial.map(denial_view)),
        Stage::FailedOnChain => (
            S::Canceled,
            error(
                "failed_on_chain",
                "the payment landed but failed; nothing moved",
            ),
        ),
        Stage::Expired => (
            S::Expired,
            error(
                "expired_unlanded",
                "the payment's blockhash expired before it landed",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Denial, Rule};

    fn intent(confirmed: bool, canceled: bool) -> IntentRecord {
        IntentRecord {
            id: "pi_1".into(),
            tenant: "t".into(),
            amount: 1,
            mint: "m".into(),
            agent_id: "a".into(),
            recipient: "r".into(),
            description: None,
            metadata: BTreeMap::new(),
            created_at: 100,
            expires_at: 200,
            secret_sha256: String::new(),
            canceled_at: canceled.then_some(150),
            confirmed_by: confirmed.then(|| "key".into()),
            session_key_id: confirmed.then(|| "sk".into()),
            payment_id: confirmed.then(|| "pay".into()),
        }
    }

    /// name, intent, payment (stage, denial), now, status, error rule.
    type Row<'a> = (
        &'a str,
        IntentRecord,
        Option<(Stage, Option<&'a Denial>)>,
        i64,
        PaymentIntentStatus,
        Option<&'a str>,
    );

    #[test]
    fn the_status_follows_the_intent_and_its_payment() {
        use PaymentIntentStatus as S;
        let denial = Denial::because(Rule::DailyCap, "over");
        let rows: Vec<Row> = vec![
            (
                "open",
                intent(false, false),
                None,
                150,
                S::RequiresPayment,
                None,
            ),
            (
                "open past its expiry",
                intent(false, false),
                None,
                200,
                S::Expired,
                None,
            ),
            (
                "canceled",
                intent(false, true),
                None,
                150,
                S::Canceled,
                None,
            ),
            (
                "bound, payment not written",
                intent(true, false),
                None,
                250,
                S::Processing,
                None,
            ),
            (
                "paid",
                intent(true, false),
                Some((Stage::Confirmed, None)),
                250,
                S::Succeeded,
                None,
            ),
            (
                "in flight",
                intent(true, false),
                Some((Stage::Submitted, None)),
                150,
                S::Processing,
                None,
            ),
            (
                "waiting for the device",
                intent(true, false),
                Some((Stage::RequiresSignature, None)),
                150,
                S::Processing,
                None,
            ),
            (
                "aborted, nothing signed",
                intent(true, false),
                Some((Stage::Aborted, None)),
                150,
                S::RequiresPayment,
                None,
            ),
            (
                "denied",
                intent(true, false),
                Some((Stage::Denied, Some(&denial))),
                150,
                S::Canceled,
                Some("daily_cap"),
            ),
            (
                "failed on chain",
                intent(true, false),
                Some((Stage::FailedOnChain, None)),
                150,
                S::Canceled,
                Some("failed_on_chain"),
            ),
            (
                "payment expired",
                intent(true, false),
                Some((Stage::Expired, None)),
                150,
                S::Expired,
                Some("expired_unlanded"),
            ),
        ];
        for (name, record, payment, now, expected, rule) in rows {
            let (status, error) = status(&record, payment, now);
            assert_eq!(status, expected, "{name}");
            assert_eq!(error.map(|e| e.rule).as_deref(), rule, "{name}");
        }
    }
}
