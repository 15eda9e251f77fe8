//! The session-key accounts in memory, each behind its own lock, written through to the
//! host's store before a change becomes visible.
//!
//! A change is applied to a copy, the copy is sealed and written with compare-and-set on the
//! record's version, and only then replaces the account in memory: a failed or conflicting
//! write changes nothing, and no decision is ever made on state the store does not hold.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Mutex as AsyncMutex;

use super::account::{Account, ACCOUNT_PREFIX};
use super::error::PaymentError;
use crate::policy::{UnixSeconds, Window};
use crate::state::host_store::HostStore;
use crate::state::records::{self, RecordError};
use crate::state::sealed::StateKey;

#[derive(Debug)]
struct Stored {
    version: u64,
    account: Account,
}

#[derive(Debug, Default)]
pub struct Accounts {
    by_id: Mutex<BTreeMap<String, Arc<AsyncMutex<Stored>>>>,
}

impl Accounts {
    /// Every account in the store.
    pub async fn load(store: &HostStore, key: &StateKey) -> Result<Self, RecordError> {
        let accounts = Self::default();
        for entry in store.list(ACCOUNT_PREFIX).await? {
            let (version, account): (u64, Account) =
                records::read(store, key, &entry.key)
                    .await?
                    .ok_or_else(|| RecordError::Malformed(entry.key.clone()))?;
            if Account::record_name(&account.id) != entry.key {
                return Err(RecordError::Malformed(entry.key));
            }
            accounts.insert(version, account)?;
        }
        Ok(accounts)
    }

    fn insert(&self, version: u64, account: Account) -> Result<(), RecordError> {
        let mut by_id = self
            .by_id
            .lock()
            .map_err(|_| RecordError::Malformed("the account map".into()))?;
        by_id.insert(
            account.id.clone(),
            Arc::new(AsyncMutex::new(Stored { version, account })),
        );
        Ok(())
    }

    fn cell(&self, id: &str) -> Result<Arc<AsyncMutex<Stored>>, PaymentError> {
        self.by_id
            .lock()
            .map_err(|_| PaymentError::Internal("the account map is unavailable"))?
            .get(id)
            .cloned()
            .ok_or_else(|| PaymentError::UnknownSessionKey(id.to_owned()))
    }

    /// Stores a new account; refused if its id exists.
    pub async fn create(
        &self,
        store: &HostStore,
        key: &StateKey,
        account: Account,
    ) -> Result<(), PaymentError> {
        let version = records::write(
            store,
            key,
            &Account::record_name(&account.id),
            None,
            &account,
        )
        .await?;
        self.insert(version, account)?;
        Ok(())
    }

    /// A copy of the account.
    pub async fn get(&self, id: &str) -> Result<Account, PaymentError> {
        Ok(self.cell(id)?.lock().await.account.clone())
    }

    /// Every account's cell (the map's lock is held only to copy the list).
    fn cells(&self) -> Result<Vec<Arc<AsyncMutex<Stored>>>, PaymentError> {
        Ok(self
            .by_id
            .lock()
            .map_err(|_| PaymentError::Internal("the account map is unavailable"))?
            .values()
            .cloned()
            .collect())
    }

    /// Copies of every account.
    pub async fn all(&self) -> Result<Vec<Account>, PaymentError> {
        let cells = self.cells()?;
        let mut out = Vec::with_capacity(cells.len());
        for cell in cells {
            out.push(cell.lock().await.account.clone());
        }
        Ok(out)
    }

    /// Lamports of fees and rent the service's fee payer paid for every key's payments that
    /// count in `window` at `now` (from each key's own usage, where every payment is counted
    /// once).
    pub async fn service_fees_in(
        &self,
        window: Window,
        now: UnixSeconds,
    ) -> Result<u128, PaymentError> {
        let mut total: u128 = 0;
        self.visit(|account| {
            total = total.saturating_add(account.key_usage.service_fees_in(window, now));
        })
        .await?;
        Ok(total)
    }

    /// Shows every account to `visit`, one at a time under its lock, without copying it.
    pub async fn visit(&self, mut visit: impl FnMut(&Account)) -> Result<(), PaymentError> {
        for cell in self.cells()? {
            visit(&cell.lock().await.account);
        }
        Ok(())
    }

    /// Applies `change` to a copy, persists the copy, then makes it current. Changes to one
    /// account are serialized; an error from `change` or from the store changes nothing.
    pub async fn update<T>(
        &self,
        store: &HostStore,
        key: &StateKey,
        id: &str,
        change: impl FnOnce(&mut Account) -> Result<T, PaymentError>,
    ) -> Result<T, PaymentError> {
        let cell = self.cell(id)?;
        let mut current = cell.lock().await;
        let mut next = current.account.clone();
        let out = change(&mut next)?;
        let version = records::write(
            store,
            key,
            &Account::record_name(id),
            Some(current.version),
            &next,
        )
        .await?;
        *current = Stored {
            version,
            account: next,
        };
        Ok(out)
    }
}
