//! The spending-policy engine: intents, their invariant, one pure decision function, and the
//! reservations that windows are computed from.
//!
//! Deny wins and the default is deny. Amounts are integers in the asset's base units.

pub mod decide;
pub mod guard;
pub mod intent;
pub mod time;
pub mod usage;

pub use decide::{decide, in_user_units, Approval, Decision, Denial, Figures, Rule, Spend};
pub use guard::{
    NoStore, Reservation, ReserveError, SessionSpending, SessionState, SessionStore, StoreError,
};
pub use intent::{Asset, Caps, FeePolicy, Intent, IntentError, SIGNER_PROGRAMS};
pub use time::{PerWindow, UnixSeconds, Window};
pub use usage::{ReleaseProof, ReservationId, SpendRecord, SpendState, Usage, UsageError};
