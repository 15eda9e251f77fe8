//! The backend side: a typed mutual-TLS client for every endpoint of a running signer,
//! trusting it by its attested key hash, and tracking the ledger head it has seen so a
//! rolled-back signer is caught (`rollback_detected`) on the next request.

use std::sync::{Arc, Mutex};

use aip_wire::http_pool::ConnectionPool;
use aip_wire::https::{send_kept, HttpError};
use aip_wire::ledger::LedgerHead;
use aip_wire::payments::{
    AgentAnalytics, AgentTotals, Approve, ConfirmPaymentIntent, CreatePaymentIntent, CreateSession,
    DryRunAnswer, EnableAutonomy, EncryptionTarget, PaymentAnswer, PaymentIntentView,
    RegisterDeviceBound, Revoked, SessionKeyView, SessionView, SmartPayment, SubmitSigned, X402Pay,
    X402PayAnswer,
};
use aip_wire::server_key::{pinned_config, ClientTlsError};
use aip_wire::Endpoint;
use rustls::ClientConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const LEDGER_HEAD_HEADER: &str = "x-ledger-head";

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("client TLS configuration")]
    Tls(#[from] ClientTlsError),
    #[error("the signer is unreachable")]
    Unreachable(#[source] HttpError),
    /// The signer answered with an error: its code (`policy_denied`, ...) and message.
    #[error("{status} {code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the signer's answer to {path} is not what was expected: {reason}")]
    Malformed { path: String, reason: String },
}

impl SignerError {
    /// The API error code, if the signer refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A connection profile to one signer; cheap to clone and safe to share between tasks.
#[derive(Clone)]
pub struct Signer {
    url: Endpoint,
    config: Arc<ClientConfig>,
    api_key: Option<Arc<Zeroizing<String>>>,
    head: Arc<Mutex<Option<LedgerHead>>>,
    /// Connections kept open to the signer (shared by clones): a TLS handshake per request
    /// would cost both sides more than the request.
    connections: Arc<ConnectionPool>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub fee_payer: String,
    pub usdc_mints: Vec<String>,
}

impl Signer {
    /// `pin` is the SHA-256 of the signer's TLS key from its verified attestation.
    pub fn new(
        url: Endpoint,
        pin: [u8; 32],
        client_certificate_pem: &str,
        client_key_pem: &str,
        api_key: Option<String>,
    ) -> Result<Self, SignerError> {
        let config = pinned_config(pin, Some((client_certificate_pem, client_key_pem)))?;
        Ok(Self {
            url,
            config,
            api_key: api_key.map(|k| Arc::new(Zeroizing::new(k))),
            head: Arc::new(Mutex::new(None)),
            connections: Arc::new(ConnectionPool::new()),
        })
    }

    /// The latest ledger head this client has seen.
    pub fn head(&self) -> Option<LedgerHead> {
        self.head.lock().ok().and_then(|h| *h)
    }

    /// Starts from a head remembered elsewhere (e.g. persisted by the backend).
    pub fn remember_head(&self, head: LedgerHead) {
        if let Ok(mut slot) = self.head.lock() {
            *slot = Some(head);
        }
    }

    /// One request; the raw response for callers that need more than the JSON.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<aip_wire::https::Response, SignerError> {
        let bearer = self
            .api_key
            .as_ref()
            .map(|k| Zeroizing::new(format!("Bearer {}", k.as_str())));
        let seen = self.head().map(|h| h.to_header());
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        if let Some(seen) = &seen {
            headers.push((LEDGER_HEAD_HEADER, seen.as_str()));
        }
        let response = send_kept(
            &self.connections,
            &self.url,
            &self.config,
            method,
            path,
            &headers,
            body.unwrap_or_default(),
        )
        .await
        .map_err(SignerError::Unreachable)?;
        if let Some(head) = response
            .header(LEDGER_HEAD_HEADER)
            .and_then(|h| LedgerHead::from_header(h).ok())
        {
            if let Ok(mut slot) = self.head.lock() {
                // Only forward: an older head in an answer must not erase what we saw.
                if slot.is_none_or(|seen| head.seq >= seen.seq) {
                    *slot = Some(head);
                }
            }
        }
        Ok(response)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, SignerError> {
        let body =
            body.map(serde_json::to_vec)
                .transpose()
                .map_err(|e| SignerError::Malformed {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
        let response = self.raw(method, path, body).await?;
        if !(200..300).contains(&response.status) {
            let json = response.json();
            return Err(SignerError::Refused {
                status: response.status,
                code: json["error"]["code"].as_str().unwrap_or("").to_owned(),
                message: json["error"]["message"].as_str().map_or_else(
                    || String::from_utf8_lossy(&response.body).into_owned(),
                    str::to_owned,
                ),
            });
        }
        serde_json::from_slice(&response.body).map_err(|e| SignerError::Malformed {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SignerError> {
        self.call("GET", path, None::<&()>).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, SignerError> {
        self.call("POST", path, Some(body)).await
    }

    pub async fn service(&self) -> Result<ServiceInfo, SignerError> {
        self.get("/v1/service").await
    }

    pub async fn encryption_target(&self) -> Result<EncryptionTarget, SignerError> {
        self.get("/v1/session-keys/encryption-target").await
    }

    pub async fn register_device_bound(
        &self,
        request: &RegisterDeviceBound,
    ) -> Result<SessionKeyView, SignerError> {
        self.post("/v1/session-keys/device-bound", request).await
    }

    pub async fn session_key(&self, id: &str) -> Result<SessionKeyView, SignerError> {
        self.get(&format!("/v1/session-keys/{id}")).await
    }

    pub async fn enable_autonomy(
        &self,
        id: &str,
        request: &EnableAutonomy,
    ) -> Result<SessionKeyView, SignerError> {
        self.post(&format!("/v1/session-keys/{id}/enable-autonomy"), request)
            .await
    }

    pub async fn revoke(&self, id: &str) -> Result<Revoked, SignerError> {
        self.post(
            &format!("/v1/session-keys/{id}/revoke"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn create_session(
        &self,
        request: &CreateSession,
    ) -> Result<SessionView, SignerError> {
        self.post("/v1/sessions", request).await
    }

    pub async fn sessions(
        &self,
        session_key_id: Option<&str>,
    ) -> Result<Vec<SessionView>, SignerError> {
        #[derive(Deserialize)]
        struct List {
            sessions: Vec<SessionView>,
        }
        let path = match session_key_id {
            Some(id) => format!("/v1/sessions?session_key_id={id}"),
            None => "/v1/sessions".to_owned(),
        };
        Ok(self.get::<List>(&path).await?.sessions)
    }

    pub async fn smart_payment(
        &self,
        request: &SmartPayment,
    ) -> Result<PaymentAnswer, SignerError> {
        self.post("/v1/smart-payment", request).await
    }

    /// What the policy would decide on `request` (sent with `dry_run: true`); nothing is
    /// reserved, signed or recorded.
    pub async fn smart_payment_dry_run(
        &self,
        request: &SmartPayment,
    ) -> Result<DryRunAnswer, SignerError> {
        let asked = SmartPayment {
            dry_run: true,
            ..request.clone()
        };
        self.post("/v1/smart-payment", &asked).await
    }

    /// A price adjusted to the buyer's country's price level (PPP), within `request`'s bounds.
    pub async fn suggest_price(
        &self,
        request: &aip_engine::pricing::PricingRequest,
    ) -> Result<aip_engine::pricing::PricingSuggestion, SignerError> {
        self.post("/v1/pricing/suggest", request).await
    }

    /// A payment intent; the answer holds its client secret (shown only here).
    pub async fn create_payment_intent(
        &self,
        request: &CreatePaymentIntent,
    ) -> Result<PaymentIntentView, SignerError> {
        self.post("/v1/payment-intents", request).await
    }

    pub async fn payment_intent(&self, id: &str) -> Result<PaymentIntentView, SignerError> {
        self.get(&format!("/v1/payment-intents/{id}")).await
    }

    /// Pays the intent from `request.session_key_id` (the first confirmation binds it).
    pub async fn confirm_payment_intent(
        &self,
        id: &str,
        request: &ConfirmPaymentIntent,
    ) -> Result<PaymentIntentView, SignerError> {
        self.post(&format!("/v1/payment-intents/{id}/confirm"), request)
            .await
    }

    pub async fn cancel_payment_intent(&self, id: &str) -> Result<PaymentIntentView, SignerError> {
        self.post(
            &format!("/v1/payment-intents/{id}/cancel"),
            &serde_json::json!({}),
        )
        .await
    }

    /// Pays a resource's 402 answer (x402 `exact` on Solana) within the session's intent: the
    /// answer carries the `PAYMENT-SIGNATURE` header to retry the resource with.
    pub async fn x402_pay(&self, request: &X402Pay) -> Result<X402PayAnswer, SignerError> {
        self.post("/v1/x402/pay", request).await
    }

    pub async fn payment(&self, id: &str) -> Result<PaymentAnswer, SignerError> {
        self.get(&format!("/v1/payments/{id}")).await
    }

    pub async fn submit_signed(
        &self,
        id: &str,
        request: &SubmitSigned,
    ) -> Result<PaymentAnswer, SignerError> {
        self.post(&format!("/v1/payments/{id}/submit-signed"), request)
            .await
    }

    pub async fn approve(&self, id: &str, request: &Approve) -> Result<PaymentAnswer, SignerError> {
        self.post(&format!("/v1/payments/{id}/approve"), request)
            .await
    }

    pub async fn agents(&self) -> Result<Vec<AgentTotals>, SignerError> {
        Ok(self.analytics(None).await?.agents)
    }

    /// Payments by agent and intents' conversion over the last `period_days` days (or all
    /// time), from the signer's ledger.
    pub async fn analytics(&self, period_days: Option<u32>) -> Result<AgentAnalytics, SignerError> {
        let path = match period_days {
            Some(days) => format!("/v1/analytics/agents?period_days={days}"),
            None => "/v1/analytics/agents".to_owned(),
        };
        self.get(&path).await
    }
}
