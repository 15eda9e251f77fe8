//! What an API key may do. `full` includes every other scope.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Full,
    CreatePayments,
    ReadAnalytics,
    ManageSessions,
    ManageDelegates,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Full,
        Scope::CreatePayments,
        Scope::ReadAnalytics,
        Scope::ManageSessions,
        Scope::ManageDelegates,
    ];

    /// Whether a key holding `self` may act under `needed`.
    pub fn grants(self, needed: Scope) -> bool {
        self == Scope::Full || self == needed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Full => "full",
            Scope::CreatePayments => "create_payments",
            Scope::ReadAnalytics => "read_analytics",
            Scope::ManageSessions => "manage_sessions",
            Scope::ManageDelegates => "manage_delegates",
        }
    }
}
