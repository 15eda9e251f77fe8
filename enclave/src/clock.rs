//! The enclave's wall clock: the process's monotonic clock from a starting point, moved only
//! forward by the host's time hints, by at most `MAX_STEP_MS` per hint (DESIGN.md, "State,
//! ledger, rollback"). A host that lies can slow the clock down or push it ahead slowly, never
//! turn it back; anything that matters for safety (blockhash expiry, reservations) is checked
//! against the chain, not this clock.

use std::sync::Mutex;
use std::time::Instant;

/// The largest forward step one hint may cause.
pub const MAX_STEP_MS: u64 = 5 * 60 * 1000;

#[derive(Debug)]
pub struct EnclaveClock {
    started: Instant,
    /// Unix milliseconds at `started`, plus every forward adjustment since.
    base_ms: Mutex<u64>,
}

impl EnclaveClock {
    /// A clock reading `unix_ms` now.
    pub fn starting_at(unix_ms: u64) -> Self {
        Self {
            started: Instant::now(),
            base_ms: Mutex::new(unix_ms),
        }
    }

    /// A clock starting from this process's own wall clock.
    pub fn from_system() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self::starting_at(now)
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn now_unix_ms(&self) -> u64 {
        let base = self.base_ms.lock().map_or(0, |b| *b);
        base.saturating_add(self.elapsed_ms())
    }

    /// Applies a host hint: ahead of us moves us forward (capped); behind is ignored. Returns
    /// how far the clock moved.
    pub fn hint(&self, host_unix_ms: u64) -> u64 {
        let Ok(mut base) = self.base_ms.lock() else {
            return 0;
        };
        let now = base.saturating_add(self.elapsed_ms());
        let step = host_unix_ms.saturating_sub(now).min(MAX_STEP_MS);
        *base = base.saturating_add(step);
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_only_move_forward_and_by_bounded_steps() {
        let clock = EnclaveClock::starting_at(1_000_000);
        // (hint relative to now, expected step)
        for (ahead, step) in [
            (-10_000i64, 0u64),            // behind: ignored
            (0, 0),                        // equal
            (1_000, 1_000),                // a little ahead: followed
            (60 * 60 * 1000, MAX_STEP_MS), // an hour ahead: capped
        ] {
            let now = clock.now_unix_ms() as i64;
            let moved = clock.hint((now + ahead) as u64);
            // elapsed time between the two reads can shave a millisecond or two off.
            assert!(
                moved <= step && moved + 5 >= step,
                "ahead {ahead}: moved {moved}"
            );
        }
        let before = clock.now_unix_ms();
        clock.hint(0);
        assert!(clock.now_unix_ms() >= before, "never backwards");
    }
}
