//! Every API error is `{"error":{"code":"...","message":"..."}}` with a distinct code per
//! cause, so a backend can act on the code and an operator can read the message. Messages
//! never carry secrets (keys, plaintexts) — only what the caller sent or may know.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    ScopeMissing,
    RateLimited,
    BodyTooLarge,
    NotFound,
    RollbackDetected,
    PolicyDenied,
    ApprovalRequired,
    SessionExpired,
    SessionRevoked,
    LitThresholdUnmet,
    AttestationInvalid,
    DelegationInvalid,
    SignatureInvalid,
    TransactionMismatch,
    IdempotencyConflict,
    PaymentInProgress,
    ChainUnavailable,
    X402VersionUnsupported,
    X402SchemeUnsupported,
    X402NetworkUnsupported,
    X402AssetNotAllowed,
    X402RequirementsInvalid,
    X402NeedsAutonomy,
    ClientSecretInvalid,
    ClientSecretUsed,
    IntentCanceled,
    IntentExpired,
    IntentNotCancelable,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as it appears in the JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::ScopeMissing => "scope_missing",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RollbackDetected => "rollback_detected",
            ErrorCode::PolicyDenied => "policy_denied",
            ErrorCode::ApprovalRequired => "approval_required",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::SessionRevoked => "session_revoked",
            ErrorCode::LitThresholdUnmet => "lit_threshold_unmet",
            ErrorCode::AttestationInvalid => "attestation_invalid",
            ErrorCode::DelegationInvalid => "delegation_invalid",
            ErrorCode::SignatureInvalid => "signature_invalid",
            ErrorCode::TransactionMismatch => "transaction_mismatch",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::PaymentInProgress => "payment_in_progress",
            ErrorCode::ChainUnavailable => "chain_unavailable",
            ErrorCode::X402VersionUnsupported => "x402_version_unsupported",
            ErrorCode::X402SchemeUnsupported => "x402_scheme_unsupported",
            ErrorCode::X402NetworkUnsupported => "x402_network_unsupported",
            ErrorCode::X402AssetNotAllowed => "x402_asset_not_allowed",
            ErrorCode::X402RequirementsInvalid => "x402_requirements_invalid",
            ErrorCode::X402NeedsAutonomy => "x402_needs_autonomy",
            ErrorCode::ClientSecretInvalid => "client_secret_invalid",
            ErrorCode::ClientSecretUsed => "client_secret_used",
            ErrorCode::IntentCanceled => "intent_canceled",
            ErrorCode::IntentExpired => "intent_expired",
            ErrorCode::IntentNotCancelable => "intent_not_cancelable",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::ScopeMissing => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::RollbackDetected => StatusCode::CONFLICT,
            ErrorCode::PolicyDenied | ErrorCode::SessionExpired | ErrorCode::SessionRevoked => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::ApprovalRequired => StatusCode::ACCEPTED,
            ErrorCode::LitThresholdUnmet | ErrorCode::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::AttestationInvalid | ErrorCode::ChainUnavailable => StatusCode::BAD_GATEWAY,
            ErrorCode::DelegationInvalid | ErrorCode::SignatureInvalid => StatusCode::BAD_REQUEST,
            ErrorCode::TransactionMismatch => StatusCode::FORBIDDEN,
            ErrorCode::IdempotencyConflict => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PaymentInProgress => StatusCode::CONFLICT,
            // What the resource server asks for is not something this signer pays.
            ErrorCode::X402VersionUnsupported
            | ErrorCode::X402SchemeUnsupported
            | ErrorCode::X402NetworkUnsupported
            | ErrorCode::X402AssetNotAllowed
            | ErrorCode::X402RequirementsInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::X402NeedsAutonomy | ErrorCode::ClientSecretInvalid => StatusCode::FORBIDDEN,
            ErrorCode::ClientSecretUsed
            | ErrorCode::IntentCanceled
            | ErrorCode::IntentExpired
            | ErrorCode::IntentNotCancelable => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds, for `Retry-After` on rate limiting.
    pub retry_after: Option<u64>,
    /// Figures for programs (a policy denial's rule and amounts in base units).
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            details: None,
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                details: self.details.as_ref(),
            },
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        // For the request metrics.
        response.extensions_mut().insert(self.code);
        if let Some(seconds) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert("retry-after", value);
            }
        }
        response
    }
}
