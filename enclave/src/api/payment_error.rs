//! How payment errors answer over the API: a distinct code each, and for a policy denial the
//! rule and its figures in `error.details`.

use super::error::{ApiError, ErrorCode};
use crate::payments::intents::IntentError;
use crate::payments::PaymentError;
use crate::policy::Rule;
use crate::x402::X402Error;

/// The API's answer code for a payment error.
pub fn code(error: &PaymentError) -> ErrorCode {
    match error {
        PaymentError::Invalid(_) => ErrorCode::BadRequest,
        PaymentError::UnknownSessionKey(_)
        | PaymentError::UnknownSession { .. }
        | PaymentError::UnknownPayment(_) => ErrorCode::NotFound,
        PaymentError::Denied(denial) => match denial.rule {
            Rule::Expired => ErrorCode::SessionExpired,
            Rule::Revoked => ErrorCode::SessionRevoked,
            _ => ErrorCode::PolicyDenied,
        },
        PaymentError::ApprovalNeeded { .. } => ErrorCode::ApprovalRequired,
        PaymentError::Refused(_) => ErrorCode::PolicyDenied,
        PaymentError::Delegation(_) => ErrorCode::DelegationInvalid,
        PaymentError::BadSignature(_) => ErrorCode::SignatureInvalid,
        PaymentError::TransactionChanged(_) => ErrorCode::TransactionMismatch,
        PaymentError::IdempotencyConflict(_) => ErrorCode::IdempotencyConflict,
        PaymentError::InProgress(_) => ErrorCode::PaymentInProgress,
        PaymentError::Lit(_) => ErrorCode::LitThresholdUnmet,
        PaymentError::Chain(_) => ErrorCode::ChainUnavailable,
        PaymentError::X402(error) => match error {
            X402Error::Version(_) => ErrorCode::X402VersionUnsupported,
            X402Error::NothingOffered | X402Error::Scheme(_) => ErrorCode::X402SchemeUnsupported,
            X402Error::Network { .. } => ErrorCode::X402NetworkUnsupported,
            X402Error::Asset { .. } => ErrorCode::X402AssetNotAllowed,
            X402Error::Malformed { .. } | X402Error::UnknownExtra { .. } => {
                ErrorCode::X402RequirementsInvalid
            }
        },
        PaymentError::X402NeedsAutonomy(_) => ErrorCode::X402NeedsAutonomy,
        PaymentError::Intent(error) => match error {
            IntentError::Unknown(_) => ErrorCode::NotFound,
            IntentError::SecretInvalid => ErrorCode::ClientSecretInvalid,
            IntentError::SecretUsed => ErrorCode::ClientSecretUsed,
            IntentError::Canceled => ErrorCode::IntentCanceled,
            IntentError::Expired => ErrorCode::IntentExpired,
            IntentError::NotCancelable => ErrorCode::IntentNotCancelable,
        },
        PaymentError::Record(_)
        | PaymentError::Ledger(_)
        | PaymentError::NotConfigured
        | PaymentError::NotReconciled => ErrorCode::Unavailable,
        PaymentError::Internal(_) => ErrorCode::Internal,
    }
}

impl From<PaymentError> for ApiError {
    fn from(error: PaymentError) -> Self {
        let mut api = ApiError::new(code(&error), error.to_string());
        if let PaymentError::Denied(denial) = &error {
            let mut details = serde_json::json!({ "rule": denial.rule.as_str() });
            if let Some(figures) = &denial.figures {
                if let (Some(details), Ok(serde_json::Value::Object(figures))) =
                    (details.as_object_mut(), serde_json::to_value(figures))
                {
                    details.extend(figures);
                }
            }
            api.details = Some(details);
        }
        api
    }
}
