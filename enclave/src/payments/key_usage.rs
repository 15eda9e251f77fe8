//! The limits the user signed at registration hold for the session key as a whole: across
//! every agent session under it, together (docs/design.md, "Policy").
//!
//! Each session has its own intent and usage (the operator's sub-allocation to one agent); the
//! account also keeps the key's own usage, and every payment reserves in both under the
//! account's lock. The key's intent is the session's, with the key's caps, approval threshold,
//! expiry and revocation, and no recipient or count limits: the same transaction is judged by
//! the same deterministic evaluator against both, and a denial by either refuses both (the
//! account change is applied to a copy and dropped on any error). Signing, confirming and
//! releasing move both reservations together; reconciliation counts a chain debit once in
//! the key's usage. Because the key's usage is not per session, ending or re-creating a
//! session cannot forget what it spent against the key.

use super::account::Account;
use super::error::PaymentError;
use crate::policy::{
    Approval, Caps, Denial, Intent, PerWindow, ReservationId, ReserveError, SessionState,
    SpendState, UnixSeconds, Usage,
};
use crate::solana::explain::Signable;

impl Account {
    /// The key's intent for a transaction a session with `session` would sign.
    pub fn key_intent(&self, session: &Intent) -> Intent {
        Intent {
            caps: Caps {
                per_transaction: self.limits.max_per_transaction,
                windows: PerWindow {
                    day: self.limits.max_per_day,
                    week: self.limits.max_per_week,
                    month: self.limits.max_per_month,
                },
            },
            require_approval_above: self.limits.require_approval_above,
            max_payments: PerWindow::default(),
            starts_at: self.created_at.min(session.starts_at),
            expires_at: UnixSeconds(self.limits.expires_at),
            revoked_at: self.revoked_at,
            allowed_recipients: None,
            fee_caps: super::account::fee_caps(&self.limits),
            ..session.clone()
        }
    }

    /// Decides `tx` for `agent`'s session and for the key, and reserves `payment` in both; a
    /// denial (or an approval requirement) from either is the answer.
    pub fn reserve(
        &mut self,
        agent: &str,
        tx: &Signable,
        at: UnixSeconds,
        approval: Approval,
        payment: &str,
    ) -> Result<(), PaymentError> {
        let session = self
            .sessions
            .get_mut(agent)
            .ok_or_else(|| PaymentError::UnknownSession {
                key: self.id.clone(),
                agent: agent.to_owned(),
            })?;
        // One payment, one live reservation: a retry reserves again only after the earlier
        // reservation was released with nothing signed.
        let live = |usage: &Usage| {
            usage
                .for_payment(payment)
                .is_some_and(|r| !matches!(r.state, SpendState::Released { .. }))
        };
        if live(&session.state.usage) || live(&self.key_usage) {
            return Err(PaymentError::Internal(
                "the payment already holds a live reservation",
            ));
        }
        session
            .state
            .reserve(tx, at, approval, Some(payment))
            .map_err(|e| refusal(e, None))?;
        let session_intent = session.state.intent.clone();
        let intent = self.key_intent(&session_intent);
        let mut key = SessionState {
            intent,
            usage: std::mem::take(&mut self.key_usage),
        };
        let reserved = key.reserve(tx, at, approval, Some(payment));
        self.key_usage = key.usage;
        reserved.map(|_| ()).map_err(|e| refusal(e, Some(&self.id)))
    }

    /// Applies `change` to `payment`'s reservation in `agent`'s session and in the key's usage
    /// (each that holds one); whether any did.
    pub fn with_reservations(
        &mut self,
        agent: &str,
        payment: &str,
        mut change: impl FnMut(&mut Usage, ReservationId) -> Result<(), PaymentError>,
    ) -> Result<bool, PaymentError> {
        let mut found = false;
        let session = self.sessions.get_mut(agent).map(|s| &mut s.state.usage);
        for usage in session
            .into_iter()
            .chain(std::iter::once(&mut self.key_usage))
        {
            if let Some(id) = usage.for_payment(payment).map(|r| r.id) {
                change(usage, id)?;
                found = true;
            }
        }
        Ok(found)
    }
}

/// The payment error for a refused reservation; `key` names the session key when its own
/// limits refused.
fn refusal(error: ReserveError, key: Option<&str>) -> PaymentError {
    match error {
        ReserveError::Denied(denial) => PaymentError::Denied(match key {
            None => denial,
            Some(key) => Denial {
                detail: format!("session key {key}'s own limits: {}", denial.detail),
                ..denial
            },
        }),
        ReserveError::ApprovalRequired { threshold, .. } => {
            PaymentError::ApprovalNeeded { threshold }
        }
        _ => PaymentError::Internal("the reservation failed"),
    }
}
