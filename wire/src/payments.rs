//! The payment API's bodies and the messages signed around a payment, shared by the enclave
//! and aip-client so both sides agree byte for byte (docs/design.md, "Keys and flows").
//!
//! Amounts are integers in USDC base units (6 decimals). Addresses are base58 text, binary
//! blobs base64, signatures hex. Requests refuse unknown fields.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Spending limits of a session key (the user's ceiling) or of an agent's session (within it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_per_transaction: u64,
    #[serde(default)]
    pub max_per_day: Option<u64>,
    #[serde(default)]
    pub max_per_week: Option<u64>,
    #[serde(default)]
    pub max_per_month: Option<u64>,
    /// Payments above this amount need the user's approval.
    #[serde(default)]
    pub require_approval_above: Option<u64>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Lamports one payment may cost in fees and rent (signature and priority fees, the rent
    /// of a recipient token account it creates), whoever pays: the session wallet, or the
    /// service's fee payer when gasless.
    pub max_fee_lamports_per_transaction: u64,
    /// The same, summed over a rolling day.
    pub max_fee_lamports_per_day: u64,
}

impl Limits {
    /// The first limit of `self` that `ceiling` does not cover, by name: a window `ceiling`
    /// limits must be limited at least as tightly here, and an approval threshold kept. (A
    /// later expiry is not refused: a session ends when its key's limits end.)
    pub fn exceeds(&self, ceiling: &Limits) -> Option<&'static str> {
        let over = |mine: Option<u64>, theirs: Option<u64>| match (mine, theirs) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(mine), Some(theirs)) => mine > theirs,
        };
        if self.max_per_transaction > ceiling.max_per_transaction {
            Some("max_per_transaction")
        } else if over(self.max_per_day, ceiling.max_per_day) {
            Some("max_per_day")
        } else if over(self.max_per_week, ceiling.max_per_week) {
            Some("max_per_week")
        } else if over(self.max_per_month, ceiling.max_per_month) {
            Some("max_per_month")
        } else if over(self.require_approval_above, ceiling.require_approval_above) {
            Some("require_approval_above")
        } else if self.max_fee_lamports_per_transaction > ceiling.max_fee_lamports_per_transaction {
            Some("max_fee_lamports_per_transaction")
        } else if self.max_fee_lamports_per_day > ceiling.max_fee_lamports_per_day {
            Some("max_fee_lamports_per_day")
        } else {
            None
        }
    }
}

/// `POST /v1/session-keys/device-bound`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDeviceBound {
    /// The session key's Ed25519 public key (base58, a Solana address).
    pub public_key: String,
    /// The device-bound blob (base64); the service cannot decrypt it.
    pub encrypted_blob: String,
    pub limits: Limits,
    /// The session key's signature (hex) over [`possession_message`].
    pub possession_signature: String,
}

/// What the device signs to register: the key, the blob it stores, and the limits, so the
/// service cannot be handed someone else's key nor wider limits than the user chose.
pub fn possession_message(public_key: &str, blob: &[u8], limits: &Limits) -> String {
    let limits = serde_json::to_string(limits).unwrap_or_default();
    format!(
        "aip-signer: register session key {public_key}\nblob sha256 {}\nlimits {limits}",
        hex::encode(Sha256::digest(blob))
    )
}

/// A session key as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionKeyView {
    pub id: String,
    pub public_key: String,
    pub limits: Limits,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub autonomy: Option<AutonomyView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutonomyView {
    pub max_total: u64,
    pub expires_at: i64,
    /// Autonomous spending that counts against `max_total` (signed or reserved).
    pub committed: u64,
}

/// Where the device encrypts its session key: the Lit network key and the enclave's
/// attested-release conditions (`GET /v1/session-keys/encryption-target`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionTarget {
    pub network_public_key: String,
    /// The request field the conditions go in (`unifiedAccessControlConditions`, ...).
    pub conditions_field: String,
    pub conditions: serde_json::Value,
}

/// `POST /v1/session-keys/{id}/enable-autonomy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableAutonomy {
    pub max_total: u64,
    pub expires_at: i64,
    /// The session key's signature (hex) over the canonical delegation message.
    pub delegation_signature: String,
    /// The Lit ciphertext of the session key's 32-byte seed (base64).
    pub ciphertext: String,
    pub data_to_encrypt_hash: String,
    /// The conditions it was encrypted under: must be the enclave's own.
    pub conditions: serde_json::Value,
}

/// Who pays fees and rent for a session's payments. How much they may cost is in the
/// limits the user signed (`Limits::max_fee_lamports_*`), whoever pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeeMode {
    /// The session wallet.
    Session,
    /// The service's fee payer (gasless for the session wallet).
    Service,
    /// The session wallet while it holds the SOL a payment needs (its fees and rent, and the
    /// wallet's own rent-exempt minimum), else the service's fee payer: decided per payment
    /// (`auto_detect_gasless`), within the same fee caps and the service's daily budget.
    Auto,
}

/// `POST /v1/sessions`: an agent's spending session under a session key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    pub session_key_id: String,
    pub agent_id: String,
    pub limits: Limits,
    #[serde(default)]
    pub allowed_recipients: Option<Vec<String>>,
    #[serde(default)]
    pub max_payments_per_day: Option<u32>,
    pub fees: FeeMode,
}

/// A session with what it has left (`GET /v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub session_key_id: String,
    pub agent_id: String,
    pub limits: Limits,
    pub fees: FeeMode,
    pub revoked_at: Option<i64>,
    pub spent: Windows,
    /// `None` where the window has no cap.
    pub remaining: RemainingView,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Windows {
    pub day: u64,
    pub week: u64,
    pub month: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemainingView {
    pub day: Option<u64>,
    pub week: Option<u64>,
    pub month: Option<u64>,
    /// What autonomy has left under the delegation, if enabled.
    pub autonomy: Option<u64>,
}

/// `POST /v1/smart-payment`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartPayment {
    pub agent_id: String,
    pub session_key_id: String,
    pub recipient: String,
    pub amount: u64,
    pub mint: String,
    #[serde(default)]
    pub memo: Option<String>,
    /// Defaults to the session's fee mode; must agree with it (an `auto` session takes either).
    #[serde(default)]
    pub gasless: Option<bool>,
    /// For an `auto` session: the service pays the fees if the session wallet lacks the SOL
    /// for them (the default there when `gasless` is absent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_detect_gasless: bool,
    /// Same key, same answer: never a second payment.
    pub idempotency_key: String,
    /// An unsigned transaction (base64) to use instead of building one; it must pay exactly
    /// `amount` of `mint` and pass every check a built one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// Only decide: the answer is a [`DryRunAnswer`]; nothing is reserved, signed or recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// What the policy would decide on a smart payment (`dry_run: true`), at the moment of asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunAnswer {
    pub decision: DryRunDecision,
    /// For `deny`: the rule and why.
    #[serde(default)]
    pub denial: Option<DenialView>,
    /// For `approval_required`: the amount above which the user approves.
    #[serde(default)]
    pub approval_threshold: Option<u64>,
    /// What the transaction would pay, and its fees and rent in lamports.
    pub amount: u64,
    pub fee_lamports: u64,
    /// Whether the enclave would sign it without the device (the delegation covers it).
    pub autonomous: bool,
    /// What the session has left now, before this payment.
    pub remaining: RemainingView,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DryRunDecision {
    Allow,
    ApprovalRequired,
    Deny,
}

/// What became of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Signed by the enclave and sent to the cluster.
    Submitted,
    /// Landed on chain.
    Confirmed,
    /// Landed, but failed on chain: no tokens moved (its fees were spent).
    Failed,
    /// Its blockhash expired before it landed: it never will, and nothing was paid.
    Expired,
    /// The device must sign `transaction` and send it to `submit-signed`.
    RequiresSignature,
    /// The user must approve `transaction` (whose message `approval_digest` hashes) with the
    /// session key.
    ApprovalRequired,
    /// Refused; nothing was signed and nothing is reserved.
    Denied,
    /// An x402 payment signed by the payer and handed back for the resource server, whose
    /// facilitator adds its fee-payer signature and submits it. Counted until the chain shows
    /// it landed (`confirmed`) or its blockhash expired without it (`expired`).
    Authorized,
}

/// The answer to a payment request (and to its retries with the same idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentAnswer {
    pub payment_id: String,
    pub status: PaymentStatus,
    pub amount: u64,
    pub recipient: String,
    /// The transaction signature (base58) once signed.
    #[serde(default)]
    pub signature: Option<String>,
    /// The unsigned transaction (base64) for the device, when it must sign or approve it.
    #[serde(default)]
    pub transaction: Option<String>,
    /// Hex SHA-256 of the message, which an approval signs (see [`approval_message`]).
    pub approval_digest: String,
    #[serde(default)]
    pub receipt: Option<SignedReceipt>,
    /// For `denied`: the rule and why.
    #[serde(default)]
    pub denial: Option<DenialView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialView {
    pub rule: String,
    pub detail: String,
}

/// `POST /v1/payments/{id}/submit-signed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitSigned {
    /// The transaction the service returned, signed by the session key (base64).
    pub transaction: String,
}

/// `POST /v1/payments/{id}/approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    /// The session key's signature (hex) over [`approval_message`].
    pub signature: String,
}

/// The digest an approval is about: SHA-256 of the exact message bytes to be signed.
pub fn approval_digest(message: &[u8]) -> [u8; 32] {
    Sha256::digest(message).into()
}

/// What the user signs to approve one payment. Domain-separated so the signature can never
/// stand for a Solana transaction signature.
pub fn approval_message(digest: &[u8; 32]) -> String {
    format!("aip-signer: approve payment {}", hex::encode(digest))
}

/// `POST /v1/session-keys/{id}/revoke` needs no body; its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub session_key_id: String,
    pub revoked_at: i64,
    /// Reservations released because nothing had been signed for them.
    pub released_reservations: usize,
}

/// A receipt for a signed payment: what was paid, from which session, under which ledger
/// entry, signed by the enclave's Ed25519 key (bound in its attestation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub payment_id: String,
    pub agent_id: String,
    pub session_key_id: String,
    pub amount: u64,
    pub mint: String,
    pub recipient: String,
    pub signature: String,
    pub message_sha256: String,
    pub ledger_seq: u64,
    pub at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    pub receipt: Receipt,
    /// Hex Ed25519 signature over [`receipt_message`].
    pub enclave_signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("the receipt signature is not 64 bytes of hex")]
    Encoding,
    #[error("the receipt is not signed by this enclave key")]
    BadSignature,
}

/// The bytes the enclave signs for a receipt.
pub fn receipt_message(receipt: &Receipt) -> Vec<u8> {
    let mut message = b"aip-signer receipt v1\n".to_vec();
    message.extend_from_slice(
        serde_json::to_string(receipt)
            .unwrap_or_default()
            .as_bytes(),
    );
    message
}

impl SignedReceipt {
    pub fn sign(receipt: Receipt, key: &SigningKey) -> Self {
        let signature = key.sign(&receipt_message(&receipt));
        Self {
            receipt,
            enclave_signature: hex::encode(signature.to_bytes()),
        }
    }

    pub fn verify(&self, key: &VerifyingKey) -> Result<(), ReceiptError> {
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(&self.enclave_signature, &mut bytes)
            .map_err(|_| ReceiptError::Encoding)?;
        key.verify(
            &receipt_message(&self.receipt),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| ReceiptError::BadSignature)
    }
}

/// One agent's payments (`GET /v1/analytics/agents`): signed, and of those not known to have
/// failed (their blockhash expired unlanded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTotals {
    pub agent_id: String,
    pub payments: u64,
    /// Base units of the payments that did not fail.
    pub volume: u64,
    pub succeeded: u64,
    /// `succeeded / payments`; `None` without payments.
    #[serde(default)]
    pub success_rate: Option<f64>,
}

/// `GET /v1/analytics/agents[?period_days=N]`, computed from the signed ledger: over the last
/// `period_days` UTC days (today included), or all time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentAnalytics {
    #[serde(default)]
    pub period_days: Option<u32>,
    pub total_payments: u64,
    pub total_volume: u64,
    pub agents: Vec<AgentTotals>,
    pub intents: IntentConversion,
}

/// Payment intents created in the period, and those whose payment was signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentConversion {
    pub created: u64,
    pub paid: u64,
    /// `paid / created`; `None` without intents.
    #[serde(default)]
    pub conversion_rate: Option<f64>,
}

/// Parses a USD amount (`5`, `5.25`, `0.000001`) into USDC base units; the inverse of
/// [`crate::session::usd`]. More than 6 decimals or anything but digits and one dot is refused.
pub fn parse_usd(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 6 {
        return None;
    }
    if text.ends_with('.') {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = format!("{fraction:0<6}").parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::usd;

    fn limits(per_tx: u64, day: Option<u64>, expires_at: i64) -> Limits {
        Limits {
            max_per_transaction: per_tx,
            max_per_day: day,
            max_per_week: None,
            max_per_month: None,
            require_approval_above: None,
            expires_at,
            max_fee_lamports_per_transaction: 10_000,
            max_fee_lamports_per_day: 100_000,
        }
    }

    #[test]
    fn limits_within_a_ceiling() {
        let ceiling = limits(10, Some(100), 1_000);
        let table = [
            (limits(10, Some(100), 1_000), None),
            (limits(5, Some(50), 900), None),
            (limits(11, Some(100), 1_000), Some("max_per_transaction")),
            (limits(10, None, 1_000), Some("max_per_day")),
            (limits(10, Some(101), 1_000), Some("max_per_day")),
            (limits(10, Some(100), 1_001), None),
            (
                Limits {
                    max_fee_lamports_per_transaction: 10_001,
                    ..limits(10, Some(100), 1_000)
                },
                Some("max_fee_lamports_per_transaction"),
            ),
            (
                Limits {
                    max_fee_lamports_per_day: 100_001,
                    ..limits(10, Some(100), 1_000)
                },
                Some("max_fee_lamports_per_day"),
            ),
        ];
        for (session, expected) in table {
            assert_eq!(session.exceeds(&ceiling), expected, "{session:?}");
        }
        let mut approving = ceiling;
        approving.require_approval_above = Some(5);
        assert_eq!(
            ceiling.exceeds(&approving),
            Some("require_approval_above"),
            "a session may not drop the user's approval threshold"
        );
    }

    #[test]
    fn usd_round_trips() {
        for (text, units) in [
            ("5", 5_000_000),
            ("5.25", 5_250_000),
            ("0.000001", 1),
            ("100", 100_000_000),
            ("0.5", 500_000),
        ] {
            assert_eq!(parse_usd(text), Some(units), "{text}");
            assert_eq!(usd(units), text);
        }
        for bad in [
            "",
            ".5",
            "5.",
            "5.0000001",
            "-1",
            "1e3",
            "5,00",
            "18446744073709.551616",
        ] {
            assert_eq!(parse_usd(bad), None, "{bad}");
        }
    }

    #[test]
    fn receipts_verify_only_unchanged() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let receipt = Receipt {
            payment_id: "pay_1".into(),
            agent_id: "agent".into(),
            session_key_id: "sk_1".into(),
            amount: 5_000_000,
            mint: "mint".into(),
            recipient: "to".into(),
            signature: "sig".into(),
            message_sha256: "00".into(),
            ledger_seq: 4,
            at_ms: 1,
        };
        let signed = SignedReceipt::sign(receipt, &key);
        assert_eq!(signed.verify(&key.verifying_key()), Ok(()));
        let mut changed = signed.clone();
        changed.receipt.amount += 1;
        assert_eq!(
            changed.verify(&key.verifying_key()),
            Err(ReceiptError::BadSignature)
        );
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            signed.verify(&other.verifying_key()),
            Err(ReceiptError::BadSignature)
        );
    }

    #[test]
    fn possession_message_binds_blob_and_limits() {
        let a = possession_message("pk", b"blob", &limits(1, None, 5));
        assert_ne!(a, possession_message("pk", b"blob2", &limits(1, None, 5)));
        assert_ne!(a, possession_message("pk", b"blob", &limits(2, None, 5)));
        assert_ne!(a, possession_message("pk2", b"blob", &limits(1, None, 5)));
    }
}

/// `POST /v1/x402/pay`: pay a resource's 402 answer within the session's intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X402Pay {
    pub agent_id: String,
    pub session_key_id: String,
    /// The 402 answer's `PaymentRequired` document, decoded (x402 v2).
    pub payment_required: serde_json::Value,
    /// Same key, same answer: never a second payment.
    pub idempotency_key: String,
}

/// The answer to `POST /v1/x402/pay` (and to its retries with the same idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct X402PayAnswer {
    pub payment_id: String,
    pub status: PaymentStatus,
    pub amount: u64,
    /// The requirement's `payTo`.
    pub recipient: String,
    pub network: String,
    /// The resource paid for (`resource.url`), as recorded in the ledger.
    pub resource: String,
    /// The facilitator that pays the network fee and submits.
    pub fee_payer: String,
    /// The payer's own signature (base58). The landed transaction's id is the facilitator's
    /// signature, which only the settlement tells.
    pub payer_signature: String,
    /// The v2 `PaymentPayload`.
    pub payment_payload: serde_json::Value,
    /// The payload as the `PAYMENT-SIGNATURE` request header carries it (base64 JSON).
    pub payment_signature_header: String,
    pub receipt: SignedReceipt,
}

/// `POST /v1/payment-intents`: a payment to be confirmed later, Stripe-like (AIP-1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentIntent {
    /// Base units of `mint`.
    pub amount: u64,
    /// Defaults to the signer's first USDC mint.
    #[serde(default)]
    pub mint: Option<String>,
    /// The agent whose session pays on confirmation.
    pub agent_id: String,
    /// The wallet paid (the merchant's): the service keeps no merchant accounts.
    pub recipient: String,
    #[serde(default)]
    pub description: Option<String>,
    /// At most 16 string values of at most 256 bytes each.
    #[serde(default)]
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// Seconds until it can no longer be confirmed: 60 to 30 days, 24 hours by default.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// `POST /v1/payment-intents/{id}/confirm`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmPaymentIntent {
    /// From the intent's creation; single-use: it binds the intent to this session key.
    pub client_secret: String,
    /// The customer's session key (its wallet pays, within the agent's session).
    pub session_key_id: String,
}

impl std::fmt::Debug for ConfirmPaymentIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmPaymentIntent")
            .field("client_secret", &"<redacted>")
            .field("session_key_id", &self.session_key_id)
            .finish()
    }
}

/// Where a payment intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentIntentStatus {
    RequiresPayment,
    Processing,
    Succeeded,
    Canceled,
    Expired,
}

/// A payment intent. `client_secret` is present only in the answer to its creation.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentIntentView {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub status: PaymentIntentStatus,
    pub amount: u64,
    pub mint: String,
    pub agent_id: String,
    pub recipient: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// The session key that confirmed it, and its payment.
    #[serde(default)]
    pub session_key_id: Option<String>,
    #[serde(default)]
    pub payment_id: Option<String>,
    /// Why its payment was refused or failed, when it was.
    #[serde(default)]
    pub last_payment_error: Option<DenialView>,
}

impl std::fmt::Debug for PaymentIntentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentIntentView")
            .field("id", &self.id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("status", &self.status)
            .field("amount", &self.amount)
            .field("agent_id", &self.agent_id)
            .field("recipient", &self.recipient)
            .field("payment_id", &self.payment_id)
            .finish_non_exhaustive()
    }
}
