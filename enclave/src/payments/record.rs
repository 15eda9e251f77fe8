//! A payment as the enclave persists it, under an id derived from the caller's API key and
//! idempotency key: the same request again finds this record and gets the same answer.

use aip_wire::payments::{DenialView, PaymentAnswer, PaymentStatus, SignedReceipt};

use crate::policy::Denial;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of the payment records in the host's store.
pub const PAYMENT_PREFIX: &str = "payments/";

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The message is fixed and stored; a reservation may exist (tagged with the id).
    Pending,
    ApprovalRequired,
    RequiresSignature,
    /// Signed and recorded; not yet accepted by the cluster.
    Signed,
    Submitted,
    Confirmed,
    /// Landed, but the cluster reports it failed: no tokens moved, its fees were spent.
    FailedOnChain,
    /// Signed, but its blockhash expired and the chain does not have it: it can never land,
    /// and its reservation was released on that proof.
    Expired,
    Denied,
    /// Abandoned before any signature (Lit unavailable, ...): its reservation was released
    /// and a retry starts over.
    Aborted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedPart {
    pub signature: String,
    /// The fully signed transaction (base64), re-sent as is on retries.
    pub transaction: String,
    pub receipt: SignedReceipt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRecord {
    pub id: String,
    /// The API key that asked for it: only it (or a `full` key) may act on the payment.
    pub caller: String,
    pub request_sha256: String,
    pub agent_id: String,
    pub session_key_id: String,
    pub amount: u64,
    pub mint: String,
    /// The wallet paid, checked against the transaction (its token account for `mint`).
    pub recipient: String,
    /// The token account the transaction credits.
    #[serde(default)]
    pub recipient_token_account: Option<String>,
    /// Signature and priority fees plus rent the transaction costs its fee payer.
    #[serde(default)]
    pub fee_lamports: Option<u64>,
    /// The exact message to be signed (base64).
    pub message: String,
    pub last_valid_block_height: u64,
    /// The service fee payer co-signs.
    pub service_fee_payer: bool,
    /// Signed by the enclave on release of the delegated key (not by the device).
    pub autonomous: bool,
    pub stage: Stage,
    #[serde(default)]
    pub signed: Option<SignedPart>,
    #[serde(default)]
    pub denial: Option<Denial>,
    /// An x402 payment's terms (`super::x402`); its transaction is submitted by the facilitator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x402: Option<X402Part>,
}

/// What an x402 payment was for and who settles it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X402Part {
    /// The facilitator: the transaction's fee payer, which signs after the payer.
    pub fee_payer: String,
    /// The resource's URL: the payment's origin, in the ledger.
    pub resource_url: String,
    pub network: String,
    /// The requirement paid and the resource, as the server sent them (the payload echoes
    /// them).
    pub accepted: serde_json::Value,
    pub resource: serde_json::Value,
    /// The id the transaction landed under (the facilitator's signature), once the chain
    /// shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landed_as: Option<String>,
}

impl PaymentRecord {
    pub fn record_name(id: &str) -> String {
        format!("{PAYMENT_PREFIX}{id}")
    }

    pub fn message_bytes(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.message)
            .ok()
    }

    /// The fully signed transaction, as stored.
    pub fn signed_transaction_bytes(&self) -> Result<Vec<u8>, super::PaymentError> {
        let signed = self.signed.as_ref().ok_or(super::PaymentError::Internal(
            "a signed payment without its signature",
        ))?;
        base64::engine::general_purpose::STANDARD
            .decode(&signed.transaction)
            .map_err(|_| super::PaymentError::Internal("a stored transaction is not base64"))
    }

    pub fn answer(&self) -> PaymentAnswer {
        let message = self.message_bytes().unwrap_or_default();
        let status = match self.stage {
            Stage::Signed if self.x402.is_some() => PaymentStatus::Authorized,
            Stage::Pending | Stage::Signed | Stage::Aborted => PaymentStatus::Submitted,
            Stage::ApprovalRequired => PaymentStatus::ApprovalRequired,
            Stage::RequiresSignature => PaymentStatus::RequiresSignature,
            Stage::Submitted => PaymentStatus::Submitted,
            Stage::Confirmed => PaymentStatus::Confirmed,
            Stage::FailedOnChain => PaymentStatus::Failed,
            Stage::Expired => PaymentStatus::Expired,
            Stage::Denied => PaymentStatus::Denied,
        };
        // The device decodes what it is asked to sign or approve, and derives the digest it
        // approves from the message itself.
        let unsigned = matches!(
            self.stage,
            Stage::RequiresSignature | Stage::ApprovalRequired
        )
        .then(|| unsigned_transaction(&message));
        PaymentAnswer {
            payment_id: self.id.clone(),
            status,
            amount: self.amount,
            recipient: self.recipient.clone(),
            signature: self.signed.as_ref().map(|s| s.signature.clone()),
            transaction: unsigned,
            approval_digest: hex::encode(aip_wire::payments::approval_digest(&message)),
            receipt: self.signed.as_ref().map(|s| s.receipt.clone()),
            denial: self.denial.as_ref().map(denial_view),
        }
    }
}

/// A policy denial as the API shows it: its rule's code and why.
pub(super) fn denial_view(denial: &Denial) -> DenialView {
    DenialView {
        rule: denial.rule.as_str().to_owned(),
        detail: denial.detail.clone(),
    }
}

/// Writes `record` as the version after `version`; the new version.
pub(super) async fn save(
    state: &super::PaymentContext,
    version: u64,
    record: &PaymentRecord,
) -> Result<u64, super::PaymentError> {
    let name = PaymentRecord::record_name(&record.id);
    Ok(
        crate::state::records::write(&state.store, &state.state_key, &name, Some(version), record)
            .await?,
    )
}

/// The payment record stored under `name` now, which must exist (it was read or written
/// before by the caller).
pub(super) async fn stored(
    state: &super::PaymentContext,
    name: &str,
) -> Result<PaymentRecord, super::PaymentError> {
    crate::state::records::read::<PaymentRecord>(&state.store, &state.state_key, name)
        .await?
        .map(|(_, record)| record)
        .ok_or(super::PaymentError::Internal("a payment record vanished"))
}

/// The payment id for `caller`'s `idempotency_key`.
pub fn payment_id(caller: &str, idempotency_key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"aip-signer payment id\0");
    hash.update(caller.as_bytes());
    hash.update([0]);
    hash.update(idempotency_key.as_bytes());
    format!("pay_{}", &hex::encode(hash.finalize())[..32])
}

/// SHA-256 of the request as sent, to tell a retry from a different request under the
/// same idempotency key.
pub fn request_sha256(request: &impl Serialize) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(request).unwrap_or_default(),
    ))
}

/// A transaction with empty signature slots around `message` (base64), for the device.
fn unsigned_transaction(message: &[u8]) -> String {
    let Ok(message) = crate::solana::Message::from_bytes(message) else {
        return String::new();
    };
    base64::engine::general_purpose::STANDARD
        .encode(crate::solana::Transaction::unsigned(message).to_bytes())
}
