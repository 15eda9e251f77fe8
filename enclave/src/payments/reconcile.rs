//! Reconciling usage with the chain (docs/design.md, "State, ledger, rollback"). The host can
//! hand the enclave an old copy of its state, and the backend that would notice may be the
//! operator's too; the chain cannot be rolled back. So, on boot and periodically, every
//! session wallet's confirmed USDC debits of the last 30 days are read from a quorum of RPC
//! endpoints over TLS that ends here (`crate::chain::quorum`: the union of their answers), and
//! each debit no record accounts for is added to every session of that key (which session
//! made it cannot be known, so each counts it: the caps hold whichever it was) and to the
//! delegation's committed total. Usage is then never below what the chain shows.

use serde_json::json;

use super::account::signatures_in;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::keys::record;
use crate::chain::Span;
use crate::policy::{Counted, ObservedDebit, UnixSeconds, Usage, Window};

/// What a reconciliation round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Debits (or folded hours) added to usage.
    pub added: usize,
    /// Transactions a quorum of endpoints listed and none served yet
    /// ([`crate::chain::History::unresolved`]): not counted until served.
    pub unresolved: usize,
}

impl Round {
    fn and(self, other: Round) -> Round {
        Round {
            added: self.added + other.added,
            unresolved: self.unresolved + other.unresolved,
        }
    }
}

/// Reconciles every account with sessions.
pub async fn reconcile_all(state: &PaymentContext) -> Result<Round, PaymentError> {
    let mut round = Round::default();
    for account in state.accounts.all().await? {
        if !account.sessions.is_empty() {
            round = round.and(reconcile_account(state, &account.id).await?);
        }
    }
    Ok(round)
}

/// Reads the wallet's history since the account's cursor (the whole 30-day window the first
/// time) from the RPC quorum, and counts every debit no record accounts for. The cursor is
/// persisted with the account, so a round costs what is new, not the whole history; a host
/// that hands back an older account record only makes the next round read more.
pub(super) async fn reconcile_account(
    state: &PaymentContext,
    id: &str,
) -> Result<Round, PaymentError> {
    let payer = state.payer()?;
    let account = state.accounts.get(id).await?;
    let wallet = account.public_key.to_string();
    let mints: Vec<String> = payer.usdc_mints.iter().map(ToString::to_string).collect();
    let known = account.known_signatures();
    let now = state.now();
    let span = Span {
        cutoff: now.saturating_sub(Window::Month.seconds()).0,
        now: now.0,
    };
    let history = payer
        .rpc
        .debits(
            &wallet,
            &mints,
            span,
            account.chain_cursor.as_deref(),
            &known,
        )
        .await
        .map_err(PaymentError::Chain)?;
    let cursor_moved =
        history.newest_common.is_some() && history.newest_common != account.chain_cursor;
    let round = Round {
        added: 0,
        unresolved: history.unresolved.len(),
    };
    if history.debits.is_empty() && !cursor_moved {
        return Ok(round);
    }
    // The whole window was read when there was no cursor: folded hours compare by total.
    let whole_history = account.chain_cursor.is_none();
    let observed: Vec<ObservedDebit> = history
        .debits
        .iter()
        .map(|d| ObservedDebit {
            signature: d.signature.clone(),
            amount: d.amount,
            at: UnixSeconds(d.block_time),
        })
        .collect();
    // Under the account's lock: a payment signed meanwhile is known by now and skipped.
    let added = state
        .update_account(id, |account| {
            let sessions: Vec<&mut Usage> = account
                .sessions
                .values_mut()
                .map(|s| &mut s.state.usage)
                .collect();
            let counted =
                count_unaccounted(&mut account.key_usage, sessions, &observed, whole_history);
            if counted.amount > 0 {
                if let Some(delegation) = account.delegation.as_mut() {
                    delegation.committed = delegation.committed.saturating_add(counted.amount);
                }
            }
            if let Some(cursor) = &history.newest_common {
                account.chain_cursor = Some(cursor.clone());
            }
            // The cursor is past these now: their confirmed, bound records fold.
            for usage in account.usages_mut() {
                usage.mark_passed(&history.passed);
                usage.prune(now);
            }
            Ok(counted)
        })
        .await?;
    if added.amount == 0 {
        return Ok(round);
    }
    tracing::warn!(
        session_key = id,
        debits = added.recorded.len(),
        hours_raised = added.hours_raised,
        total = added.amount,
        "debits on chain that no record accounted for were added to usage"
    );
    record(
        state,
        "chain_reconciled",
        json!({
            "session_key_id": id,
            "signatures": added.recorded,
            "folded_hours_raised": added.hours_raised,
            "total": added.amount,
        }),
    )
    .await?;
    Ok(Round {
        added: added.recorded.len().max(added.hours_raised),
        ..round
    })
}

/// Counts the observed debits that no usage of the account accounts for in the key's usage and
/// in every session's (which session made a debit cannot be known: each counts it), and
/// returns what the delegation counts: the most any usage added. What counts as accounted for
/// is decided over all the usages together, under the account's lock: a payment signed after
/// the history was read is known to its own session and to the key only, and was taken by the
/// other sessions for a debit made outside the signer (each counted it, and the delegation
/// with them: usage above what landed, seen in a 20-minute soak).
fn count_unaccounted(
    key_usage: &mut Usage,
    mut sessions: Vec<&mut Usage>,
    observed: &[ObservedDebit],
    whole_history: bool,
) -> Counted {
    let known = signatures_in(std::iter::once(&*key_usage).chain(sessions.iter().map(|u| &**u)));
    let unaccounted: Vec<ObservedDebit> = observed
        .iter()
        .filter(|debit| !known.contains(debit.signature.as_str()))
        .cloned()
        .collect();
    let mut counted = key_usage.count_chain(&unaccounted, whole_history);
    for usage in sessions.iter_mut() {
        let in_session = usage.count_chain(&unaccounted, whole_history);
        counted.amount = counted.amount.max(in_session.amount);
        counted.hours_raised = counted.hours_raised.max(in_session.hours_raised);
        for signature in in_session.recorded {
            if !counted.recorded.contains(&signature) {
                counted.recorded.push(signature);
            }
        }
    }
    counted
}

/// A key whose usage holds this many records waiting for reconciliation to pass them
/// ([`crate::policy::Usage::awaiting_pass`]) is reconciled on the busy cadence: each round lets
/// what it passed fold, so a key paying many times a second keeps a small record (it is sealed
/// and written whole again with every group of changes).
const BUSY_RECORDS: usize = 32;

/// Reconciles the keys holding [`BUSY_RECORDS`] records or more that could fold; how many it read.
async fn reconcile_busy(state: &PaymentContext) -> Result<usize, PaymentError> {
    let mut busy = Vec::new();
    state
        .accounts
        .visit(|account| {
            if !account.sessions.is_empty() && account.key_usage.awaiting_pass() >= BUSY_RECORDS {
                busy.push(account.id.clone());
            }
        })
        .await?;
    for id in &busy {
        reconcile_account(state, id).await?;
    }
    Ok(busy.len())
}

/// Anchors the clock to a trusted time and reconciles, now and then every `every`; payments
/// wait for the first success of both (a window is never judged by an unanchored clock), and
/// for a first round that left nothing unresolved: after a restart, state may be older than
/// the chain, and a debit a quorum lists but no endpoint serves yet would otherwise go
/// uncounted while payments open. (Once open, a debit made outside the signer is counted when
/// a round first reads it, as it always is.)
/// Between full rounds, busy keys are reconciled every `busy_every` ([`BUSY_RECORDS`]); until
/// payments open, the full round is retried every `retry_every`.
pub async fn keep_reconciled(
    state: std::sync::Arc<PaymentContext>,
    every: std::time::Duration,
    busy_every: std::time::Duration,
    retry_every: std::time::Duration,
) {
    let mut ticker = tokio::time::interval(every);
    let mut busy = tokio::time::interval(busy_every);
    busy.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retry = tokio::time::interval(retry_every);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = retry.tick(), if !state.reconciled() => {}
            _ = busy.tick(), if state.reconciled() => {
                if let Err(error) = reconcile_busy(&state).await {
                    tracing::warn!(error = %aip_wire::process::error_chain(&error), "reconciling busy keys failed; retrying");
                }
                continue;
            }
        }
        if let Err(error) = crate::trusted_time::anchor_clock(&state).await {
            tracing::warn!(error = %aip_wire::process::error_chain(&error), "no trusted time; payments wait and this round is skipped");
            continue;
        }
        match reconcile_all(&state).await {
            Ok(round) if round.unresolved > 0 && !state.reconciled() => {
                tracing::warn!(
                    added = round.added,
                    unresolved = round.unresolved,
                    "transactions the RPC quorum lists are not served yet; payments stay closed"
                );
            }
            Ok(round) => {
                if state.mark_reconciled() {
                    tracing::info!(
                        added = round.added,
                        "usage reconciled with the chain; payments open"
                    );
                }
            }
            Err(error) => {
                tracing::warn!(error = %aip_wire::process::error_chain(&error), "reconciliation with the chain failed; retrying");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debit(signature: &str, amount: u64) -> ObservedDebit {
        ObservedDebit {
            signature: signature.into(),
            amount,
            at: UnixSeconds(1_000),
        }
    }

    /// Agent a's payment, signed after the history was read, is known to a's session and to
    /// the key; session b must not take it for a debit made outside the signer. A debit no
    /// usage knows is counted by every usage, once for the delegation.
    #[test]
    fn a_payment_one_session_made_is_not_an_outside_debit_for_the_others() {
        let (mut key, mut a, mut b) = (Usage::default(), Usage::default(), Usage::default());
        key.record_observed(29_343, UnixSeconds(1_000), "paid by a".into());
        a.record_observed(29_343, UnixSeconds(1_000), "paid by a".into());
        let observed = [debit("paid by a", 29_343), debit("outside", 5)];
        let counted = count_unaccounted(&mut key, vec![&mut a, &mut b], &observed, false);
        assert_eq!(
            counted.amount, 5,
            "the delegation counts only the outside debit"
        );
        assert_eq!(counted.recorded, vec!["outside".to_owned()]);
        assert!(!b.knows_signature("paid by a"), "b counted a's payment");
        for usage in [&key, &a, &b] {
            assert!(usage.knows_signature("outside"));
        }
    }
}
