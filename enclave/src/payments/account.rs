//! A session key's account as the enclave persists it: the device-bound key, the user's
//! limits, the autonomous delegation, and each agent's spending session (intent + usage).
//!
//! One sealed record per session key. Every payment of the key reserves and marks signatures
//! in this one record under one lock, so the delegation's total and every session's caps
//! change atomically with the reservation they count.

use std::collections::{BTreeMap, BTreeSet};

use aip_wire::payments::{
    AutonomyView, FeeMode, Limits, RemainingView, SessionKeyView, SessionView, Windows,
};
use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::policy::{
    Asset, Caps, FeeCaps, FeePolicy, Intent, PerWindow, SessionState, UnixSeconds, Window,
};

/// Prefix of the session-key records in the host's store.
pub const ACCOUNT_PREFIX: &str = "session-keys/";

pub use crate::solana::programs::USDC_DECIMALS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub id: String,
    #[serde(with = "crate::solana::as_text")]
    pub public_key: Address,
    /// The device-bound blob (base64), kept for the device; the enclave cannot open it.
    pub blob: String,
    pub limits: Limits,
    pub created_at: UnixSeconds,
    pub revoked_at: Option<UnixSeconds>,
    pub delegation: Option<Delegation>,
    /// By agent id.
    pub sessions: BTreeMap<String, AgentSession>,
    /// The newest wallet transaction the chain reconciliation has read up to (every RPC
    /// endpoint had it): the next round reads only what came after.
    #[serde(default)]
    pub chain_cursor: Option<String>,
    /// Every session's payments together, against the limits the user signed
    /// (`super::key_usage`).
    #[serde(default)]
    pub key_usage: crate::policy::Usage,
    /// The tenant of the API key that registered it (`super::actor`).
    #[serde(default)]
    pub tenant: String,
}

/// The user's autonomous delegation: the Lit ciphertext of the session key and its bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    pub max_total: u64,
    pub expires_at: UnixSeconds,
    pub signature: String,
    pub ciphertext: String,
    pub data_to_encrypt_hash: String,
    /// Autonomous reservations that count against `max_total` (released ones subtracted).
    pub committed: u64,
    /// Autonomous payments whose reservation is not settled yet: a resumed payment is
    /// autonomous exactly when its id is here, and a release subtracts only these.
    #[serde(default)]
    pub in_flight: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSession {
    pub id: String,
    pub agent_id: String,
    pub fees: FeeMode,
    pub state: SessionState,
}

impl Account {
    pub fn record_name(id: &str) -> String {
        format!("{ACCOUNT_PREFIX}{id}")
    }

    /// `agent`'s session on this key, or `UnknownSession`.
    pub fn session_of(&self, agent: &str) -> Result<&AgentSession, super::PaymentError> {
        self.sessions
            .get(agent)
            .ok_or_else(|| super::PaymentError::UnknownSession {
                key: self.id.clone(),
                agent: agent.to_owned(),
            })
    }

    /// Every usage the account keeps: each session's, then the key's own.
    pub fn usages(&self) -> impl Iterator<Item = &crate::policy::Usage> {
        self.sessions
            .values()
            .map(|s| &s.state.usage)
            .chain(std::iter::once(&self.key_usage))
    }

    /// Every transaction signature the account's usage records hold: payments the service
    /// already knows of, which a read of the wallet's history need not fetch or count again.
    pub fn known_signatures(&self) -> std::collections::HashSet<String> {
        signatures_in(self.usages())
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// [`Self::usages`], to change them.
    pub fn usages_mut(&mut self) -> impl Iterator<Item = &mut crate::policy::Usage> {
        self.sessions
            .values_mut()
            .map(|s| &mut s.state.usage)
            .chain(std::iter::once(&mut self.key_usage))
    }

    /// The delegation, if it still allows autonomous signing of `amount` at `now`.
    pub fn autonomy_for(&self, amount: u64, now: UnixSeconds) -> Option<&Delegation> {
        self.delegation.as_ref().filter(|d| {
            self.revoked_at.is_none()
                && now < d.expires_at
                && d.committed
                    .checked_add(amount)
                    .is_some_and(|t| t <= d.max_total)
        })
    }

    pub fn view(&self) -> SessionKeyView {
        SessionKeyView {
            id: self.id.clone(),
            public_key: self.public_key.to_string(),
            limits: self.limits,
            created_at: self.created_at.0,
            revoked_at: self.revoked_at.map(|t| t.0),
            autonomy: self.delegation.as_ref().map(|d| AutonomyView {
                max_total: d.max_total,
                expires_at: d.expires_at.0,
                committed: d.committed,
            }),
        }
    }

    pub fn session_view(&self, session: &AgentSession, now: UnixSeconds) -> SessionView {
        let intent = &session.state.intent;
        let usage = &session.state.usage;
        let spent = |w| u64::try_from(usage.spent_in(w, now)).unwrap_or(u64::MAX);
        let remaining = |w: Window| {
            intent
                .caps
                .windows
                .get(w)
                .map(|cap| cap.saturating_sub(spent(w)))
        };
        SessionView {
            id: session.id.clone(),
            session_key_id: self.id.clone(),
            agent_id: session.agent_id.clone(),
            limits: Limits {
                max_per_transaction: intent.caps.per_transaction,
                max_per_day: intent.caps.windows.day,
                max_per_week: intent.caps.windows.week,
                max_per_month: intent.caps.windows.month,
                require_approval_above: intent.require_approval_above,
                expires_at: intent.expires_at.0,
                max_fee_lamports_per_transaction: intent.fee_caps.per_transaction,
                max_fee_lamports_per_day: intent.fee_caps.windows.day.unwrap_or(u64::MAX),
            },
            fees: session.fees,
            revoked_at: intent.revoked_at.map(|t| t.0),
            spent: Windows {
                day: spent(Window::Day),
                week: spent(Window::Week),
                month: spent(Window::Month),
            },
            remaining: RemainingView {
                day: remaining(Window::Day),
                week: remaining(Window::Week),
                month: remaining(Window::Month),
                autonomy: self
                    .delegation
                    .as_ref()
                    .map(|d| d.max_total.saturating_sub(d.committed)),
            },
        }
    }
}

/// What an agent's session needs beyond the request: the key's public key and limits, the
/// mints and the service fee payer.
#[derive(Debug)]
pub struct IntentInputs<'a> {
    pub session_key: Address,
    pub key_limits: &'a Limits,
    pub limits: &'a Limits,
    pub mints: Vec<Address>,
    pub allowed_recipients: Option<Vec<Address>>,
    pub max_payments_per_day: Option<u32>,
    pub fees: FeeMode,
    pub service_fee_payer: Address,
    pub now: UnixSeconds,
}

/// The policy engine's intent for an agent's session. The caller checks `invariant()`.
pub fn intent_for(inputs: IntentInputs<'_>) -> Intent {
    let limits = inputs.limits;
    Intent {
        session_key: inputs.session_key,
        asset: Asset::Tokens {
            mints: inputs.mints,
            decimals: USDC_DECIMALS,
        },
        caps: Caps {
            per_transaction: limits.max_per_transaction,
            windows: PerWindow {
                day: limits.max_per_day,
                week: limits.max_per_week,
                month: limits.max_per_month,
            },
        },
        require_approval_above: limits.require_approval_above,
        max_payments: PerWindow {
            day: inputs.max_payments_per_day,
            week: None,
            month: None,
        },
        starts_at: inputs.now,
        expires_at: UnixSeconds(limits.expires_at.min(inputs.key_limits.expires_at)),
        revoked_at: None,
        allowed_recipients: inputs.allowed_recipients,
        allowed_programs: None,
        fee_policy: match inputs.fees {
            FeeMode::Session => FeePolicy::Session,
            FeeMode::Service => FeePolicy::Service {
                address: inputs.service_fee_payer,
            },
            FeeMode::Auto => FeePolicy::Either {
                address: inputs.service_fee_payer,
            },
        },
        fee_caps: fee_caps(limits),
    }
}

/// The fee caps of signed limits: per payment and per rolling day, whoever pays.
pub fn fee_caps(limits: &Limits) -> FeeCaps {
    FeeCaps {
        per_transaction: limits.max_fee_lamports_per_transaction,
        windows: PerWindow {
            day: Some(limits.max_fee_lamports_per_day),
            week: None,
            month: None,
        },
    }
}

/// The signatures the signed or confirmed records of `usages` carry.
pub fn signatures_in<'a>(
    usages: impl Iterator<Item = &'a crate::policy::Usage>,
) -> std::collections::HashSet<&'a str> {
    usages
        .flat_map(|usage| usage.records())
        .filter_map(|r| r.state.signature())
        .collect()
}
