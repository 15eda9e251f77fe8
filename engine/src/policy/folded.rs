//! Old usage folded into hourly totals, so a session's (and a key's) usage stays bounded in
//! size however many payments it makes (docs/design.md, "Policy").
//!
//! A confirmed reservation leaves the record list and is added to the total of the hour it was
//! made in as soon as reconciliation has read the chain past its signature, if its transaction
//! names its payment's reference (`SpendRecord::bound`); any other settled one (a debit observed
//! on chain, a caller's transaction) after [`FOLD_AFTER`], while its signature still catches a
//! second payment of the same transaction. So a busy key's record holds what happened since
//! the last reconciliation round, not ten minutes of payments. A folded hour counts
//! in a rolling window until its *latest* payment leaves the window: never shorter than the
//! payments it holds, at most an hour longer (the caps err towards refusing). Totals older
//! than the longest window are dropped.
//!
//! The chain reconciliation cannot match a folded payment by its signature any more, so when
//! it reads a wallet's whole history, debits in a folded hour are compared by total: the hour
//! counts at least what the chain shows for it ([`FoldedHours::at_least`]). Debits new since
//! its last round are new payments and count in full (`Usage::count_chain`).

use serde::{Deserialize, Serialize};

use super::time::{UnixSeconds, Window};

/// How long a settled reservation that reconciliation has not passed, or whose transaction is
/// not bound to its payment, stays a record of its own: longer than a reconciliation round
/// takes to pass it, so the chain's view of a recent payment still matches it by signature.
pub const FOLD_AFTER: i64 = 600;

const HOUR: i64 = 3_600;

/// The folded totals of one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldedHour {
    /// Unix seconds / 3600.
    pub hour: i64,
    /// The latest payment folded in: the hour counts in a window while this does.
    pub latest: UnixSeconds,
    /// In the intent's asset base units.
    pub amount: u64,
    /// Fees and rent, lamports.
    pub fee_lamports: u64,
    /// Of which the service's fee payer paid.
    pub service_fee_lamports: u64,
    pub payments: u64,
}

/// Hourly totals, oldest first, at most one per hour of the longest window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FoldedHours(Vec<FoldedHour>);

/// What one settled payment adds to its hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folding {
    pub at: UnixSeconds,
    pub amount: u64,
    pub fee_lamports: u64,
    pub service_fee_lamports: u64,
}

impl FoldedHours {
    pub fn hours(&self) -> &[FoldedHour] {
        &self.0
    }

    /// The hours that count in `window` at `now`.
    pub fn counting_in(
        &self,
        window: Window,
        now: UnixSeconds,
    ) -> impl Iterator<Item = &FoldedHour> {
        self.0
            .iter()
            .filter(move |h| window.contains(h.latest, now))
    }

    /// Whether `at` falls in an hour that has folded payments.
    pub fn covers(&self, at: UnixSeconds) -> bool {
        self.find(hour_of(at)).is_some()
    }

    fn find(&self, hour: i64) -> Option<usize> {
        self.0.binary_search_by_key(&hour, |h| h.hour).ok()
    }

    /// Adds one settled payment to its hour.
    pub fn add(&mut self, folding: Folding) {
        let hour = hour_of(folding.at);
        let index = match self.0.binary_search_by_key(&hour, |h| h.hour) {
            Ok(index) => index,
            Err(index) => {
                self.0.insert(
                    index,
                    FoldedHour {
                        hour,
                        latest: folding.at,
                        amount: 0,
                        fee_lamports: 0,
                        service_fee_lamports: 0,
                        payments: 0,
                    },
                );
                index
            }
        };
        if let Some(total) = self.0.get_mut(index) {
            total.latest = total.latest.max(folding.at);
            total.amount = total.amount.saturating_add(folding.amount);
            total.fee_lamports = total.fee_lamports.saturating_add(folding.fee_lamports);
            total.service_fee_lamports = total
                .service_fee_lamports
                .saturating_add(folding.service_fee_lamports);
            total.payments = total.payments.saturating_add(1);
        }
    }

    /// The chain shows `chain_total` debited in the hour of `at` by transactions no record
    /// knows: the hour counts at least that much. The amount it grew by (0 if it already
    /// counted as much).
    pub fn at_least(&mut self, at: UnixSeconds, chain_total: u64) -> u64 {
        let Some(total) = self.find(hour_of(at)).and_then(|i| self.0.get_mut(i)) else {
            return 0;
        };
        let grew = chain_total.saturating_sub(total.amount);
        if grew > 0 {
            total.amount = chain_total;
            total.latest = total.latest.max(at);
        }
        grew
    }

    /// Drops hours whose latest payment left the longest window.
    pub fn prune(&mut self, now: UnixSeconds) {
        self.0.retain(|h| Window::Month.contains(h.latest, now));
    }
}

/// The hour `at` falls in.
pub fn hour_of(at: UnixSeconds) -> i64 {
    at.0.div_euclid(HOUR)
}
