//! What the API handlers share: the key ring and rate limiters, the sealed state in the host's
//! store, the ledger and its signed head, and the means to attest.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aip_attestation::{BoundKeys, EvidenceProducer};
use aip_wire::ledger::{LedgerEntry, LedgerHead};
use axum::http::HeaderMap;
use ed25519_dalek::SigningKey;

use super::error::{ApiError, ErrorCode};
use super::keys::{KeyError, KeyRecord, KeyRing};
use super::rate::TokenBucket;
use super::scope::Scope;
use crate::clock::EnclaveClock;
use crate::ledger::Ledger;
use crate::metrics::EnclaveMetrics;
use crate::payments::analytics::Analytics;
use crate::payments::registry::Accounts;
use crate::payments::Payer;
use crate::state::host_store::HostStore;
use crate::state::sealed::StateKey;

/// The evidence source and the keys it binds (for `GET /v1/attestation`).
#[derive(Debug, Clone)]
pub struct Attestation {
    pub producer: Arc<dyn EvidenceProducer>,
    pub keys: BoundKeys,
}

#[derive(Debug)]
pub struct ApiState {
    pub keys: Mutex<KeyRing>,
    pub buckets: Mutex<HashMap<String, TokenBucket>>,
    pub started: Instant,
    pub max_body_bytes: usize,
    pub store: HostStore,
    pub state_key: StateKey,
    pub ledger: tokio::sync::Mutex<Ledger>,
    signed_head: Mutex<LedgerHead>,
    /// The enclave's Ed25519 key (bound in its attestation): ledger heads and receipts.
    pub signing: SigningKey,
    pub attestation: Attestation,
    pub metrics: Arc<EnclaveMetrics>,
    /// Wall time for the ledger, moved forward only by host hints.
    pub clock: Arc<EnclaveClock>,
    /// Session keys and their agents' sessions.
    pub accounts: Accounts,
    /// Releasing keys, signing and submitting; `None` when no cluster is configured.
    pub payer: Option<Payer>,
    /// Payment ids a request is working on.
    pub in_flight: Mutex<HashSet<String>>,
    pub analytics: Mutex<Analytics>,
    /// Serializes registrations (one account per wallet).
    pub registering: tokio::sync::Mutex<()>,
    /// Usage has been reconciled with the chain since boot; payments wait for it.
    pub reconciled: std::sync::atomic::AtomicBool,
}

impl ApiState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        keys: KeyRing,
        max_body_bytes: usize,
        store: HostStore,
        state_key: StateKey,
        ledger: Ledger,
        signing: SigningKey,
        attestation: Attestation,
        metrics: Arc<EnclaveMetrics>,
    ) -> Self {
        let signed_head = LedgerHead::sign(&signing, ledger.seq, ledger.hash);
        Self {
            keys: Mutex::new(keys),
            buckets: Mutex::new(HashMap::new()),
            started: Instant::now(),
            max_body_bytes,
            store,
            state_key,
            ledger: tokio::sync::Mutex::new(ledger),
            signed_head: Mutex::new(signed_head),
            signing,
            attestation,
            metrics,
            clock: Arc::new(EnclaveClock::from_system()),
            accounts: Accounts::default(),
            payer: None,
            in_flight: Mutex::new(HashSet::new()),
            analytics: Mutex::new(Analytics::default()),
            registering: tokio::sync::Mutex::new(()),
            reconciled: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Adds what payments need: the loaded accounts, the payer, the analytics rebuilt from
    /// the ledger.
    pub fn with_payments(
        mut self,
        accounts: Accounts,
        payer: Option<Payer>,
        analytics: Analytics,
    ) -> Self {
        self.accounts = accounts;
        self.payer = payer;
        self.analytics = Mutex::new(analytics);
        self
    }

    /// Counts a signed payment for its agent (once per payment id).
    pub fn analytics_add(&self, payment_id: &str, agent_id: &str, amount: u64) {
        if let Ok(mut analytics) = self.analytics.lock() {
            analytics.add(payment_id, agent_id, amount);
        }
    }

    /// Milliseconds of the enclave's monotonic clock.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The current signed ledger head.
    pub fn head(&self) -> Result<LedgerHead, ApiError> {
        self.signed_head
            .lock()
            .map(|head| *head)
            .map_err(|_| internal("the ledger state is unavailable"))
    }

    /// Appends to the ledger (durable in the host's store on return) and re-signs the head.
    pub async fn record(
        &self,
        kind: &str,
        body: &serde_json::Value,
    ) -> Result<LedgerEntry, ApiError> {
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
            .map_err(|e| {
                tracing::error!(error = %e, "ledger append failed");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "the ledger could not be written; nothing was done",
                )
            })?;
        let head = LedgerHead::sign(&self.signing, ledger.seq, ledger.hash);
        *self
            .signed_head
            .lock()
            .map_err(|_| internal("the ledger state is unavailable"))? = head;
        Ok(entry)
    }

    /// The API key's record, if the request carries a valid key with `needed` and the key's
    /// rate limit has room.
    pub fn authorize(&self, headers: &HeaderMap, needed: Scope) -> Result<KeyRecord, ApiError> {
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "missing Authorization: Bearer zai_... header",
                )
            })?;
        let record = {
            let mut keys = self
                .keys
                .lock()
                .map_err(|_| internal("the key ring is unavailable"))?;
            keys.authenticate(presented, needed)
                .map_err(|e| match e {
                    KeyError::MissingScope { .. } => {
                        ApiError::new(ErrorCode::ScopeMissing, e.to_string())
                    }
                    _ => ApiError::new(ErrorCode::Unauthorized, e.to_string()),
                })?
                .clone()
        };
        let now = self.now_ms();
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| internal("the rate limiter is unavailable"))?;
        let bucket = buckets
            .entry(record.id.clone())
            .or_insert_with(|| TokenBucket::new(record.rate, now));
        if !bucket.try_take(now) {
            let mut error = ApiError::new(
                ErrorCode::RateLimited,
                format!("key {} is over its rate limit", record.id),
            );
            error.retry_after = Some(bucket.wait_ms().div_ceil(1000));
            return Err(error);
        }
        Ok(record)
    }
}

pub(crate) fn internal(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Internal, message)
}
