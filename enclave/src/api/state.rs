//! What the API handlers share: the key ring and rate limiters, the sealed state in the host's
//! store, the ledger and its signed head, and the means to attest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
use crate::payments::context::PaymentContext;
use crate::payments::registry::Accounts;
use crate::payments::Payer;
use crate::signed_ledger::SignedLedger;
use crate::state::host_store::HostStore;
use crate::state::sealed::StateKey;

pub use crate::evidence::Attestation;

/// What the API handlers share. The payment flow's part is [`PaymentContext`]; the signed
/// ledger and the store are shared with it.
#[derive(Debug)]
pub struct ApiState {
    pub keys: Mutex<KeyRing>,
    pub buckets: Mutex<HashMap<String, TokenBucket>>,
    pub started: Instant,
    pub max_body_bytes: usize,
    pub store: Arc<HostStore>,
    pub state_key: Arc<StateKey>,
    pub ledger: Arc<SignedLedger>,
    pub attestation: Attestation,
    pub metrics: Arc<EnclaveMetrics>,
    /// Wall time for the ledger, moved forward only by host hints.
    pub clock: Arc<EnclaveClock>,
    pub payments: Arc<PaymentContext>,
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
        let store = Arc::new(store);
        let state_key = Arc::new(state_key);
        let clock = Arc::new(EnclaveClock::from_system());
        let ledger = Arc::new(SignedLedger::new(
            ledger,
            signing,
            Arc::clone(&store),
            Arc::clone(&state_key),
            Arc::clone(&clock),
        ));
        let payments = Arc::new(PaymentContext::new(
            Arc::clone(&store),
            Arc::clone(&state_key),
            Arc::clone(&ledger),
            Arc::clone(&clock),
            Arc::clone(&metrics),
            attestation.clone(),
        ));
        Self {
            keys: Mutex::new(keys),
            buckets: Mutex::new(HashMap::new()),
            started: Instant::now(),
            max_body_bytes,
            store,
            state_key,
            ledger,
            attestation,
            metrics,
            clock,
            payments,
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
        self.payments = Arc::new(
            PaymentContext::new(
                Arc::clone(&self.store),
                Arc::clone(&self.state_key),
                Arc::clone(&self.ledger),
                Arc::clone(&self.clock),
                Arc::clone(&self.metrics),
                self.attestation.clone(),
            )
            .with(accounts, payer, analytics),
        );
        self
    }

    /// Milliseconds of the enclave's monotonic clock.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The current signed ledger head.
    pub fn head(&self) -> Result<LedgerHead, ApiError> {
        self.ledger
            .head()
            .map_err(|_| internal("the ledger state is unavailable"))
    }

    /// Appends to the ledger (durable in the host's store on return) and re-signs the head.
    pub async fn record(
        &self,
        kind: &str,
        body: &serde_json::Value,
    ) -> Result<LedgerEntry, ApiError> {
        self.ledger.record(kind, body).await.map_err(|e| {
            tracing::error!(error = %aip_wire::process::error_chain(&e), "ledger append failed");
            ApiError::new(
                ErrorCode::Unavailable,
                "the ledger could not be written; nothing was done",
            )
        })
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
