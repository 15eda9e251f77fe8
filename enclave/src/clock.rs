//! The enclave's wall clock (docs/design.md, "State, ledger, rollback"; docs/threat-model.md).
//!
//! Rolling windows (the daily cap) close when this clock says so, so a host that could run it
//! fast could reset a cap every few minutes. The clock is the process's monotonic clock from a
//! starting point, moved only forward, by two kinds of input:
//!
//! - **Trusted anchors**: time the host cannot forge. On Nitro, the timestamp of an NSM
//!   attestation document (signed by the Nitro hypervisor); on SEV-SNP and in dev, the block
//!   time the Solana RPC quorum agrees on, read over TLS that ends in the enclave (the
//!   smallest of the quorum's answers). An anchor ahead of the clock moves it to the anchor.
//! - **Host hints**: drift correction only. A hint moves the clock forward by at most
//!   `HINT_RATE_MS_PER_MINUTE` per minute of monotonic time (a budget that refills at that
//!   rate, capped at `HINT_BUDGET_MAX_MS`), and, once an anchor exists, never more than
//!   `HINT_SLACK_MS` past the anchor plus the monotonic time since it. So a window closes at
//!   most `HINT_SLACK_MS` early, however many hints the host sends.
//!
//! Nothing moves the clock backwards (ledger times stay ordered); a slow clock only makes
//! windows close late, which costs the user nothing.

use std::sync::Mutex;
use std::time::Instant;

/// How far hints may move the clock per minute of monotonic time.
pub const HINT_RATE_MS_PER_MINUTE: u64 = 2_000;
/// The most hint budget that can accumulate (after a long quiet spell).
pub const HINT_BUDGET_MAX_MS: u64 = 10_000;
/// How far past the trusted anchor (plus monotonic time since) hints may take the clock.
pub const HINT_SLACK_MS: u64 = 2_000;

#[derive(Debug)]
struct ClockState {
    /// Unix milliseconds at `started`, plus every forward adjustment since.
    base_ms: u64,
    /// Hint budget left and when it was last refilled.
    budget_ms: u64,
    refilled: Instant,
    /// The latest trusted time and when it was taken.
    anchor: Option<(u64, Instant)>,
}

#[derive(Debug)]
pub struct EnclaveClock {
    started: Instant,
    state: Mutex<ClockState>,
}

/// Milliseconds since `since`.
fn ms_since(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl EnclaveClock {
    /// A clock reading `unix_ms` now, with no anchor and no hint budget yet.
    pub fn starting_at(unix_ms: u64) -> Self {
        let now = Instant::now();
        Self {
            started: now,
            state: Mutex::new(ClockState {
                base_ms: unix_ms,
                budget_ms: 0,
                refilled: now,
                anchor: None,
            }),
        }
    }

    /// A clock starting from this process's own wall clock (until an anchor arrives).
    pub fn from_system() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self::starting_at(now)
    }

    fn read(&self, state: &ClockState) -> u64 {
        state.base_ms.saturating_add(ms_since(self.started))
    }

    pub fn now_unix_ms(&self) -> u64 {
        self.state.lock().map_or(0, |state| self.read(&state))
    }

    /// A trusted time. The first one sets the clock, forward or back: until then it ran from
    /// the system clock, which the host sets on some platforms (payments wait for the first
    /// anchor). Later ones move it forward only; one behind is remembered (it bounds later
    /// hints) but does not turn the clock back. Returns how far the clock moved forward.
    pub fn anchor(&self, trusted_unix_ms: u64) -> u64 {
        let Ok(mut state) = self.state.lock() else {
            return 0;
        };
        let now = self.read(&state);
        let step = trusted_unix_ms.saturating_sub(now);
        if state.anchor.is_none() {
            state.base_ms = trusted_unix_ms.saturating_sub(ms_since(self.started));
        } else {
            state.base_ms = state.base_ms.saturating_add(step);
        }
        state.anchor = Some((trusted_unix_ms, Instant::now()));
        step
    }

    /// Whether a trusted time has been seen.
    pub fn anchored(&self) -> bool {
        self.state.lock().is_ok_and(|state| state.anchor.is_some())
    }

    /// Applies a host hint within the rate budget and the anchor's slack. Returns how far the
    /// clock moved.
    pub fn hint(&self, host_unix_ms: u64) -> u64 {
        let Ok(mut state) = self.state.lock() else {
            return 0;
        };
        let refill = ms_since(state.refilled).saturating_mul(HINT_RATE_MS_PER_MINUTE) / 60_000;
        if refill > 0 {
            state.budget_ms = state
                .budget_ms
                .saturating_add(refill)
                .min(HINT_BUDGET_MAX_MS);
            state.refilled = Instant::now();
        }
        let now = self.read(&state);
        let mut step = host_unix_ms.saturating_sub(now).min(state.budget_ms);
        if let Some((anchor_ms, taken)) = state.anchor {
            let ceiling = anchor_ms
                .saturating_add(ms_since(taken))
                .saturating_add(HINT_SLACK_MS);
            step = step.min(ceiling.saturating_sub(now));
        }
        state.budget_ms -= step;
        state.base_ms = state.base_ms.saturating_add(step);
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 60 * 60 * 1000;

    fn clock_with_budget(start: u64, budget: u64) -> EnclaveClock {
        let clock = EnclaveClock::starting_at(start);
        if let Ok(mut state) = clock.state.lock() {
            state.budget_ms = budget;
        }
        clock
    }

    #[test]
    fn hints_move_forward_only_within_the_budget() {
        // (budget, hint relative to now, largest expected step)
        for (budget, ahead, step) in [
            (5_000u64, -10_000i64, 0u64), // behind: ignored
            (5_000, 0, 0),                // equal
            (5_000, 1_000, 1_000),        // a little ahead, within budget: followed
            (5_000, HOUR as i64, 5_000),  // an hour ahead: the budget
            (0, HOUR as i64, 0),          // no budget: nothing
        ] {
            let clock = clock_with_budget(1_000_000, budget);
            let now = clock.now_unix_ms() as i64;
            let moved = clock.hint((now + ahead) as u64);
            // elapsed time between the two reads can shave a millisecond or two off.
            assert!(
                moved <= step && moved + 5 >= step,
                "budget {budget}, ahead {ahead}: moved {moved}"
            );
        }
    }

    #[test]
    fn a_flood_of_hints_spends_the_budget_once() {
        let clock = clock_with_budget(1_000_000, HINT_BUDGET_MAX_MS);
        let mut moved = 0;
        for _ in 0..1000 {
            moved += clock.hint(clock.now_unix_ms() + 24 * HOUR);
        }
        // The budget, plus at most what refilled during the loop.
        assert!(moved <= HINT_BUDGET_MAX_MS + 100, "moved {moved}");
    }

    #[test]
    fn hints_stay_within_the_slack_of_the_anchor() {
        let clock = clock_with_budget(1_000_000, HINT_BUDGET_MAX_MS);
        let anchored = clock.now_unix_ms();
        clock.anchor(anchored);
        let moved = clock.hint(anchored + HOUR);
        assert!(moved <= HINT_SLACK_MS + 5, "moved {moved}");
        assert!(clock.now_unix_ms() <= anchored + HINT_SLACK_MS + 50);
    }

    #[test]
    fn the_first_anchor_sets_the_clock_later_ones_only_move_it_forward() {
        // A system clock a day ahead (a host that set it) is corrected by the first anchor.
        let clock = EnclaveClock::starting_at(1_000_000 + 24 * HOUR);
        assert!(!clock.anchored());
        clock.anchor(1_000_000);
        assert!(clock.anchored());
        assert!(clock.now_unix_ms() < 1_000_000 + 1_000);
        assert!(clock.anchor(1_000_000 + HOUR) >= HOUR - 1_000);
        let before = clock.now_unix_ms();
        assert_eq!(clock.anchor(0), 0);
        assert!(clock.now_unix_ms() >= before, "never backwards");
        // A hint far ahead after an anchor far behind: still bounded by the budget (none).
        assert_eq!(clock.hint(before + HOUR), 0);
    }
}
