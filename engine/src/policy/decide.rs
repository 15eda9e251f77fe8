//! The one deterministic decision: (intent, usage, transaction, now, approval) -> decision.
//!
//! Every deny rule is checked before approval is considered (deny wins), and anything not
//! explicitly allowed is denied: unknown signers, debits of accounts that are not the session
//! wallet's, assets outside the intent, transactions that pay nothing.

use serde::Serialize;
use solana_address::Address;

use super::intent::{Asset, FeePolicy, Intent};
use super::time::{UnixSeconds, Window};
use super::usage::Usage;
use crate::solana::explain::{Debit, LamportCause, Recipient, Signable};
use crate::solana::summary::pays_to;

/// Whether the user has approved this exact payment (checked by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    None,
    Approved,
}

/// What a payment would spend, as the caps count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spend {
    /// In the intent's asset base units.
    pub amount: u64,
    /// Fees and rent the transaction costs its fee payer.
    pub fee_lamports: u64,
    /// Whether the service's fee payer pays them (gasless).
    pub service_fee: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allow { spend: Spend },
    ApprovalRequired { spend: Spend, threshold: u64 },
    Deny(Denial),
}

/// The rule that denied, with a human-readable detail (in the user's units: dollars for
/// USDC) and, for amount limits, the figures in base units for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Denial {
    pub rule: Rule,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
}

impl Denial {
    /// A denial with no figures (the rules that are not amount limits).
    pub fn because(rule: Rule, detail: impl Into<String>) -> Self {
        Self {
            rule,
            detail: detail.into(),
            figures: None,
        }
    }
}

/// An amount limit's figures, in the asset's base units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Figures {
    /// The payment's amount.
    pub amount: u64,
    /// Already spent in the window (absent for the per-transaction cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent: Option<u64>,
    pub cap: u64,
    /// day, week or month (absent for the per-transaction cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

/// `units` of the intent's asset as the user reads them: dollars for a 6-decimal token
/// (USDC, which the limits count 1:1 in dollars), SOL for lamports.
pub fn in_user_units(asset: &Asset, units: u128) -> String {
    let (decimals, prefix, suffix) = match asset {
        Asset::Tokens { decimals: 6, .. } => (6, "$", ""),
        Asset::Tokens { decimals, .. } => (*decimals, "", " tokens"),
        Asset::Native => (9, "", " SOL"),
    };
    let scale = 10u128.pow(u32::from(decimals));
    let (whole, fraction) = (units / scale, units % scale);
    let fraction = if fraction == 0 {
        String::new()
    } else {
        let digits = format!("{fraction:0width$}", width = usize::from(decimals));
        format!(".{}", digits.trim_end_matches('0'))
    };
    format!("{prefix}{whole}{fraction}{suffix}")
}

/// Every reason a payment can be denied. Stable snake_case names for alerts and clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    IntentInvalid,
    NotStarted,
    Expired,
    Revoked,
    SessionKeyNotSigner,
    UnexpectedSigner,
    FeePayerNotAllowed,
    ProgramNotAllowed,
    AssetNotAllowed,
    MintUnverifiable,
    DecimalsMismatch,
    ForeignDebit,
    FeeCapExceeded,
    RecipientNotAllowed,
    NothingToPay,
    PerTransactionCap,
    DailyCap,
    WeeklyCap,
    MonthlyCap,
    DailyCount,
    WeeklyCount,
    MonthlyCount,
}

impl Rule {
    /// The stable name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IntentInvalid => "intent_invalid",
            Self::NotStarted => "not_started",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::SessionKeyNotSigner => "session_key_not_signer",
            Self::UnexpectedSigner => "unexpected_signer",
            Self::FeePayerNotAllowed => "fee_payer_not_allowed",
            Self::ProgramNotAllowed => "program_not_allowed",
            Self::AssetNotAllowed => "asset_not_allowed",
            Self::MintUnverifiable => "mint_unverifiable",
            Self::DecimalsMismatch => "decimals_mismatch",
            Self::ForeignDebit => "foreign_debit",
            Self::FeeCapExceeded => "fee_cap_exceeded",
            Self::RecipientNotAllowed => "recipient_not_allowed",
            Self::NothingToPay => "nothing_to_pay",
            Self::PerTransactionCap => "per_transaction_cap",
            Self::DailyCap => "daily_cap",
            Self::WeeklyCap => "weekly_cap",
            Self::MonthlyCap => "monthly_cap",
            Self::DailyCount => "daily_count",
            Self::WeeklyCount => "weekly_count",
            Self::MonthlyCount => "monthly_count",
        }
    }

    fn cap(window: Window) -> Self {
        match window {
            Window::Day => Self::DailyCap,
            Window::Week => Self::WeeklyCap,
            Window::Month => Self::MonthlyCap,
        }
    }

    fn count(window: Window) -> Self {
        match window {
            Window::Day => Self::DailyCount,
            Window::Week => Self::WeeklyCount,
            Window::Month => Self::MonthlyCount,
        }
    }
}

fn deny(rule: Rule, detail: impl Into<String>) -> Decision {
    Decision::Deny(Denial::because(rule, detail))
}

macro_rules! check {
    ($result:expr) => {
        if let Err(decision) = $result {
            return decision;
        }
    };
}

/// Decides whether `tx` may be signed under `intent` given `usage`, at `now`.
pub fn decide(
    intent: &Intent,
    usage: &Usage,
    tx: &Signable,
    now: UnixSeconds,
    approval: Approval,
) -> Decision {
    if let Err(error) = intent.invariant() {
        return deny(Rule::IntentInvalid, error.to_string());
    }
    check!(check_time(intent, now));
    let explanation = tx.explanation();
    let payer = Payer::of(intent.fee_policy, &explanation.fee_payer, tx.sponsor());
    check!(check_signers(
        intent,
        &explanation.signers,
        &explanation.fee_payer,
        payer
    ));
    if let Some(allowed) = &intent.allowed_programs {
        if let Some(instruction) = explanation
            .instructions
            .iter()
            .find(|i| !allowed.contains(&i.program_id))
        {
            return deny(
                Rule::ProgramNotAllowed,
                format!(
                    "instruction {} calls {}, outside the intent's programs",
                    instruction.index, instruction.program_id
                ),
            );
        }
    }
    let spend = match sum_debits(intent, &explanation.debits, payer) {
        Ok(spend) => spend,
        Err(decision) => return decision,
    };
    check!(check_fees(intent, usage, spend.fee_lamports, now));
    check!(check_recipients(intent, &explanation.recipients));
    check!(check_amounts(intent, usage, spend.amount, now));
    match intent.require_approval_above {
        Some(threshold) if spend.amount > threshold && approval == Approval::None => {
            Decision::ApprovalRequired { spend, threshold }
        }
        _ => Decision::Allow { spend },
    }
}

fn check_time(intent: &Intent, now: UnixSeconds) -> Result<(), Decision> {
    if now < intent.starts_at {
        return Err(deny(
            Rule::NotStarted,
            format!("the intent starts at {}", intent.starts_at),
        ));
    }
    if let Some(revoked_at) = intent.revoked_at {
        if now >= revoked_at {
            return Err(deny(
                Rule::Revoked,
                format!("the intent was revoked at {revoked_at}"),
            ));
        }
    }
    if now >= intent.expires_at {
        return Err(deny(
            Rule::Expired,
            format!("the intent expired at {}", intent.expires_at),
        ));
    }
    Ok(())
}

/// Who pays this transaction's fees, resolved once from the intent's fee policy, the
/// transaction's fee payer and a declared sponsor; [`check_signers`] and [`sum_debits`] judge
/// by it.
#[derive(Debug, Clone, Copy)]
enum Payer {
    /// The session key pays; its fees and rent count.
    Session,
    /// The service key pays (gasless); its fees and rent count, the session wallet pays no
    /// lamports at all.
    Service(Address),
    /// An outside sponsor the transaction was declared to have (`Signable::sponsored_by`: an
    /// x402 facilitator, whatever the intent's mode, since it costs the user nothing): it pays
    /// only the network fee, which counts nowhere.
    Sponsor(Address),
}

impl Payer {
    /// `FeePolicy::Either` is judged by whichever of its two payers this transaction names:
    /// the service key makes it a service-mode transaction, anything else a session-mode one
    /// (so a third payer is refused as not the session key).
    fn of(policy: FeePolicy, fee_payer: &Address, sponsor: Option<&Address>) -> Self {
        match (sponsor, policy) {
            (Some(sponsor), _) => Self::Sponsor(*sponsor),
            (None, FeePolicy::Session) => Self::Session,
            (None, FeePolicy::Service { address }) => Self::Service(address),
            (None, FeePolicy::Either { address }) if *fee_payer == address => {
                Self::Service(address)
            }
            (None, FeePolicy::Either { .. }) => Self::Session,
        }
    }
}

/// The session key must sign; the only other signer allowed is the fee payer [`Payer`] names.
fn check_signers(
    intent: &Intent,
    signers: &[Address],
    fee_payer: &Address,
    payer: Payer,
) -> Result<(), Decision> {
    if !signers.contains(&intent.session_key) {
        return Err(deny(
            Rule::SessionKeyNotSigner,
            format!(
                "the session key {} does not sign this transaction",
                intent.session_key
            ),
        ));
    }
    let expected_payer = match payer {
        Payer::Sponsor(sponsor) if sponsor == intent.session_key => {
            return Err(deny(
                Rule::FeePayerNotAllowed,
                "the session key cannot be its own transaction's sponsor",
            ))
        }
        Payer::Sponsor(address) | Payer::Service(address) => address,
        Payer::Session => intent.session_key,
    };
    if *fee_payer != expected_payer {
        return Err(deny(
            Rule::FeePayerNotAllowed,
            format!("fee payer {fee_payer} is not the intent's fee payer {expected_payer}"),
        ));
    }
    if let Some(other) = signers
        .iter()
        .find(|s| **s != intent.session_key && **s != expected_payer)
    {
        return Err(deny(
            Rule::UnexpectedSigner,
            format!("signer {other} is neither the session key nor the fee payer"),
        ));
    }
    Ok(())
}

/// Sums what the session wallet spends; denies debits the intent does not cover. A sponsor's
/// network fee is its own money: allowed, and counted nowhere.
fn sum_debits(intent: &Intent, debits: &[Debit], payer: Payer) -> Result<Spend, Decision> {
    let overflow = || deny(Rule::PerTransactionCap, "the amounts overflow");
    let (service_payer, sponsor) = match payer {
        Payer::Service(address) => (Some(address), None),
        Payer::Sponsor(address) => (None, Some(address)),
        Payer::Session => (None, None),
    };
    let mut amount: u64 = 0;
    let mut fee_lamports: u64 = 0;
    for debit in debits {
        let from_session = *debit.authority() == intent.session_key;
        if let (
            Some(sponsor),
            Debit::Lamports {
                account,
                cause: LamportCause::Fee,
                ..
            },
        ) = (sponsor, debit)
        {
            if *account == sponsor {
                continue;
            }
        }
        match debit {
            Debit::Lamports {
                lamports,
                cause: LamportCause::Fee | LamportCause::Rent,
                account,
            } => {
                // In service mode the session wallet pays no lamports at all; either way the
                // fee payer's fees and rent count against the intent's fee caps.
                let payer = match service_payer {
                    Some(service) => *account == service,
                    None => from_session,
                };
                if !payer {
                    return Err(deny(
                        Rule::ForeignDebit,
                        format!("{account} would pay fees or rent"),
                    ));
                }
                fee_lamports = fee_lamports.checked_add(*lamports).ok_or_else(overflow)?;
            }
            Debit::Lamports {
                lamports,
                cause: LamportCause::Transfer,
                account,
            } => {
                if !from_session {
                    return Err(deny(
                        Rule::ForeignDebit,
                        format!("{account} would transfer lamports"),
                    ));
                }
                if intent.asset != Asset::Native {
                    return Err(deny(
                        Rule::AssetNotAllowed,
                        "SOL transfers are outside this token intent",
                    ));
                }
                amount = amount.checked_add(*lamports).ok_or_else(overflow)?;
            }
            Debit::Token {
                authority,
                mint,
                decimals,
                amount: token_amount,
                ..
            } => {
                if !from_session {
                    return Err(deny(
                        Rule::ForeignDebit,
                        format!("{authority} would transfer tokens"),
                    ));
                }
                let Asset::Tokens {
                    mints,
                    decimals: intent_decimals,
                } = &intent.asset
                else {
                    return Err(deny(
                        Rule::AssetNotAllowed,
                        "token transfers are outside this SOL intent",
                    ));
                };
                let Some(mint) = mint else {
                    return Err(deny(
                        Rule::MintUnverifiable,
                        "an unchecked Transfer names no mint; use TransferChecked",
                    ));
                };
                if !mints.contains(mint) {
                    return Err(deny(
                        Rule::AssetNotAllowed,
                        format!("mint {mint} is not in the intent"),
                    ));
                }
                if *decimals != Some(*intent_decimals) {
                    return Err(deny(
                        Rule::DecimalsMismatch,
                        format!("transfer states {decimals:?} decimals, the intent's mints have {intent_decimals}"),
                    ));
                }
                amount = amount.checked_add(*token_amount).ok_or_else(overflow)?;
            }
        }
    }
    if amount == 0 {
        return Err(deny(
            Rule::NothingToPay,
            "the transaction moves none of the intent's asset",
        ));
    }
    Ok(Spend {
        amount,
        fee_lamports,
        service_fee: service_payer.is_some(),
    })
}

/// The fee caps: per transaction, and per window over the fees already counted.
fn check_fees(
    intent: &Intent,
    usage: &Usage,
    fee_lamports: u64,
    now: UnixSeconds,
) -> Result<(), Decision> {
    let sol = |lamports: u128| in_user_units(&Asset::Native, lamports);
    let caps = &intent.fee_caps;
    if fee_lamports > caps.per_transaction {
        return Err(Decision::Deny(Denial {
            rule: Rule::FeeCapExceeded,
            detail: format!(
                "fees and rent of {} exceed the {} per-payment fee cap",
                sol(u128::from(fee_lamports)),
                sol(u128::from(caps.per_transaction))
            ),
            figures: Some(Figures {
                amount: fee_lamports,
                spent: None,
                cap: caps.per_transaction,
                window: None,
            }),
        }));
    }
    for (window, cap) in caps.windows.limits() {
        let spent = usage.fees_in(window, now);
        if spent.saturating_add(u128::from(fee_lamports)) > u128::from(cap) {
            return Err(Decision::Deny(Denial {
                rule: Rule::FeeCapExceeded,
                detail: format!(
                    "{} of fees and rent {} + {} exceeds the {} {} fee cap",
                    sol(spent),
                    window.period(),
                    sol(u128::from(fee_lamports)),
                    sol(u128::from(cap)),
                    window.adjective()
                ),
                figures: Some(Figures {
                    amount: fee_lamports,
                    spent: Some(u64::try_from(spent).unwrap_or(u64::MAX)),
                    cap,
                    window: Some(window.name().to_owned()),
                }),
            }));
        }
    }
    Ok(())
}

fn check_recipients(intent: &Intent, recipients: &[Recipient]) -> Result<(), Decision> {
    let Some(allowed) = &intent.allowed_recipients else {
        return Ok(());
    };
    for recipient in recipients {
        let permitted = match recipient {
            Recipient::Wallet { address, .. } => allowed.contains(address),
            Recipient::TokenAccount {
                account,
                owner,
                mint,
                program,
                ..
            } => allowed
                .iter()
                .any(|wallet| pays_to(wallet, account, owner.as_ref(), mint.as_ref(), *program)),
        };
        if !permitted {
            let target = match recipient {
                Recipient::Wallet { address, .. } => address,
                Recipient::TokenAccount { account, .. } => account,
            };
            return Err(deny(
                Rule::RecipientNotAllowed,
                format!("{target} is not an allowed recipient"),
            ));
        }
    }
    Ok(())
}

fn check_amounts(
    intent: &Intent,
    usage: &Usage,
    amount: u64,
    now: UnixSeconds,
) -> Result<(), Decision> {
    let money = |units: u128| in_user_units(&intent.asset, units);
    if amount > intent.caps.per_transaction {
        let cap = intent.caps.per_transaction;
        return Err(Decision::Deny(Denial {
            rule: Rule::PerTransactionCap,
            detail: format!(
                "{} exceeds the {} per-payment cap",
                money(u128::from(amount)),
                money(u128::from(cap))
            ),
            figures: Some(Figures {
                amount,
                spent: None,
                cap,
                window: None,
            }),
        }));
    }
    for (window, cap) in intent.caps.windows.limits() {
        let spent = usage.spent_in(window, now);
        if spent.saturating_add(u128::from(amount)) > u128::from(cap) {
            return Err(Decision::Deny(Denial {
                rule: Rule::cap(window),
                detail: format!(
                    "{} spent {} + {} exceeds the {} {} cap",
                    money(spent),
                    window.period(),
                    money(u128::from(amount)),
                    money(u128::from(cap)),
                    window.adjective()
                ),
                figures: Some(Figures {
                    amount,
                    spent: Some(u64::try_from(spent).unwrap_or(u64::MAX)),
                    cap,
                    window: Some(window.name().to_owned()),
                }),
            }));
        }
    }
    for (window, limit) in intent.max_payments.limits() {
        let made = usage.payments_in(window, now);
        if made >= u64::from(limit) {
            return Err(deny(
                Rule::count(window),
                format!(
                    "{made} payments this {} reach the limit {limit}",
                    window.name()
                ),
            ));
        }
    }
    Ok(())
}
