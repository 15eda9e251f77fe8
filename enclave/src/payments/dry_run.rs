//! `POST /v1/smart-payment` with `dry_run: true`: the decision a payment would get now, from
//! the same code that makes it (the transaction built as for the payment, the session's and
//! the key's reservation and the fee payer's budget tried on a copy of the account), with
//! nothing reserved, signed, recorded or sent.

use aip_wire::payments::{DryRunAnswer, DryRunDecision, SmartPayment};

use super::account::Account;
use super::actor::Actor;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::fee_budget::FeeBudget;
use super::flow::admit;
use super::record::{denial_view, payment_id, request_sha256};
use crate::policy::Approval;

/// What the policy would answer `request` now.
pub async fn decide(
    state: &PaymentContext,
    actor: Actor<'_>,
    request: &SmartPayment,
) -> Result<DryRunAnswer, PaymentError> {
    admit(state, &request.idempotency_key, &request.agent_id)?;
    let id = payment_id(actor.key_id, &request.idempotency_key);
    let (record, signable) =
        super::transaction::build(state, actor, &id, &request_sha256(request), request).await?;
    let at = state.now();
    let account = state.accounts.get(&request.session_key_id).await?;
    let session = account.session_of(&request.agent_id)?;
    let remaining = account.session_view(session, at).remaining;
    // The trial reservation is the payment's own logic on a copy; the copy is dropped. Its id
    // is not the payment's, so a live reservation of a payment in flight does not stand in
    // the way of asking about it.
    let mut trial = Account::clone(&account);
    let trial_id = format!("{id}:dry-run");
    let mut tried = trial.reserve(&request.agent_id, &signable, at, Approval::None, &trial_id);
    if tried.is_ok() && record.service_fee_payer {
        let budget = FeeBudget::hold(state, at).await?;
        tried = budget.check(&trial, &trial_id);
    }
    let (decision, denial, approval_threshold) = match tried {
        Ok(()) => (DryRunDecision::Allow, None, None),
        Err(PaymentError::ApprovalNeeded { threshold }) => {
            (DryRunDecision::ApprovalRequired, None, Some(threshold))
        }
        Err(PaymentError::Denied(denial)) => {
            (DryRunDecision::Deny, Some(denial_view(&denial)), None)
        }
        Err(other) => return Err(other),
    };
    Ok(DryRunAnswer {
        decision,
        denial,
        approval_threshold,
        amount: record.amount,
        fee_lamports: record.fee_lamports.unwrap_or_default(),
        autonomous: account.autonomy_for(record.amount, at).is_some(),
        remaining,
    })
}
