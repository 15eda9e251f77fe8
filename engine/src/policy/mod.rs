//! The spending-policy engine: intents, their invariant, one pure decision function, and the
//! reservations that windows are computed from.
//!
//! Deny wins and the default is deny. Amounts are integers in the asset's base units.

pub mod decide;
pub mod folded;
pub mod guard;
pub mod intent;
pub mod time;
pub mod usage;

pub use decide::{decide, in_user_units, Approval, Decision, Denial, Figures, Rule, Spend};
pub use folded::{FoldedHour, FoldedHours, FOLD_AFTER};
pub use guard::{
    NoStore, Reservation, ReserveError, SessionSpending, SessionState, SessionStore, StoreError,
};
pub use intent::{Asset, Caps, FeeCaps, FeePolicy, Intent, IntentError, SIGNER_PROGRAMS};
pub use time::{PerWindow, UnixSeconds, Window};
pub use usage::{
    Counted, ObservedDebit, ReleaseProof, ReservationId, SpendRecord, SpendState, Usage, UsageError,
};
