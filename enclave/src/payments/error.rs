//! Why a session-key, session or payment request failed (the API's code for each cause is
//! `crate::api::payment_error`).

use crate::chain::RpcError;
use crate::policy::Denial;
use crate::release::ReleaseError;
use crate::state::records::RecordError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("{0}")]
    Invalid(String),
    #[error("no session key {0}")]
    UnknownSessionKey(String),
    #[error("session key {key} has no session for agent {agent}")]
    UnknownSession { key: String, agent: String },
    #[error("no payment {0}")]
    UnknownPayment(String),
    #[error("denied by {}: {}", .0.rule.as_str(), .0.detail)]
    Denied(Denial),
    /// The policy wants the user's approval first (a flow signal, answered with 202).
    #[error("approval required above {threshold}")]
    ApprovalNeeded { threshold: u64 },
    /// The transaction does something the signer never signs (a program outside the
    /// allowlist, a durable nonce, ...).
    #[error("the transaction is refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Delegation(String),
    #[error("{0}")]
    BadSignature(String),
    #[error("{0}")]
    TransactionChanged(String),
    #[error("idempotency key {0:?} was used for a different request")]
    IdempotencyConflict(String),
    #[error("payment {0} is being processed; retry with the same idempotency key")]
    InProgress(String),
    #[error("the Lit network did not release the session key: {}", aip_wire::process::error_chain(.0))]
    Lit(#[source] std::sync::Arc<ReleaseError>),
    #[error("the Solana cluster: {}", aip_wire::process::error_chain(.0))]
    Chain(#[source] RpcError),
    /// The resource's payment requirements are not something this signer pays.
    #[error("x402: {0}")]
    X402(#[source] crate::x402::X402Error),
    #[error("{0}")]
    Intent(#[source] super::intents::IntentError),
    /// An x402 payment is answered at once or not at all: it cannot wait for the device.
    #[error("{0}")]
    X402NeedsAutonomy(String),
    #[error("the enclave's state could not be written; nothing was done")]
    Record(#[source] RecordError),
    #[error("this signer has no Solana RPC configured; it cannot pay")]
    NotConfigured,
    #[error(
        "usage is not yet reconciled with the chain since this enclave started; retry shortly"
    )]
    NotReconciled,
    #[error("the ledger could not be written; nothing was done")]
    Ledger(#[from] crate::signed_ledger::SignedLedgerError),
    #[error("{0}")]
    Internal(&'static str),
}

impl From<RecordError> for PaymentError {
    fn from(error: RecordError) -> Self {
        tracing::error!(error = %aip_wire::process::error_chain(&error), "payment state write failed");
        Self::Record(error)
    }
}
