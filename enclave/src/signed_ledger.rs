//! The ledger as the enclave writes it: entries appended to the sealed log in the host's store
//! (`crate::ledger`), the head re-signed with the enclave's key after each, and receipts signed
//! with the same key. One value shared by the API and the payment flow, so neither depends on
//! the other to record what happened.

use std::sync::{Arc, Mutex};

use aip_wire::ledger::{LedgerEntry, LedgerHead};
use aip_wire::payments::{Receipt, SignedReceipt};
use ed25519_dalek::SigningKey;

use crate::clock::EnclaveClock;
use crate::ledger::{Ledger, LedgerStoreError};
use crate::state::host_store::HostStore;
use crate::state::sealed::StateKey;

#[derive(Debug, thiserror::Error)]
pub enum SignedLedgerError {
    #[error("appending to the ledger")]
    Append(#[source] LedgerStoreError),
    #[error("reading the ledger")]
    Read(#[source] LedgerStoreError),
    #[error("the ledger's signed head is unavailable (a writer panicked)")]
    Poisoned,
}

#[derive(Debug)]
pub struct SignedLedger {
    ledger: tokio::sync::Mutex<Ledger>,
    head: Mutex<LedgerHead>,
    /// The enclave's Ed25519 key (bound in its attestation): ledger heads and receipts.
    signing: SigningKey,
    store: Arc<HostStore>,
    state_key: Arc<StateKey>,
    clock: Arc<EnclaveClock>,
}

impl SignedLedger {
    pub fn new(
        ledger: Ledger,
        signing: SigningKey,
        store: Arc<HostStore>,
        state_key: Arc<StateKey>,
        clock: Arc<EnclaveClock>,
    ) -> Self {
        let head = LedgerHead::sign(&signing, ledger.seq, ledger.hash);
        Self {
            ledger: tokio::sync::Mutex::new(ledger),
            head: Mutex::new(head),
            signing,
            store,
            state_key,
            clock,
        }
    }

    /// Appends an entry (durable in the host's store on return) and re-signs the head.
    pub async fn record(
        &self,
        kind: &str,
        body: &serde_json::Value,
    ) -> Result<LedgerEntry, SignedLedgerError> {
        let mut ledger = self.ledger.lock().await;
        let entry = ledger
            .append(
                &self.store,
                &self.state_key,
                self.clock.now_unix_ms(),
                kind,
                &body.to_string(),
            )
            .await
            .map_err(SignedLedgerError::Append)?;
        let head = LedgerHead::sign(&self.signing, ledger.seq, ledger.hash);
        *self.head.lock().map_err(|_| SignedLedgerError::Poisoned)? = head;
        Ok(entry)
    }

    /// The current signed head.
    pub fn head(&self) -> Result<LedgerHead, SignedLedgerError> {
        self.head
            .lock()
            .map(|head| *head)
            .map_err(|_| SignedLedgerError::Poisoned)
    }

    /// Entries from `from` (1-based), at most `limit`.
    pub async fn export(
        &self,
        from: u64,
        limit: u64,
    ) -> Result<Vec<LedgerEntry>, SignedLedgerError> {
        let ledger = self.ledger.lock().await;
        ledger
            .export(&self.store, &self.state_key, from, limit)
            .await
            .map_err(SignedLedgerError::Read)
    }

    /// A receipt signed with the enclave's key.
    pub fn sign_receipt(&self, receipt: Receipt) -> SignedReceipt {
        SignedReceipt::sign(receipt, &self.signing)
    }

    /// The enclave's signing public key (heads and receipts verify against it).
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }
}
