//! Everything a payment needs, owned in one place: the accounts and payment records in the
//! host's store under the state key, the payer (Lit, the RPC quorum, the fee payer), the set
//! of payments a request is working on, the analytics, the signed ledger, and the trusted clock.
//! The API holds one and passes it in; nothing under `payments/` knows the API's types.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::account::Account;
use super::analytics::Analytics;
use super::error::PaymentError;
use super::payer::Payer;
use super::registry::Accounts;
use crate::clock::EnclaveClock;
use crate::evidence::Attestation;
use crate::metrics::EnclaveMetrics;
use crate::policy::UnixSeconds;
use crate::signed_ledger::SignedLedger;
use crate::state::host_store::HostStore;
use crate::state::sealed::StateKey;

#[derive(Debug)]
pub struct PaymentContext {
    pub store: Arc<HostStore>,
    pub state_key: Arc<StateKey>,
    pub ledger: Arc<SignedLedger>,
    /// Wall time: anchored to a trusted source, moved forward only within bounds.
    pub clock: Arc<EnclaveClock>,
    pub metrics: Arc<EnclaveMetrics>,
    /// The evidence source (the clock's anchor on Nitro is a fresh NSM document's time).
    pub attestation: Attestation,
    /// Session keys and their agents' sessions.
    pub accounts: Accounts,
    /// Releasing keys, signing and submitting; `None` when no cluster is configured.
    pub payer: Option<Payer>,
    /// Payment ids a request is working on.
    in_flight: Mutex<HashSet<String>>,
    pub analytics: Mutex<Analytics>,
    /// Serializes registrations (one account per wallet).
    pub registering: tokio::sync::Mutex<()>,
    /// Usage has been reconciled with the chain since boot; payments wait for it.
    reconciled: AtomicBool,
}

impl PaymentContext {
    pub fn new(
        store: Arc<HostStore>,
        state_key: Arc<StateKey>,
        ledger: Arc<SignedLedger>,
        clock: Arc<EnclaveClock>,
        metrics: Arc<EnclaveMetrics>,
        attestation: Attestation,
    ) -> Self {
        Self {
            store,
            state_key,
            ledger,
            clock,
            metrics,
            attestation,
            accounts: Accounts::default(),
            payer: None,
            in_flight: Mutex::new(HashSet::new()),
            analytics: Mutex::new(Analytics::default()),
            registering: tokio::sync::Mutex::new(()),
            reconciled: AtomicBool::new(false),
        }
    }

    /// With the loaded accounts, the payer, and the analytics rebuilt from the ledger.
    pub fn with(mut self, accounts: Accounts, payer: Option<Payer>, analytics: Analytics) -> Self {
        self.accounts = accounts;
        self.payer = payer;
        self.analytics = Mutex::new(analytics);
        self
    }

    pub fn payer(&self) -> Result<&Payer, PaymentError> {
        self.payer.as_ref().ok_or(PaymentError::NotConfigured)
    }

    /// The trusted wall time in whole seconds.
    pub fn now(&self) -> UnixSeconds {
        UnixSeconds(i64::try_from(self.clock.now_unix_ms() / 1000).unwrap_or(i64::MAX))
    }

    /// Changes one account under its lock; persisted before it becomes visible.
    pub async fn update_account<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Account) -> Result<T, PaymentError>,
    ) -> Result<T, PaymentError> {
        self.accounts
            .update(&self.store, &self.state_key, id, change)
            .await
    }

    /// Counts a ledger entry just written in the analytics.
    pub fn analytics_entry(&self, entry: &aip_wire::ledger::LedgerEntry) {
        if let Ok(mut analytics) = self.analytics.lock() {
            analytics.add_entry(entry);
        }
    }

    /// Whether usage was reconciled with the chain since boot.
    pub fn reconciled(&self) -> bool {
        self.reconciled.load(Ordering::SeqCst)
    }

    /// Marks usage reconciled; whether it was not before.
    pub fn mark_reconciled(&self) -> bool {
        !self.reconciled.swap(true, Ordering::SeqCst)
    }
}

/// Holds a payment id while one request works on it; a concurrent retry is told to wait.
#[derive(Debug)]
pub struct InFlight<'a> {
    context: &'a PaymentContext,
    id: String,
}

impl<'a> InFlight<'a> {
    pub fn take(context: &'a PaymentContext, id: &str) -> Result<Self, PaymentError> {
        let mut set = context
            .in_flight
            .lock()
            .map_err(|_| PaymentError::Internal("the in-flight set is unavailable"))?;
        if !set.insert(id.to_owned()) {
            return Err(PaymentError::InProgress(id.to_owned()));
        }
        Ok(Self {
            context,
            id: id.to_owned(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.context.in_flight.lock() {
            set.remove(&self.id);
        }
    }
}
