//! Usage history: every reservation and what became of it. Windows are computed from it.
//!
//! A reservation counts as spent from the moment it is made until there is *proof* that no
//! money can move: it was aborted before any signature existed, or its signed transaction's
//! blockhash expired and the transaction is absent from the chain. An unknown outcome counts
//! as spent; nothing is ever released on a timer.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::time::{UnixSeconds, Window};

/// Identifies a reservation within one session's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReservationId(pub u64);

impl std::fmt::Display for ReservationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a reservation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SpendState {
    /// Persisted; no signature exists yet.
    Reserved,
    /// A signature exists (recorded before it left the enclave); outcome unknown until the
    /// chain says otherwise.
    Signed {
        signature: String,
        last_valid_block_height: u64,
    },
    /// Seen on chain.
    Confirmed { signature: String },
    /// Proven not to move money.
    Released { proof: ReleaseProof },
}

impl SpendState {
    /// The transaction signature, once one exists.
    pub fn signature(&self) -> Option<&str> {
        match self {
            Self::Signed { signature, .. } | Self::Confirmed { signature } => Some(signature),
            Self::Reserved | Self::Released { .. } => None,
        }
    }

    /// Whether the amount counts against the caps.
    pub fn counts(&self) -> bool {
        !matches!(self, Self::Released { .. })
    }
}

/// Proof that a reservation moved no money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReleaseProof {
    /// The payment was abandoned before a signature was produced (policy change, revocation,
    /// Lit threshold unmet, ...).
    NeverSigned,
    /// The chain's block height passed the transaction's last valid block height and the
    /// signature is unknown to the chain: it can never land.
    ExpiredUnlanded { observed_block_height: u64 },
}

/// One reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRecord {
    pub id: ReservationId,
    pub at: UnixSeconds,
    /// In the intent's asset base units.
    pub amount: u64,
    /// Lamports the session wallet pays in fees and rent.
    pub fee_lamports: u64,
    /// The payment this reservation is for (the service's idempotent payment id), so a retry
    /// after a crash finds its reservation instead of making a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    #[serde(flatten)]
    pub state: SpendState,
}

/// A reservation state change that the evidence does not support.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UsageError {
    #[error("reservation {0} does not exist")]
    UnknownReservation(ReservationId),
    #[error("reservation {0} was released; it must not be signed")]
    AlreadyReleased(ReservationId),
    #[error("reservation {0} is already signed")]
    AlreadySigned(ReservationId),
    #[error("reservation {0} is not signed")]
    NotSigned(ReservationId),
    #[error("reservation {0} is confirmed on chain and cannot be released")]
    Confirmed(ReservationId),
    #[error("reservation {id} has a signature; only its expiry can release it")]
    SignedNeedsExpiry { id: ReservationId },
    #[error("reservation {id}: block height {observed} has not passed the last valid block height {last_valid}")]
    NotExpired {
        id: ReservationId,
        observed: u64,
        last_valid: u64,
    },
}

/// All reservations of one session, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    records: Vec<SpendRecord>,
    next_id: u64,
}

impl Usage {
    pub fn records(&self) -> &[SpendRecord] {
        &self.records
    }

    /// Sum of the amounts that count in `window` at `now` (u128: cannot overflow).
    pub fn spent_in(&self, window: Window, now: UnixSeconds) -> u128 {
        self.counting_in(window, now)
            .map(|r| u128::from(r.amount))
            .sum()
    }

    /// Number of payments that count in `window` at `now`.
    pub fn payments_in(&self, window: Window, now: UnixSeconds) -> u64 {
        u64::try_from(self.counting_in(window, now).count()).unwrap_or(u64::MAX)
    }

    fn counting_in(&self, window: Window, now: UnixSeconds) -> impl Iterator<Item = &SpendRecord> {
        self.records
            .iter()
            .filter(move |r| r.state.counts() && window.contains(r.at, now))
    }

    /// Records a new reservation and returns its id.
    pub fn reserve(&mut self, amount: u64, fee_lamports: u64, now: UnixSeconds) -> ReservationId {
        self.reserve_for(amount, fee_lamports, now, None)
    }

    /// Records a new reservation for `payment` and returns its id.
    pub fn reserve_for(
        &mut self,
        amount: u64,
        fee_lamports: u64,
        now: UnixSeconds,
        payment: Option<&str>,
    ) -> ReservationId {
        let id = ReservationId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.records.push(SpendRecord {
            id,
            at: now,
            amount,
            fee_lamports,
            payment: payment.map(str::to_owned),
            state: SpendState::Reserved,
        });
        id
    }

    fn record_mut(&mut self, id: ReservationId) -> Result<&mut SpendRecord, UsageError> {
        self.records
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or(UsageError::UnknownReservation(id))
    }

    pub fn get(&self, id: ReservationId) -> Option<&SpendRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    /// Records a debit seen on chain that no reservation accounts for (after a rollback of
    /// the enclave's state, or a transaction the device signed elsewhere): it counts like a
    /// confirmed payment made at `at`.
    pub fn record_observed(&mut self, amount: u64, at: UnixSeconds, signature: String) {
        let id = ReservationId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.records.push(SpendRecord {
            id,
            at,
            amount,
            fee_lamports: 0,
            payment: None,
            state: SpendState::Confirmed { signature },
        });
    }

    /// Whether a signed or confirmed record carries `signature`.
    pub fn knows_signature(&self, signature: &str) -> bool {
        self.records
            .iter()
            .any(|r| r.state.signature() == Some(signature))
    }

    /// The reservation made for `payment`, if any: the latest one. A payment holds at most one
    /// live reservation; an earlier one was released (nothing signed) before a retry made the
    /// next, so the latest is the one to sign, confirm or release.
    pub fn for_payment(&self, payment: &str) -> Option<&SpendRecord> {
        self.records
            .iter()
            .rev()
            .find(|r| r.payment.as_deref() == Some(payment))
    }

    /// Reserved -> Signed. Refused once released: a released reservation must never be signed.
    pub fn mark_signed(
        &mut self,
        id: ReservationId,
        signature: String,
        last_valid_block_height: u64,
    ) -> Result<(), UsageError> {
        let record = self.record_mut(id)?;
        match record.state {
            SpendState::Reserved => {
                record.state = SpendState::Signed {
                    signature,
                    last_valid_block_height,
                };
                Ok(())
            }
            SpendState::Released { .. } => Err(UsageError::AlreadyReleased(id)),
            SpendState::Signed { .. } | SpendState::Confirmed { .. } => {
                Err(UsageError::AlreadySigned(id))
            }
        }
    }

    /// Signed -> Confirmed.
    pub fn confirm(&mut self, id: ReservationId) -> Result<(), UsageError> {
        let record = self.record_mut(id)?;
        match &record.state {
            SpendState::Signed { signature, .. } => {
                record.state = SpendState::Confirmed {
                    signature: signature.clone(),
                };
                Ok(())
            }
            SpendState::Confirmed { .. } => Ok(()),
            SpendState::Reserved => Err(UsageError::NotSigned(id)),
            SpendState::Released { .. } => Err(UsageError::AlreadyReleased(id)),
        }
    }

    /// Releases a reservation if `proof` holds for its state.
    pub fn release(&mut self, id: ReservationId, proof: ReleaseProof) -> Result<(), UsageError> {
        let record = self.record_mut(id)?;
        match (&record.state, &proof) {
            (SpendState::Reserved, ReleaseProof::NeverSigned) => {}
            (SpendState::Reserved, ReleaseProof::ExpiredUnlanded { .. }) => {
                return Err(UsageError::NotSigned(id))
            }
            (SpendState::Signed { .. }, ReleaseProof::NeverSigned) => {
                return Err(UsageError::SignedNeedsExpiry { id })
            }
            (
                SpendState::Signed {
                    last_valid_block_height,
                    ..
                },
                ReleaseProof::ExpiredUnlanded {
                    observed_block_height,
                },
            ) => {
                if observed_block_height <= last_valid_block_height {
                    return Err(UsageError::NotExpired {
                        id,
                        observed: *observed_block_height,
                        last_valid: *last_valid_block_height,
                    });
                }
            }
            (SpendState::Confirmed { .. }, _) => return Err(UsageError::Confirmed(id)),
            (SpendState::Released { .. }, _) => return Err(UsageError::AlreadyReleased(id)),
        }
        record.state = SpendState::Released { proof };
        Ok(())
    }

    /// Releases every reservation that has no signature yet (on revocation).
    pub fn release_unsigned(&mut self) -> Vec<ReservationId> {
        let mut released = Vec::new();
        for record in &mut self.records {
            if record.state == SpendState::Reserved {
                record.state = SpendState::Released {
                    proof: ReleaseProof::NeverSigned,
                };
                released.push(record.id);
            }
        }
        released
    }

    /// Drops records that can no longer affect any window or outcome: released or confirmed
    /// and older than the longest window. Signed records with unknown outcome stay.
    pub fn prune(&mut self, now: UnixSeconds) {
        self.records.retain(|r| {
            let settled = matches!(
                r.state,
                SpendState::Released { .. } | SpendState::Confirmed { .. }
            );
            !settled || Window::Month.contains(r.at, now)
        });
    }
}
