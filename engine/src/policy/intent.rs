//! The spending intent a user grants an agent, and the invariant every intent must satisfy.

use serde::{Deserialize, Serialize};
use solana_address::Address;
use thiserror::Error;

use super::time::{PerWindow, UnixSeconds, Window};
use crate::solana::programs::{
    ASSOCIATED_TOKEN_PROGRAM, COMPUTE_BUDGET_PROGRAM, MEMO_PROGRAM, MEMO_V1_PROGRAM,
    SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM,
};

/// What the caps are counted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Asset {
    /// SOL, in lamports (System transfers).
    Native,
    /// SPL tokens, in base units. All mints count 1:1 against the caps, so they must share
    /// their decimals (e.g. USDC on two clusters).
    Tokens {
        #[serde(with = "crate::solana::as_text::vec")]
        mints: Vec<Address>,
        decimals: u8,
    },
}

/// Who pays fees and rent. How much they may cost is [`Intent::fee_caps`], whoever pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeePolicy {
    /// The session key pays fees and rent.
    Session,
    /// A service key pays them (gasless); the session wallet pays no lamports at all.
    Service {
        #[serde(with = "crate::solana::as_text")]
        address: Address,
    },
    /// Either, per transaction: whichever is its fee payer (the service detects whether the
    /// session wallet holds the SOL a payment needs). Each transaction is then judged as
    /// [`Self::Session`] or [`Self::Service`] by the fee payer it names (`decide`).
    Either {
        #[serde(with = "crate::solana::as_text")]
        address: Address,
    },
}

/// Amount caps in the asset's base units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    pub per_transaction: u64,
    #[serde(flatten)]
    pub windows: PerWindow<u64>,
}

/// Caps on what payments cost in fees and rent (signature and priority fees, rent of accounts
/// they create), in lamports, whoever pays: gas is money too, the user's or the service's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeCaps {
    pub per_transaction: u64,
    #[serde(flatten)]
    pub windows: PerWindow<u64>,
}

/// A bounded spending intent ("up to $100 a day for 7 days").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// The key that signs (and whose accounts are debited).
    #[serde(with = "crate::solana::as_text")]
    pub session_key: Address,
    pub asset: Asset,
    pub caps: Caps,
    /// Payments above this amount need the user's approval.
    #[serde(default)]
    pub require_approval_above: Option<u64>,
    /// Most payments per rolling window.
    #[serde(default)]
    pub max_payments: PerWindow<u32>,
    pub starts_at: UnixSeconds,
    pub expires_at: UnixSeconds,
    #[serde(default)]
    pub revoked_at: Option<UnixSeconds>,
    /// Wallets or token accounts that may receive; `None` allows any recipient.
    #[serde(default)]
    #[serde(with = "crate::solana::as_text::option_vec")]
    pub allowed_recipients: Option<Vec<Address>>,
    /// A narrower program allowlist than the signer's own; `None` keeps the signer's.
    #[serde(default)]
    #[serde(with = "crate::solana::as_text::option_vec")]
    pub allowed_programs: Option<Vec<Address>>,
    pub fee_policy: FeePolicy,
    pub fee_caps: FeeCaps,
}

/// The programs the transaction engine accepts; an intent may only narrow this set.
pub const SIGNER_PROGRAMS: [Address; 7] = [
    SYSTEM_PROGRAM,
    TOKEN_PROGRAM,
    TOKEN_2022_PROGRAM,
    ASSOCIATED_TOKEN_PROGRAM,
    COMPUTE_BUDGET_PROGRAM,
    MEMO_PROGRAM,
    MEMO_V1_PROGRAM,
];

/// A contradiction inside an intent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IntentError {
    #[error("the per-transaction cap must be greater than zero")]
    ZeroPerTransactionCap,
    #[error("the per-transaction {limit} cap {per_transaction} exceeds the {window} cap {cap}")]
    PerTransactionAboveWindow {
        limit: &'static str,
        per_transaction: u64,
        window: &'static str,
        cap: u64,
    },
    #[error("the {shorter} {limit} cap {shorter_cap} exceeds the {longer} cap {longer_cap}")]
    WindowCapsNotNested {
        limit: &'static str,
        shorter: &'static str,
        shorter_cap: u64,
        longer: &'static str,
        longer_cap: u64,
    },
    #[error("the {window} payment count limit must be greater than zero")]
    ZeroCountLimit { window: &'static str },
    #[error("the {shorter} payment count limit exceeds the {longer} one")]
    CountLimitsNotNested {
        shorter: &'static str,
        longer: &'static str,
    },
    #[error("expires_at ({expires_at}) must be after starts_at ({starts_at})")]
    ExpiryNotAfterStart {
        starts_at: UnixSeconds,
        expires_at: UnixSeconds,
    },
    #[error("revoked_at ({revoked_at}) is before starts_at ({starts_at})")]
    RevokedBeforeStart {
        starts_at: UnixSeconds,
        revoked_at: UnixSeconds,
    },
    #[error("a token intent needs at least one mint")]
    NoMints,
    #[error("mint {0} is listed twice")]
    DuplicateMint(Address),
    #[error(
        "the recipient allowlist is empty: nothing could ever be paid (use null for any recipient)"
    )]
    EmptyRecipientAllowlist,
    #[error("the program allowlist is empty")]
    EmptyProgramAllowlist,
    #[error("program {0} is not one the signer accepts")]
    ProgramOutsideSignerAllowlist(Address),
    #[error("the per-transaction fee cap must be greater than zero (a payment costs at least its signature fee)")]
    ZeroFeeBudget,
    #[error("the service fee payer cannot be the session key")]
    ServiceFeePayerIsSessionKey,
}

impl Intent {
    /// Rejects contradictory intents: caps nested (per transaction <= day <= week <= month),
    /// count limits positive and nested, expiry after start, non-empty allowlists, programs
    /// within the signer's allowlist, a usable fee policy.
    pub fn invariant(&self) -> Result<(), IntentError> {
        let caps = &self.caps;
        if caps.per_transaction == 0 {
            return Err(IntentError::ZeroPerTransactionCap);
        }
        nested("amount", caps.per_transaction, &caps.windows)?;
        if self.fee_caps.per_transaction == 0 {
            return Err(IntentError::ZeroFeeBudget);
        }
        nested("fee", self.fee_caps.per_transaction, &self.fee_caps.windows)?;
        let counts: Vec<(Window, u32)> = self.max_payments.limits().collect();
        if let Some((window, _)) = counts.iter().find(|(_, count)| *count == 0) {
            return Err(IntentError::ZeroCountLimit {
                window: window.name(),
            });
        }
        for pair in counts.windows(2) {
            if let [(shorter, shorter_count), (longer, longer_count)] = pair {
                if shorter_count > longer_count {
                    return Err(IntentError::CountLimitsNotNested {
                        shorter: shorter.name(),
                        longer: longer.name(),
                    });
                }
            }
        }
        if self.expires_at <= self.starts_at {
            return Err(IntentError::ExpiryNotAfterStart {
                starts_at: self.starts_at,
                expires_at: self.expires_at,
            });
        }
        if let Some(revoked_at) = self.revoked_at {
            if revoked_at < self.starts_at {
                return Err(IntentError::RevokedBeforeStart {
                    starts_at: self.starts_at,
                    revoked_at,
                });
            }
        }
        if let Asset::Tokens { mints, .. } = &self.asset {
            if mints.is_empty() {
                return Err(IntentError::NoMints);
            }
            if let Some(duplicate) = first_duplicate(mints) {
                return Err(IntentError::DuplicateMint(duplicate));
            }
        }
        if self.allowed_recipients.as_ref().is_some_and(Vec::is_empty) {
            return Err(IntentError::EmptyRecipientAllowlist);
        }
        if let Some(programs) = &self.allowed_programs {
            if programs.is_empty() {
                return Err(IntentError::EmptyProgramAllowlist);
            }
            if let Some(outside) = programs.iter().find(|p| !SIGNER_PROGRAMS.contains(p)) {
                return Err(IntentError::ProgramOutsideSignerAllowlist(*outside));
            }
        }
        if let FeePolicy::Service { address } | FeePolicy::Either { address } = self.fee_policy {
            if address == self.session_key {
                return Err(IntentError::ServiceFeePayerIsSessionKey);
            }
        }
        Ok(())
    }

    /// The first moment at which the intent no longer allows anything.
    pub fn ends_at(&self) -> UnixSeconds {
        self.revoked_at
            .map_or(self.expires_at, |revoked| revoked.min(self.expires_at))
    }
}

/// Per transaction <= day <= week <= month, for the caps of `limit` (amount or fee).
fn nested(
    limit: &'static str,
    per_transaction: u64,
    windows: &PerWindow<u64>,
) -> Result<(), IntentError> {
    let window_caps: Vec<(Window, u64)> = windows.limits().collect();
    if let Some(&(window, cap)) = window_caps.iter().find(|(_, cap)| *cap < per_transaction) {
        return Err(IntentError::PerTransactionAboveWindow {
            limit,
            per_transaction,
            window: window.name(),
            cap,
        });
    }
    for pair in window_caps.windows(2) {
        if let [(shorter, shorter_cap), (longer, longer_cap)] = pair {
            if shorter_cap > longer_cap {
                return Err(IntentError::WindowCapsNotNested {
                    limit,
                    shorter: shorter.name(),
                    shorter_cap: *shorter_cap,
                    longer: longer.name(),
                    longer_cap: *longer_cap,
                });
            }
        }
    }
    Ok(())
}

fn first_duplicate(items: &[Address]) -> Option<Address> {
    items
        .iter()
        .enumerate()
        .find(|(i, item)| items.iter().take(*i).any(|earlier| earlier == *item))
        .map(|(_, item)| *item)
}
