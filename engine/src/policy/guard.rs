//! One session's spending state behind a lock, persisted before any reservation is granted.
//!
//! Decisions and reservations for a session are serialized: the decision is made and the
//! reservation recorded under one lock, and the new state is persisted before the lock is
//! released and the caller may sign. N concurrent payments can therefore never commit more
//! than the cap, and a crash after a signature leaves a durable reservation behind it.

use std::sync::{Mutex, MutexGuard};

use thiserror::Error;

use super::decide::{decide, Approval, Decision, Denial, Spend};
use super::intent::Intent;
use super::time::UnixSeconds;
use super::usage::{ReleaseProof, ReservationId, Usage, UsageError};
use crate::solana::explain::Signable;
use crate::solana::payment_reference;

/// A session's intent and usage, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionState {
    pub intent: Intent,
    pub usage: Usage,
}

/// The state transitions, as pure functions on the state: [`SessionSpending`] and the
/// service's persisted sessions apply them to a copy and keep the copy only once it is durable.
impl SessionState {
    /// Decides and, if allowed, records a reservation tagged with `payment`.
    pub fn reserve(
        &mut self,
        tx: &Signable,
        now: UnixSeconds,
        approval: Approval,
        payment: Option<&str>,
    ) -> Result<Reservation, ReserveError> {
        match decide(&self.intent, &self.usage, tx, now, approval) {
            Decision::Allow { spend } => {
                let bound = payment.is_some_and(|payment| {
                    tx.explanation()
                        .references
                        .contains(&payment_reference(payment))
                });
                let id = self.usage.reserve_for(spend, now, payment, bound);
                self.usage.prune(now);
                Ok(Reservation { id, spend })
            }
            Decision::ApprovalRequired { spend, threshold } => {
                Err(ReserveError::ApprovalRequired { spend, threshold })
            }
            Decision::Deny(denial) => Err(ReserveError::Denied(denial)),
        }
    }

    pub fn mark_signed(
        &mut self,
        id: ReservationId,
        signature: String,
        last_valid_block_height: u64,
    ) -> Result<(), ReserveError> {
        Ok(self
            .usage
            .mark_signed(id, signature, last_valid_block_height)?)
    }

    /// Revokes the intent from `now` on (an earlier revocation stands) and releases the
    /// reservations that have no signature yet.
    pub fn revoke(&mut self, now: UnixSeconds) -> Vec<ReservationId> {
        let at = self
            .intent
            .revoked_at
            .map_or(now, |earlier| earlier.min(now));
        self.intent.revoked_at = Some(at.max(self.intent.starts_at));
        self.usage.release_unsigned()
    }
}

/// Durable storage for session state. `persist` must return only once the state is durable.
pub trait SessionStore: Send + Sync {
    fn persist(&self, state: &SessionState) -> Result<(), StoreError>;
}

#[derive(Debug, Error)]
#[error("could not persist session state: {0}")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

#[derive(Debug, Error)]
pub enum ReserveError {
    #[error("denied by {}: {}", .0.rule.as_str(), .0.detail)]
    Denied(Denial),
    #[error("approval required above {threshold}")]
    ApprovalRequired { spend: Spend, threshold: u64 },
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the session state lock is poisoned")]
    Poisoned,
}

/// A granted reservation: the caller may now sign exactly the message it was granted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub id: ReservationId,
    pub spend: Spend,
}

/// One session's spending, serialized and persisted.
#[derive(Debug)]
pub struct SessionSpending<S> {
    state: Mutex<SessionState>,
    store: S,
}

impl<S: SessionStore> SessionSpending<S> {
    pub fn new(state: SessionState, store: S) -> Self {
        Self {
            state: Mutex::new(state),
            store,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, SessionState>, ReserveError> {
        self.state.lock().map_err(|_| ReserveError::Poisoned)
    }

    /// Applies `change` to a copy of the state, persists the copy, and only then makes it the
    /// current state: a failed write changes nothing.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut SessionState) -> Result<T, ReserveError>,
    ) -> Result<T, ReserveError> {
        let mut current = self.lock()?;
        let mut next = current.clone();
        let out = change(&mut next)?;
        self.store.persist(&next)?;
        *current = next;
        Ok(out)
    }

    /// Decides and, if allowed, reserves and persists.
    pub fn reserve(
        &self,
        tx: &Signable,
        now: UnixSeconds,
        approval: Approval,
    ) -> Result<Reservation, ReserveError> {
        self.update(|state| state.reserve(tx, now, approval, None))
    }

    /// Records the signature before it leaves the enclave. Fails if the reservation was
    /// released meanwhile (revocation), in which case the signature must be discarded.
    pub fn mark_signed(
        &self,
        id: ReservationId,
        signature: String,
        last_valid_block_height: u64,
    ) -> Result<(), ReserveError> {
        self.update(|state| state.mark_signed(id, signature, last_valid_block_height))
    }

    pub fn confirm(&self, id: ReservationId) -> Result<(), ReserveError> {
        self.update(|state| Ok(state.usage.confirm(id)?))
    }

    pub fn release(&self, id: ReservationId, proof: ReleaseProof) -> Result<(), ReserveError> {
        self.update(|state| Ok(state.usage.release(id, proof)?))
    }

    /// Revokes the intent from `now` on and releases reservations that have no signature yet.
    pub fn revoke(&self, now: UnixSeconds) -> Result<Vec<ReservationId>, ReserveError> {
        self.update(|state| Ok(state.revoke(now)))
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> Result<SessionState, ReserveError> {
        Ok(self.lock()?.clone())
    }
}

/// A store for tests and tools that keeps nothing (the durable store comes with the service).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStore;

impl SessionStore for NoStore {
    fn persist(&self, _state: &SessionState) -> Result<(), StoreError> {
        Ok(())
    }
}
