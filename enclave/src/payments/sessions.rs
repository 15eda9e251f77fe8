//! Agents' spending sessions under a session key: created within the key's limits, listed
//! with what they have left.

use aip_wire::payments::{CreateSession, SessionView};
use rand_core::{OsRng, RngCore};
use serde_json::json;
use solana_address::Address;

use super::account::{intent_for, AgentSession, IntentInputs};
use super::actor::Actor;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::flow::valid_id;
use super::keys::record;
use crate::policy::{SessionState, Usage};

pub async fn create(
    state: &PaymentContext,
    actor: Actor<'_>,
    request: CreateSession,
) -> Result<SessionView, PaymentError> {
    let payer = state.payer()?;
    if !valid_id(&request.agent_id) {
        return Err(PaymentError::Invalid(
            "agent_id must be 1..128 printable ASCII characters".into(),
        ));
    }
    let account = actor.account(state, &request.session_key_id).await?;
    if let Some(field) = request.limits.exceeds(&account.limits) {
        return Err(PaymentError::Invalid(format!(
            "{field} is outside the session key's limits"
        )));
    }
    let recipients = request
        .allowed_recipients
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|r| {
                    r.parse::<Address>().map_err(|_| {
                        PaymentError::Invalid(format!("allowed recipient {r:?} is not an address"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let at = state.now();
    let intent = intent_for(IntentInputs {
        session_key: account.public_key,
        key_limits: &account.limits,
        limits: &request.limits,
        mints: payer.usdc_mints.clone(),
        allowed_recipients: recipients,
        max_payments_per_day: request.max_payments_per_day,
        fees: request.fees,
        service_fee_payer: payer.fee_payer.address(),
        now: at,
    });
    intent
        .invariant()
        .map_err(|e| PaymentError::Invalid(format!("the session's intent: {e}")))?;
    let mut id = [0u8; 12];
    OsRng.fill_bytes(&mut id);
    let session = AgentSession {
        id: format!("ss_{}", hex::encode(id)),
        agent_id: request.agent_id.clone(),
        fees: request.fees,
        state: SessionState {
            intent,
            usage: Usage::default(),
        },
    };
    let view = state
        .update_account(&request.session_key_id, |account| {
            if account.revoked_at.is_some() {
                return Err(PaymentError::Denied(crate::policy::Denial::because(
                    crate::policy::Rule::Revoked,
                    format!("session key {} is revoked", account.id),
                )));
            }
            if let Some(live) = account
                .sessions
                .get(&request.agent_id)
                .filter(|s| s.state.intent.ends_at() > at)
            {
                return Err(PaymentError::Invalid(format!(
                    "agent {} already has the live session {}",
                    request.agent_id, live.id
                )));
            }
            // A session that replaces an ended one for the same agent keeps its spending: its
            // windows do not restart because the operator re-created the session.
            let mut session = session.clone();
            if let Some(ended) = account.sessions.get(&request.agent_id) {
                session.state.usage = ended.state.usage.clone();
            }
            account
                .sessions
                .insert(request.agent_id.clone(), session.clone());
            Ok(account.session_view(&session, at))
        })
        .await?;
    record(
        state,
        "session_created",
        json!({"session_id": view.id, "session_key_id": view.session_key_id, "agent_id": view.agent_id, "limits": view.limits}),
    )
    .await?;
    Ok(view)
}

/// Every session the caller may see, or those of one session key.
pub async fn list(
    state: &PaymentContext,
    actor: Actor<'_>,
    session_key_id: Option<&str>,
) -> Result<Vec<SessionView>, PaymentError> {
    let at = state.now();
    let accounts = match session_key_id {
        Some(id) => vec![actor.account(state, id).await?],
        None => {
            let mut all = state.accounts.all().await?;
            all.retain(|a| actor.sees(a));
            all
        }
    };
    Ok(accounts
        .iter()
        .flat_map(|a| a.sessions.values().map(move |s| a.session_view(s, at)))
        .collect())
}
