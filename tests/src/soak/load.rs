//! The load: workers paying through several session keys and agents, each payment under its
//! own idempotency key and its own amount (so every transfer on chain names its payment),
//! retried as a backend would after a transient error or a lost connection: the same request
//! again, after reconnecting to the restarted enclave (a new TLS key, found by attestation).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aip_client::signer::{Signer, SignerError};
use aip_wire::payments::{PaymentStatus, SmartPayment};
use solana_address::Address;

use crate::service::{AttestationClient, DEVNET_USDC_MINT};

/// One agent's session under one session key, and the caps that bind it.
#[derive(Debug, Clone)]
pub struct SoakSession {
    pub key_id: String,
    pub wallet: Address,
    pub agent: String,
    /// The session's own day cap (base units).
    pub session_day_cap: u64,
    /// The session key's day cap.
    pub key_day_cap: u64,
    /// The session key's autonomy total (what the user delegated).
    pub autonomy_total: u64,
}

/// How one payment request ended, as the backend saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An answer: the payment's status (and the denial's rule).
    Answered {
        status: PaymentStatus,
        rule: Option<String>,
    },
    /// A refusal that is final for this request (its code).
    Refused(String),
    /// No final answer before the workers had to stop.
    Unanswered,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub request: SmartPayment,
    pub session: usize,
    pub payment_id: Option<String>,
    pub outcome: Outcome,
}

/// Refusals that say "not now": the same request is sent again.
const TRANSIENT: [&str; 6] = [
    "unavailable",
    "chain_unavailable",
    "lit_threshold_unmet",
    "payment_in_progress",
    "rate_limited",
    "internal",
];

/// The backend's connection to the enclave, replaced after a restart.
#[derive(Debug)]
pub struct Backend {
    current: RwLock<(u64, Signer)>,
    reconnecting: tokio::sync::Mutex<()>,
    attest: AttestationClient,
    api_key: String,
    /// The signing key of every enclave boot this backend talked to (from its attestation).
    pub enclave_keys: Mutex<BTreeSet<[u8; 32]>>,
    /// Transient errors, by cause.
    pub transient: Mutex<BTreeMap<String, u64>>,
}

impl Backend {
    /// `signer` talks to the enclave as `attest` finds it (whose signing key is recorded).
    pub async fn new(
        signer: Signer,
        attest: AttestationClient,
        api_key: String,
    ) -> Result<Self, aip_attestation::fetch::FetchError> {
        let found = attest.wait(Duration::from_secs(60)).await?;
        Ok(Self {
            current: RwLock::new((0, signer)),
            reconnecting: tokio::sync::Mutex::new(()),
            attest,
            api_key,
            enclave_keys: Mutex::new(BTreeSet::from([found.keys.signing_public_key])),
            transient: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn signer(&self) -> (u64, Signer) {
        self.current.read().unwrap().clone()
    }

    fn count(&self, cause: &str) {
        *self
            .transient
            .lock()
            .unwrap()
            .entry(cause.to_owned())
            .or_default() += 1;
    }

    /// Finds the enclave again (after a restart: a new TLS key), unless another task already
    /// did since `seen`; keeps the ledger head seen so far, so a rollback is caught.
    pub async fn reconnect(&self, seen: u64) {
        let _guard = self.reconnecting.lock().await;
        if self.signer().0 != seen {
            return;
        }
        let Ok(found) = self.attest.wait(Duration::from_secs(120)).await else {
            return;
        };
        let old = self.signer().1;
        let Ok(signer) = Signer::new(
            self.attest.endpoint.clone(),
            found.spki_sha256,
            &self.attest.client_cert_pem,
            &self.attest.client_key_pem,
            Some(self.api_key.clone()),
        ) else {
            return;
        };
        if let Some(head) = old.head() {
            signer.remember_head(head);
        }
        // The key this boot signs receipts with, as its evidence binds it.
        self.enclave_keys
            .lock()
            .unwrap()
            .insert(found.keys.signing_public_key);
        *self.current.write().unwrap() = (seen + 1, signer);
    }

    /// Sends `request` until it gets a final answer or `give_up` passes.
    pub async fn pay(&self, request: &SmartPayment, give_up: Instant) -> (Option<String>, Outcome) {
        loop {
            let (generation, signer) = self.signer();
            match signer.smart_payment(request).await {
                Ok(answer) => {
                    return (
                        Some(answer.payment_id),
                        Outcome::Answered {
                            status: answer.status,
                            rule: answer.denial.map(|d| d.rule),
                        },
                    )
                }
                Err(SignerError::Refused { code, .. }) if TRANSIENT.contains(&code.as_str()) => {
                    self.count(&code);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(SignerError::Refused { code, .. }) => return (None, Outcome::Refused(code)),
                Err(_) => {
                    self.count("unreachable");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    self.reconnect(generation).await;
                }
            }
            if Instant::now() > give_up {
                return (None, Outcome::Unanswered);
            }
        }
    }
}

/// The request for payment number `n` through `session`: its own idempotency key, and its own
/// amount (10 000 + n base units, a cent and a bit), so the chain tells payments apart.
pub fn request(session: &SoakSession, n: u64, recipient: &Address) -> SmartPayment {
    SmartPayment {
        agent_id: session.agent.clone(),
        session_key_id: session.key_id.clone(),
        recipient: recipient.to_string(),
        amount: 10_000 + n,
        mint: DEVNET_USDC_MINT.to_owned(),
        memo: None,
        gasless: None,
        auto_detect_gasless: false,
        idempotency_key: format!("soak-{n}"),
        transaction: None,
        dry_run: false,
    }
}

/// One worker: pays through the sessions in turn until `stop`, finishing the payment in hand
/// (up to `give_up`).
pub async fn worker(
    backend: Arc<Backend>,
    sessions: Arc<Vec<SoakSession>>,
    recipients: Arc<Vec<Address>>,
    next: Arc<AtomicU64>,
    stop: Instant,
    give_up: Instant,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    while Instant::now() < stop {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let session = (n as usize) % sessions.len();
        let recipient = &recipients[(n as usize / sessions.len()) % recipients.len()];
        let request = request(&sessions[session], n, recipient);
        let (payment_id, outcome) = backend.pay(&request, give_up).await;
        attempts.push(Attempt {
            request,
            session,
            payment_id,
            outcome,
        });
    }
    attempts
}
