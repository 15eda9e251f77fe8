//! Time as the policy sees it: whole Unix seconds, and the three rolling windows of AIP-1.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch. The caller supplies it (from the enclave's monotonic clock),
/// so every decision is a pure function of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixSeconds(pub i64);

impl UnixSeconds {
    pub fn saturating_add(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    pub fn saturating_sub(self, seconds: i64) -> Self {
        Self(self.0.saturating_sub(seconds))
    }
}

impl std::fmt::Display for UnixSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A rolling window ending now. AIP-1's day, week and month are 24 h, 7 d and 30 d, rolling
/// (not calendar): a payment counts in a window for exactly its length after it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Day,
    Week,
    Month,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Day, Window::Week, Window::Month];

    pub const fn seconds(self) -> i64 {
        match self {
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
            Self::Month => 30 * 86_400,
        }
    }

    /// Whether something recorded at `at` still counts at `now`: `at` lies in
    /// `(now - length, now]`, or after `now` (a record from the future counts: fail closed).
    pub fn contains(self, at: UnixSeconds, now: UnixSeconds) -> bool {
        at > now.saturating_sub(self.seconds())
    }

    /// "today", "this week", "this month": the window in a sentence.
    pub fn period(self) -> &'static str {
        match self {
            Self::Day => "today",
            Self::Week => "this week",
            Self::Month => "this month",
        }
    }

    /// "daily", "weekly", "monthly".
    pub fn adjective(self) -> &'static str {
        match self {
            Self::Day => "daily",
            Self::Week => "weekly",
            Self::Month => "monthly",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// A value per window; `None` means no limit for that window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerWindow<T> {
    #[serde(default)]
    pub day: Option<T>,
    #[serde(default)]
    pub week: Option<T>,
    #[serde(default)]
    pub month: Option<T>,
}

impl<T: Copy> PerWindow<T> {
    pub fn get(&self, window: Window) -> Option<T> {
        match window {
            Window::Day => self.day,
            Window::Week => self.week,
            Window::Month => self.month,
        }
    }

    /// The windows that have a limit, shortest first.
    pub fn limits(&self) -> impl Iterator<Item = (Window, T)> + '_ {
        Window::ALL
            .into_iter()
            .filter_map(|w| self.get(w).map(|v| (w, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges() {
        let now = UnixSeconds(1_000_000);
        for window in Window::ALL {
            let len = window.seconds();
            assert!(window.contains(now, now), "{window:?}: now");
            assert!(
                window.contains(now.saturating_sub(len - 1), now),
                "{window:?}: one second inside"
            );
            assert!(
                !window.contains(now.saturating_sub(len), now),
                "{window:?}: exactly the length ago"
            );
            assert!(
                !window.contains(now.saturating_sub(len + 1), now),
                "{window:?}: outside"
            );
            assert!(
                window.contains(now.saturating_add(5), now),
                "{window:?}: future counts"
            );
        }
    }
}
