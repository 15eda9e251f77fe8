//! Usage history: every reservation and what became of it, and older settled payments folded
//! into hourly totals (`super::folded`). Windows are computed from both.
//!
//! A reservation counts as spent from the moment it is made until there is *proof* that no
//! money can move: it was aborted before any signature existed, or its signed transaction's
//! blockhash expired and the transaction is absent from the chain. An unknown outcome counts
//! as spent; nothing is ever released on a timer.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::decide::Spend;
use super::folded::{FoldedHour, FoldedHours, Folding, FOLD_AFTER};
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
    /// Lamports the payment costs in fees and rent, whoever pays them.
    pub fee_lamports: u64,
    /// Whether the service's fee payer pays `fee_lamports` (gasless).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_fee: bool,
    /// The payment this reservation is for (the service's idempotent payment id), so a retry
    /// after a crash finds its reservation instead of making a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    /// The transaction names this payment's own reference (`crate::solana::payment_reference`):
    /// no other payment can carry its signature, so once confirmed and passed by the chain's
    /// reconciliation the record may fold at once. A record without it keeps its signature for
    /// [`FOLD_AFTER`], where a second payment of the same transaction is caught.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bound: bool,
    /// A reconciliation round read the wallet's history past this record's signature and moved
    /// its cursor there: later rounds read only newer history, so the signature is not needed to
    /// recognise this payment on chain again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passed: bool,
    #[serde(flatten)]
    pub state: SpendState,
}

impl SpendRecord {
    /// Whether the record may leave the list for its hour's total at `now`: confirmed, and
    /// either older than [`FOLD_AFTER`] or bound to its payment and passed by reconciliation.
    fn folds(&self, now: UnixSeconds) -> bool {
        matches!(self.state, SpendState::Confirmed { .. })
            && (self.at < now.saturating_sub(FOLD_AFTER) || (self.bound && self.passed))
    }
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

/// A debit the chain shows for the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedDebit {
    pub signature: String,
    pub amount: u64,
    pub at: UnixSeconds,
}

/// What counting the chain's debits added to a usage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counted {
    pub amount: u64,
    /// Debits that became records of their own.
    pub recorded: Vec<String>,
    /// Folded hours that grew to what the chain shows.
    pub hours_raised: usize,
}

/// Recent reservations (oldest first) and older settled payments in hourly totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    records: Vec<SpendRecord>,
    next_id: u64,
    #[serde(default)]
    folded: FoldedHours,
}

impl Usage {
    pub fn records(&self) -> &[SpendRecord] {
        &self.records
    }

    pub fn folded(&self) -> &FoldedHours {
        &self.folded
    }

    /// Sum of the amounts that count in `window` at `now` (u128: cannot overflow).
    pub fn spent_in(&self, window: Window, now: UnixSeconds) -> u128 {
        self.sum_in(window, now, |r| r.amount, |h| h.amount)
    }

    /// Lamports of fees and rent that count in `window` at `now`, whoever pays them.
    pub fn fees_in(&self, window: Window, now: UnixSeconds) -> u128 {
        self.sum_in(window, now, |r| r.fee_lamports, |h| h.fee_lamports)
    }

    /// Lamports of fees and rent the service's fee payer paid that count in `window`.
    pub fn service_fees_in(&self, window: Window, now: UnixSeconds) -> u128 {
        self.sum_in(
            window,
            now,
            |r| if r.service_fee { r.fee_lamports } else { 0 },
            |h| h.service_fee_lamports,
        )
    }

    /// Number of payments that count in `window` at `now`.
    pub fn payments_in(&self, window: Window, now: UnixSeconds) -> u64 {
        u64::try_from(self.sum_in(window, now, |_| 1, |h| h.payments)).unwrap_or(u64::MAX)
    }

    /// `of_record` summed over the records and `of_hour` over the folded hours that count in
    /// `window` at `now`.
    fn sum_in(
        &self,
        window: Window,
        now: UnixSeconds,
        of_record: impl Fn(&SpendRecord) -> u64,
        of_hour: impl Fn(&FoldedHour) -> u64,
    ) -> u128 {
        let recent: u128 = self
            .counting_in(window, now)
            .map(|r| u128::from(of_record(r)))
            .sum();
        let folded: u128 = self
            .folded
            .counting_in(window, now)
            .map(|h| u128::from(of_hour(h)))
            .sum();
        recent + folded
    }

    fn counting_in(&self, window: Window, now: UnixSeconds) -> impl Iterator<Item = &SpendRecord> {
        self.records
            .iter()
            .filter(move |r| r.state.counts() && window.contains(r.at, now))
    }

    /// Records a new reservation and returns its id.
    pub fn reserve(&mut self, spend: Spend, now: UnixSeconds) -> ReservationId {
        self.reserve_for(spend, now, None, false)
    }

    /// Records a new reservation for `payment` and returns its id; `bound` when the
    /// transaction names the payment's own reference ([`SpendRecord::bound`]).
    pub fn reserve_for(
        &mut self,
        spend: Spend,
        now: UnixSeconds,
        payment: Option<&str>,
        bound: bool,
    ) -> ReservationId {
        let id = ReservationId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.records.push(SpendRecord {
            id,
            at: now,
            amount: spend.amount,
            fee_lamports: spend.fee_lamports,
            service_fee: spend.service_fee,
            payment: payment.map(str::to_owned),
            bound,
            passed: false,
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
            service_fee: false,
            payment: None,
            bound: false,
            passed: false,
            state: SpendState::Confirmed { signature },
        });
    }

    /// Counts the chain's debits that no record knows by signature.
    ///
    /// With `whole_history` (the debits are everything the wallet paid in the window, as a
    /// first reconciliation reads it), a debit in an hour whose payments were folded raises
    /// that hour to the chain's total for it: the folded payments are among those debits and
    /// cannot be told apart by signature any more. Otherwise (the debits are what is new since
    /// the last round) every unknown debit is new and becomes a confirmed record of its own;
    /// a folded payment read again after a stuck cursor then counts twice, which errs towards
    /// refusing.
    pub fn count_chain(&mut self, debits: &[ObservedDebit], whole_history: bool) -> Counted {
        let mut counted = Counted::default();
        let mut hour_totals: std::collections::BTreeMap<i64, (UnixSeconds, u64)> =
            std::collections::BTreeMap::new();
        for debit in debits {
            if self.knows_signature(&debit.signature) {
                continue;
            }
            if whole_history && self.folded.covers(debit.at) {
                let entry = hour_totals
                    .entry(super::folded::hour_of(debit.at))
                    .or_insert((debit.at, 0));
                entry.0 = entry.0.max(debit.at);
                entry.1 = entry.1.saturating_add(debit.amount);
            } else {
                self.record_observed(debit.amount, debit.at, debit.signature.clone());
                counted.amount = counted.amount.saturating_add(debit.amount);
                counted.recorded.push(debit.signature.clone());
            }
        }
        for (at, total) in hour_totals.into_values() {
            let grew = self.folded.at_least(at, total);
            if grew > 0 {
                counted.amount = counted.amount.saturating_add(grew);
                counted.hours_raised += 1;
            }
        }
        counted
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

    /// How many records would fold as soon as reconciliation passes their signature: confirmed,
    /// bound to their payment, not passed yet. Records that cannot fold early do not count, so a
    /// key holding caller-supplied transactions is not read from the chain every second for them.
    pub fn awaiting_pass(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.bound && !r.passed && matches!(r.state, SpendState::Confirmed { .. }))
            .count()
    }

    /// Notes that reconciliation read the chain past `signatures` (and will not read them
    /// again): the records carrying them may fold sooner ([`SpendRecord::passed`]). The number
    /// of records noted.
    pub fn mark_passed(&mut self, signatures: &std::collections::HashSet<String>) -> usize {
        let mut noted = 0;
        for record in &mut self.records {
            if !record.passed
                && record
                    .state
                    .signature()
                    .is_some_and(|s| signatures.contains(s))
            {
                record.passed = true;
                noted += 1;
            }
        }
        noted
    }

    /// Keeps the usage bounded: confirmed reservations leave the records for their hour's total
    /// once [`SpendRecord::folds`] says so, released ones older than [`FOLD_AFTER`] leave
    /// (they count nothing), and totals that left the longest window are dropped. Reserved and
    /// signed records stay until they settle: their outcome is not known.
    pub fn prune(&mut self, now: UnixSeconds) {
        let cutoff = now.saturating_sub(FOLD_AFTER);
        let mut kept = Vec::with_capacity(self.records.len());
        for record in std::mem::take(&mut self.records) {
            if record.folds(now) {
                self.folded.add(Folding {
                    at: record.at,
                    amount: record.amount,
                    fee_lamports: record.fee_lamports,
                    service_fee_lamports: if record.service_fee {
                        record.fee_lamports
                    } else {
                        0
                    },
                });
            } else if !(matches!(record.state, SpendState::Released { .. }) && record.at < cutoff) {
                kept.push(record);
            }
        }
        self.records = kept;
        self.folded.prune(now);
    }
}
