//! Per-key token buckets: `burst` requests at once, refilled at `per_minute`.
//!
//! Time is the enclave's monotonic clock in milliseconds, passed in (no hidden clock), so the
//! bucket is a pure function of its history and is tested as a table.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed at once.
    pub burst: u32,
    /// Sustained requests per minute.
    pub per_minute: u32,
}

impl RateLimit {
    pub const DEFAULT: RateLimit = RateLimit {
        burst: 20,
        per_minute: 600,
    };

    /// Both numbers at least 1 and at most 100 000: a zero would lock the key out forever, a
    /// huge one is no limit and overflows nothing only because of this bound.
    pub fn invariant(&self) -> Result<(), String> {
        for (name, value) in [("burst", self.burst), ("per_minute", self.per_minute)] {
            if !(1..=100_000).contains(&value) {
                return Err(format!("rate limit {name} must be 1..=100000, got {value}"));
            }
        }
        Ok(())
    }
}

/// A bucket's state, in thousandths of a token so refills are exact integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    limit: RateLimit,
    milli_tokens: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn new(limit: RateLimit, now_ms: u64) -> Self {
        Self {
            limit,
            milli_tokens: u64::from(limit.burst) * 1000,
            last_ms: now_ms,
        }
    }

    /// Takes one token if there is one. A clock that goes backwards refills nothing.
    pub fn try_take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        // per_minute tokens per 60 000 ms = per_minute / 60 milli-tokens per ms
        let refill = elapsed.saturating_mul(u64::from(self.limit.per_minute)) / 60;
        let cap = u64::from(self.limit.burst) * 1000;
        self.milli_tokens = self.milli_tokens.saturating_add(refill).min(cap);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }

    /// Milliseconds until the next token (for `Retry-After`).
    pub fn wait_ms(&self) -> u64 {
        let missing = 1000u64.saturating_sub(self.milli_tokens);
        (missing * 60).div_ceil(u64::from(self.limit.per_minute.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariant_table() {
        for (burst, per_minute, ok) in [
            (1, 1, true),
            (20, 600, true),
            (100_000, 100_000, true),
            (0, 600, false),
            (20, 0, false),
            (100_001, 1, false),
        ] {
            assert_eq!(
                RateLimit { burst, per_minute }.invariant().is_ok(),
                ok,
                "{burst} {per_minute}"
            );
        }
    }

    #[test]
    fn bucket_table() {
        let limit = RateLimit {
            burst: 2,
            per_minute: 60,
        }; // one token per second
        let mut b = TokenBucket::new(limit, 10_000);
        // (now_ms, allowed)
        for (now, allowed) in [
            (10_000, true),
            (10_000, true),
            (10_000, false), // burst spent
            (10_999, false), // 0.999 of a token
            (11_000, true),  // one second: one token
            (5_000, false),  // the clock went back: no refill
            (13_500, true),
            (13_500, true), // 2.5 s refilled 2 (capped at burst 2)
            (13_500, false),
            (100_000, true), // long idle: capped at burst
            (100_000, true),
            (100_000, false),
        ] {
            assert_eq!(b.try_take(now), allowed, "at {now}");
        }
        assert_eq!(b.wait_ms(), 1000);
    }
}
