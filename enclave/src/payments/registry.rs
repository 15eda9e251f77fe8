//! The session-key accounts in memory, written through to the host's store before a change
//! is answered.
//!
//! A change is applied under the account's lock to a copy of its latest state and becomes
//! that latest state; its caller then waits until a write that holds it is durable. One
//! writer per account writes the latest state whenever there is one it has not written, so
//! the changes made while a write is under way go to the store together in the next (group
//! commit: a busy key's payments write its record once per group, not once each). Readers
//! see only what the store holds. A write that fails fails every change it held and every
//! change made on top of them, and the latest state returns to what the store holds: a failed
//! write changes nothing, and nothing is answered on state the store does not hold (a change
//! refused on unwritten state waits for that state's write too).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::account::{Account, ACCOUNT_PREFIX};
use super::error::PaymentError;
use crate::policy::{UnixSeconds, Window};
use crate::state::host_store::HostStore;
use crate::state::records::{self, RecordError};
use crate::state::sealed::StateKey;

/// What a change waits for: its write's outcome (one error shared by every change it held).
type Durable = oneshot::Sender<Result<(), Arc<RecordError>>>;

#[derive(Debug)]
struct Stored {
    /// The account as the store holds it, at `version`.
    version: u64,
    durable: Arc<Account>,
    /// The latest state, when it holds changes not yet durable; the next change applies to a
    /// copy of it and replaces it with a new one. Shared with the write under way, which makes
    /// it `durable` once stored (and knows nothing changed since if it is still this one).
    latest: Option<Arc<Account>>,
    /// Callers waiting for the latest state's write.
    waiting: Vec<Durable>,
    /// Whether this account's writer is running.
    writing: bool,
}

#[derive(Debug)]
struct Cell(Mutex<Stored>);

impl Cell {
    fn new(version: u64, account: Account) -> Arc<Self> {
        Arc::new(Self(Mutex::new(Stored {
            version,
            durable: Arc::new(account),
            latest: None,
            waiting: Vec::new(),
            writing: false,
        })))
    }

    /// Nothing panics while holding it (changes run under it, but a change that panicked
    /// left `latest` as it was: it works on a copy).
    fn lock(&self) -> MutexGuard<'_, Stored> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Default)]
pub struct Accounts {
    by_id: Mutex<BTreeMap<String, Arc<Cell>>>,
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
        by_id.insert(account.id.clone(), Cell::new(version, account));
        Ok(())
    }

    fn cell(&self, id: &str) -> Result<Arc<Cell>, PaymentError> {
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

    /// The account as the store holds it (shared, not copied: a change makes a new one).
    pub async fn get(&self, id: &str) -> Result<Arc<Account>, PaymentError> {
        Ok(Arc::clone(&self.cell(id)?.lock().durable))
    }

    /// Every account's cell (the map's lock is held only to copy the list).
    fn cells(&self) -> Result<Vec<Arc<Cell>>, PaymentError> {
        Ok(self
            .by_id
            .lock()
            .map_err(|_| PaymentError::Internal("the account map is unavailable"))?
            .values()
            .cloned()
            .collect())
    }

    /// Every account as the store holds it.
    pub async fn all(&self) -> Result<Vec<Arc<Account>>, PaymentError> {
        let cells = self.cells()?;
        let mut out = Vec::with_capacity(cells.len());
        for cell in cells {
            out.push(Arc::clone(&cell.lock().durable));
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
            visit(&cell.lock().durable);
        }
        Ok(())
    }

    /// Applies `change` to the account's latest state and answers once that state is durable
    /// (see the module documentation). Changes to one account are applied one at a time; an
    /// error from `change` or from the store changes nothing.
    pub async fn update<T>(
        &self,
        store: &Arc<HostStore>,
        key: &Arc<StateKey>,
        id: &str,
        change: impl FnOnce(&mut Account) -> Result<T, PaymentError>,
    ) -> Result<T, PaymentError> {
        let cell = self.cell(id)?;
        let (durable, written) = oneshot::channel();
        let outcome = {
            let mut stored = cell.lock();
            let mut next = Account::clone(stored.latest.as_ref().unwrap_or(&stored.durable));
            let outcome = change(&mut next);
            match &outcome {
                Ok(_) => {
                    stored.latest = Some(Arc::new(next));
                    stored.waiting.push(durable);
                    if !stored.writing {
                        stored.writing = true;
                        tokio::spawn(write_behind(
                            Arc::clone(&cell),
                            Arc::clone(store),
                            Arc::clone(key),
                            Account::record_name(id),
                        ));
                    }
                }
                // Refused on state the store holds: nothing to wait for.
                Err(_) if stored.latest.is_none() => return outcome,
                // Refused on state not yet durable: the refusal stands once that state does.
                Err(_) => stored.waiting.push(durable),
            }
            outcome
        };
        match written.await {
            Ok(Ok(())) => outcome,
            Ok(Err(error)) => Err(RecordError::Shared(error).into()),
            Err(_) => Err(PaymentError::Internal("the account's writer stopped")),
        }
    }
}

/// The account's writer: writes its latest state until the store holds it, answering each
/// caller once a write that holds its change is durable. Runs as a task of its own, so a
/// caller that goes away cannot leave a write half-followed.
async fn write_behind(cell: Arc<Cell>, store: Arc<HostStore>, key: Arc<StateKey>, name: String) {
    loop {
        let (snapshot, expected, waiting) = {
            let mut stored = cell.lock();
            let Some(latest) = stored.latest.as_ref() else {
                stored.writing = false;
                return;
            };
            let snapshot = Arc::clone(latest);
            let waiting = std::mem::take(&mut stored.waiting);
            (snapshot, stored.version, waiting)
        };
        let written = records::write(&store, &key, &name, Some(expected), &*snapshot).await;
        let mut stored = cell.lock();
        match written {
            Ok(version) => {
                stored.version = version;
                let mut answered = waiting;
                if stored
                    .latest
                    .as_ref()
                    .is_some_and(|latest| Arc::ptr_eq(latest, &snapshot))
                {
                    // Nothing changed since: the latest state is the one written, and whoever
                    // waits now decided on it.
                    stored.latest = None;
                    answered.append(&mut stored.waiting);
                }
                stored.durable = snapshot;
                for caller in answered {
                    // A caller that went away needs no answer.
                    let _ = caller.send(Ok(()));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                // Every change since the store's state was built on what failed.
                stored.latest = None;
                let since = std::mem::take(&mut stored.waiting);
                for caller in waiting.into_iter().chain(since) {
                    let _ = caller.send(Err(Arc::clone(&error)));
                }
                stored.writing = false;
                return;
            }
        }
    }
}
