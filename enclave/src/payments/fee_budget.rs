//! The service fee payer's daily budget (docs/design.md, "Fees"): every lamport it spends on
//! fees and rent counts, per key in the limits the user signed and, for all keys together,
//! against `solana.fee_payer_lamports_per_day` in the measured configuration.

use super::account::Account;
use super::context::PaymentContext;
use super::error::PaymentError;
use crate::policy::{in_user_units, Asset, Denial, Figures, Rule, UnixSeconds, Window};

/// The service fee payer's daily budget, held for one reservation.
pub(super) struct FeeBudget<'a> {
    _held: tokio::sync::MutexGuard<'a, ()>,
    spent_today: u128,
    per_day: u64,
}

impl<'a> FeeBudget<'a> {
    /// Takes the budget's lock and reads what the fee payer spent in the last day.
    pub(super) async fn hold(
        state: &'a PaymentContext,
        at: UnixSeconds,
    ) -> Result<Self, PaymentError> {
        let payer = state.payer()?;
        let held = payer.fee_budget.lock().await;
        let spent_today = state.accounts.service_fees_in(Window::Day, at).await?;
        Ok(Self {
            _held: held,
            spent_today,
            per_day: payer.fee_payer_lamports_per_day,
        })
    }

    /// Refuses the reservation `account` just made for `payment` if its fees and rent would
    /// take the fee payer past its daily budget.
    pub(super) fn check(&self, account: &Account, payment: &str) -> Result<(), PaymentError> {
        let fee = account
            .key_usage
            .for_payment(payment)
            .map_or(0, |r| r.fee_lamports);
        let after = self.spent_today.saturating_add(u128::from(fee));
        if after <= u128::from(self.per_day) {
            return Ok(());
        }
        let sol = |lamports: u128| in_user_units(&Asset::Native, lamports);
        Err(PaymentError::Denied(Denial {
            rule: Rule::FeeCapExceeded,
            detail: format!(
                "the service's fee payer has spent {} of fees and rent today; {} more exceeds its {} daily budget",
                sol(self.spent_today),
                sol(u128::from(fee)),
                sol(u128::from(self.per_day))
            ),
            figures: Some(Figures {
                amount: fee,
                spent: Some(u64::try_from(self.spent_today).unwrap_or(u64::MAX)),
                cap: self.per_day,
                window: Some(Window::Day.name().to_owned()),
            }),
        }))
    }
}
