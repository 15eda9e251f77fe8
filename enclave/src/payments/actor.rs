//! Who asks: the API key's id, its tenant, and whether it holds `full`.
//!
//! A session key, its sessions and its payments belong to the tenant of the API key that
//! registered it. Another tenant's keys are told `not_found` (ids cannot be probed); only
//! `full` operator keys see across tenants.

use super::account::Account;
use super::context::PaymentContext;
use super::error::PaymentError;

#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub key_id: &'a str,
    pub tenant: &'a str,
    pub full: bool,
}

impl Actor<'_> {
    /// Whether this caller may see what belongs to `tenant`: the one rule for session keys,
    /// payment intents and analytics.
    pub fn sees_tenant(&self, tenant: &str) -> bool {
        self.full || tenant == self.tenant
    }

    /// Whether this caller may see and act on `account`.
    pub fn sees(&self, account: &Account) -> bool {
        self.sees_tenant(&account.tenant)
    }

    /// The account `id`, if this caller may see it; `UnknownSessionKey` otherwise.
    pub async fn account(
        &self,
        state: &PaymentContext,
        id: &str,
    ) -> Result<std::sync::Arc<Account>, PaymentError> {
        let account = state.accounts.get(id).await?;
        if self.sees(&account) {
            Ok(account)
        } else {
            Err(PaymentError::UnknownSessionKey(id.to_owned()))
        }
    }
}
