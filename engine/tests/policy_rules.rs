//! Table tests: one case per policy rule, window edges, approval, and intent invariants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aip_engine::policy::{
    decide, Approval, Decision, FeeCaps, FeePolicy, Intent, IntentError, Rule, Spend, UnixSeconds,
    Usage, Window,
};
use aip_engine::solana::programs::{MEMO_PROGRAM, SYSTEM_PROGRAM, TOKEN_PROGRAM, USDC_DEVNET_MINT};
use aip_engine::solana::{FeePayer, Signable};
use common::*;
use solana_instruction::{AccountMeta, Instruction};

fn rule_of(decision: &Decision) -> Option<Rule> {
    match decision {
        Decision::Deny(denial) => Some(denial.rule),
        _ => None,
    }
}

fn usage_with(amounts: &[(u64, UnixSeconds)]) -> Usage {
    let mut usage = Usage::default();
    for (amount, at) in amounts {
        usage.reserve(
            Spend {
                amount: *amount,
                fee_lamports: 5_000,
                service_fee: false,
            },
            *at,
        );
    }
    usage
}

fn memo(signer: Option<solana_address::Address>) -> Instruction {
    Instruction {
        program_id: MEMO_PROGRAM,
        accounts: signer
            .map(|s| vec![AccountMeta::new_readonly(s, true)])
            .unwrap_or_default(),
        data: b"hello".to_vec(),
    }
}

fn token_instruction(
    tag: u8,
    accounts: Vec<AccountMeta>,
    amount: u64,
    decimals: Option<u8>,
) -> Instruction {
    let mut data = vec![tag];
    data.extend_from_slice(&amount.to_le_bytes());
    data.extend(decimals);
    Instruction {
        program_id: TOKEN_PROGRAM,
        accounts,
        data,
    }
}

struct Case {
    name: &'static str,
    intent: Intent,
    usage: Usage,
    tx: Signable,
    now: UnixSeconds,
    expected: Option<Rule>,
}

fn case(name: &'static str, expected: Option<Rule>) -> Case {
    Case {
        name,
        intent: usdc_intent(),
        usage: Usage::default(),
        tx: usdc(5 * USDC),
        now: T0.saturating_add(60),
        expected,
    }
}

#[test]
fn every_rule_denies_its_case_and_only_its_case() {
    let later = T0.saturating_add(60);
    let cases = vec![
        case("a plain payment inside every limit", None),
        Case {
            intent: Intent {
                caps: aip_engine::policy::Caps {
                    per_transaction: 200 * USDC,
                    ..usdc_intent().caps
                },
                ..usdc_intent()
            },
            ..case(
                "per-transaction cap above the daily cap",
                Some(Rule::IntentInvalid),
            )
        },
        Case {
            now: T0.saturating_sub(1),
            ..case("before the start", Some(Rule::NotStarted))
        },
        Case {
            now: T0.saturating_add(7 * 86_400),
            ..case("exactly at expiry", Some(Rule::Expired))
        },
        Case {
            intent: Intent {
                revoked_at: Some(later),
                ..usdc_intent()
            },
            ..case("revoked at this second", Some(Rule::Revoked))
        },
        Case {
            tx: common::TokenPaymentExt::by(addr(9)),
            ..case("another key's payment", Some(Rule::SessionKeyNotSigner))
        },
        Case {
            intent: Intent {
                fee_policy: FeePolicy::Service {
                    address: service_payer(),
                },
                ..usdc_intent()
            },
            ..case(
                "service mode but the session pays",
                Some(Rule::FeePayerNotAllowed),
            )
        },
        Case {
            tx: compile(
                &[
                    common::transfer_checked_ix(session_key(), 5 * USDC, 6, USDC_MAINNET),
                    memo(Some(addr(8))),
                ],
                &session_key(),
            ),
            ..case("a memo signed by a stranger", Some(Rule::UnexpectedSigner))
        },
        Case {
            intent: Intent {
                allowed_programs: Some(vec![TOKEN_PROGRAM]),
                ..usdc_intent()
            },
            tx: {
                let mut p = payment(5 * USDC);
                p.memo = Some("order 1".into());
                p.build().unwrap()
            },
            ..case(
                "memo outside the intent's programs",
                Some(Rule::ProgramNotAllowed),
            )
        },
        Case {
            tx: {
                let mut p = payment(5 * USDC);
                p.mint = USDC_DEVNET_MINT;
                p.build().unwrap()
            },
            ..case("a mint outside the intent", Some(Rule::AssetNotAllowed))
        },
        Case {
            tx: compile(
                &[solana_system_interface::instruction::transfer(
                    &session_key(),
                    &merchant(),
                    1_000,
                )],
                &session_key(),
            ),
            ..case("SOL out of a USDC intent", Some(Rule::AssetNotAllowed))
        },
        Case {
            tx: compile(
                &[token_instruction(
                    3,
                    vec![
                        AccountMeta::new(addr(20), false),
                        AccountMeta::new(addr(21), false),
                        AccountMeta::new_readonly(session_key(), true),
                    ],
                    5 * USDC,
                    None,
                )],
                &session_key(),
            ),
            ..case(
                "an unchecked Transfer names no mint",
                Some(Rule::MintUnverifiable),
            )
        },
        Case {
            tx: {
                let mut p = payment(5 * USDC);
                p.decimals = 9;
                p.build().unwrap()
            },
            ..case("wrong decimals", Some(Rule::DecimalsMismatch))
        },
        Case {
            intent: Intent {
                fee_policy: FeePolicy::Service {
                    address: service_payer(),
                },
                ..usdc_intent()
            },
            tx: compile(
                &[
                    common::transfer_checked_ix(session_key(), 5 * USDC, 6, USDC_MAINNET),
                    common::transfer_checked_ix(service_payer(), 1, 6, USDC_MAINNET),
                ],
                &service_payer(),
            ),
            ..case(
                "the service payer's tokens would move",
                Some(Rule::ForeignDebit),
            )
        },
        Case {
            intent: Intent {
                fee_caps: FeeCaps {
                    per_transaction: 10_000,
                    ..usdc_intent().fee_caps
                },
                ..usdc_intent()
            },
            tx: {
                let mut p = payment(5 * USDC);
                p.create_recipient_account = true;
                p.build().unwrap()
            },
            ..case(
                "rent for the recipient account exceeds the fee budget",
                Some(Rule::FeeCapExceeded),
            )
        },
        Case {
            intent: Intent {
                allowed_recipients: Some(vec![addr(77)]),
                ..usdc_intent()
            },
            ..case(
                "a recipient off the allowlist",
                Some(Rule::RecipientNotAllowed),
            )
        },
        Case {
            tx: compile(&[memo(None)], &session_key()),
            ..case("a memo that pays nothing", Some(Rule::NothingToPay))
        },
        Case {
            tx: usdc(10 * USDC + 1),
            ..case(
                "one unit over the per-transaction cap",
                Some(Rule::PerTransactionCap),
            )
        },
        Case {
            usage: usage_with(&[(96 * USDC, T0)]),
            ..case("over the daily cap", Some(Rule::DailyCap))
        },
        Case {
            usage: usage_with(&[
                (100 * USDC, T0.saturating_sub(3 * 86_400)),
                (100 * USDC, T0.saturating_sub(2 * 86_400)),
                (96 * USDC, T0.saturating_sub(86_400)),
            ]),
            ..case("over the weekly cap", Some(Rule::WeeklyCap))
        },
        Case {
            usage: usage_with(&[
                (300 * USDC, T0.saturating_sub(20 * 86_400)),
                (196 * USDC, T0.saturating_sub(10 * 86_400)),
            ]),
            ..case("over the monthly cap", Some(Rule::MonthlyCap))
        },
        Case {
            intent: Intent {
                max_payments: aip_engine::policy::PerWindow {
                    day: Some(1),
                    week: None,
                    month: None,
                },
                ..usdc_intent()
            },
            usage: usage_with(&[(1, T0)]),
            ..case("the daily payment count", Some(Rule::DailyCount))
        },
        Case {
            intent: Intent {
                max_payments: aip_engine::policy::PerWindow {
                    day: None,
                    week: Some(2),
                    month: None,
                },
                ..usdc_intent()
            },
            usage: usage_with(&[
                (1, T0.saturating_sub(3 * 86_400)),
                (1, T0.saturating_sub(2 * 86_400)),
            ]),
            ..case("the weekly payment count", Some(Rule::WeeklyCount))
        },
        Case {
            intent: Intent {
                max_payments: aip_engine::policy::PerWindow {
                    day: None,
                    week: None,
                    month: Some(1),
                },
                ..usdc_intent()
            },
            usage: usage_with(&[(1, T0.saturating_sub(20 * 86_400))]),
            ..case("the monthly payment count", Some(Rule::MonthlyCount))
        },
    ];
    let mut seen = std::collections::HashSet::new();
    for c in cases {
        let decision = decide(&c.intent, &c.usage, &c.tx, c.now, Approval::None);
        assert_eq!(rule_of(&decision), c.expected, "{}: {decision:?}", c.name);
        if let Some(rule) = c.expected {
            seen.insert(rule);
        }
    }
    assert_eq!(seen.len(), 22, "every deny rule has a case");
    // The stable names (metrics labels, error messages, stored denials) are the serialized
    // ones, and read back to the same rule.
    for rule in seen {
        let serialized = serde_json::to_value(rule).unwrap();
        assert_eq!(serialized.as_str(), Some(rule.as_str()));
        assert_eq!(serde_json::from_value::<Rule>(serialized).unwrap(), rule);
    }
}

#[test]
fn deny_wins_over_approval() {
    let intent = Intent {
        require_approval_above: Some(USDC),
        ..usdc_intent()
    };
    let usage = usage_with(&[(99 * USDC, T0)]);
    let decision = decide(
        &intent,
        &usage,
        &usdc(5 * USDC),
        T0.saturating_add(1),
        Approval::None,
    );
    assert_eq!(rule_of(&decision), Some(Rule::DailyCap));
}

#[test]
fn approval_threshold() {
    let intent = Intent {
        require_approval_above: Some(2 * USDC),
        ..usdc_intent()
    };
    let now = T0.saturating_add(1);
    let usage = Usage::default();
    assert!(matches!(
        decide(&intent, &usage, &usdc(2 * USDC), now, Approval::None),
        Decision::Allow { .. }
    ));
    assert!(matches!(
        decide(&intent, &usage, &usdc(2 * USDC + 1), now, Approval::None),
        Decision::ApprovalRequired { threshold, .. } if threshold == 2 * USDC
    ));
    assert!(matches!(
        decide(
            &intent,
            &usage,
            &usdc(2 * USDC + 1),
            now,
            Approval::Approved
        ),
        Decision::Allow { .. }
    ));
}

#[test]
fn gasless_payment_costs_the_session_no_lamports_and_counts_the_service_fees() {
    let intent = Intent {
        fee_policy: FeePolicy::Service {
            address: service_payer(),
        },
        ..usdc_intent()
    };
    let mut p = payment(5 * USDC);
    p.fee_payer = FeePayer::Service {
        address: service_payer(),
    };
    p.create_recipient_account = true;
    let signable = p.build().unwrap();
    let session_lamports: u64 = signable
        .explanation()
        .debits
        .iter()
        .filter_map(|d| match d {
            aip_engine::solana::Debit::Lamports {
                account, lamports, ..
            } if *account == session_key() => Some(*lamports),
            _ => None,
        })
        .sum();
    assert_eq!(session_lamports, 0, "the session wallet pays nothing");
    let decision = decide(
        &intent,
        &Usage::default(),
        &signable,
        T0.saturating_add(1),
        Approval::None,
    );
    let Decision::Allow { spend } = decision else {
        panic!("{decision:?}")
    };
    // Two signatures and the recipient account's rent, paid by the service, count.
    assert_eq!(spend.amount, 5 * USDC);
    assert_eq!(spend.fee_lamports, 2 * 5_000 + 2_039_280);
    assert!(spend.service_fee);
}

#[test]
fn the_daily_fee_cap_holds_whoever_pays() {
    for fee_policy in [
        FeePolicy::Session,
        FeePolicy::Service {
            address: service_payer(),
        },
    ] {
        let intent = Intent {
            fee_policy,
            fee_caps: FeeCaps {
                per_transaction: 3_000_000,
                windows: aip_engine::policy::PerWindow {
                    day: Some(5_000_000),
                    week: None,
                    month: None,
                },
            },
            ..usdc_intent()
        };
        let mut p = payment(USDC);
        if let FeePolicy::Service { address } = fee_policy {
            p.fee_payer = FeePayer::Service { address };
        }
        p.create_recipient_account = true;
        let signable = p.build().unwrap();
        let mut usage = Usage::default();
        let now = T0.saturating_add(10);
        let mut allowed = 0;
        loop {
            match decide(&intent, &usage, &signable, now, Approval::None) {
                Decision::Allow { spend } => {
                    usage.reserve(spend, now);
                    allowed += 1;
                }
                Decision::Deny(denial) => {
                    assert_eq!(denial.rule, Rule::FeeCapExceeded, "{fee_policy:?}");
                    let figures = denial.figures.expect("fee figures");
                    assert_eq!(figures.window.as_deref(), Some("day"));
                    assert_eq!(figures.cap, 5_000_000);
                    assert!(denial.detail.contains("daily fee cap"), "{}", denial.detail);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        // Each costs rent (2,039,280) plus fees: two fit in 0.005 SOL, a third does not.
        assert_eq!(allowed, 2, "{fee_policy:?}");
        assert!(usage.fees_in(Window::Day, now) <= 5_000_000);
        // A day later the window has room again.
        assert!(matches!(
            decide(
                &intent,
                &usage,
                &signable,
                now.saturating_add(86_400),
                Approval::None
            ),
            Decision::Allow { .. }
        ));
    }
}

#[test]
fn fees_and_rent_count_against_the_session_budget() {
    let mut p = payment(5 * USDC);
    p.create_recipient_account = true;
    p.compute_unit_limit = Some(200_000);
    p.compute_unit_price_micro_lamports = Some(1_000);
    let decision = decide(
        &usdc_intent(),
        &Usage::default(),
        &p.build().unwrap(),
        T0.saturating_add(1),
        Approval::None,
    );
    let Decision::Allow { spend } = decision else {
        panic!("{decision:?}")
    };
    assert_eq!(spend.fee_lamports, 5_000 + 200 + 2_039_280);
}

#[test]
fn recipient_allowlist_matches_wallets_through_their_token_accounts() {
    let intent = Intent {
        allowed_recipients: Some(vec![merchant()]),
        ..usdc_intent()
    };
    let decision = decide(
        &intent,
        &Usage::default(),
        &usdc(5 * USDC),
        T0.saturating_add(1),
        Approval::None,
    );
    assert!(matches!(decision, Decision::Allow { .. }), "{decision:?}");
}

#[test]
fn daily_window_edges() {
    let intent = usdc_intent();
    let usage = usage_with(&[(100 * USDC, T0)]);
    let tx = usdc(USDC);
    let day = 86_400;
    for (offset, expected) in [
        (0, Some(Rule::DailyCap)),
        (day - 1, Some(Rule::DailyCap)),
        (day, None),
        (day + 1, None),
    ] {
        let decision = decide(
            &intent,
            &usage,
            &tx,
            T0.saturating_add(offset),
            Approval::None,
        );
        assert_eq!(
            rule_of(&decision),
            expected,
            "at T0 + {offset}s: {decision:?}"
        );
    }
}

#[test]
fn released_reservations_do_not_count() {
    let intent = usdc_intent();
    let mut usage = usage_with(&[(96 * USDC, T0)]);
    let id = usage.records()[0].id;
    let now = T0.saturating_add(1);
    assert_eq!(
        rule_of(&decide(
            &intent,
            &usage,
            &usdc(5 * USDC),
            now,
            Approval::None
        )),
        Some(Rule::DailyCap)
    );
    usage
        .release(id, aip_engine::policy::ReleaseProof::NeverSigned)
        .unwrap();
    assert_eq!(
        rule_of(&decide(
            &intent,
            &usage,
            &usdc(5 * USDC),
            now,
            Approval::None
        )),
        None
    );
}

#[test]
fn invariant_rejects_each_contradiction() {
    let base = usdc_intent();
    let w = aip_engine::policy::PerWindow::<u64> {
        day: Some(100),
        week: Some(50),
        month: None,
    };
    type Expectation = fn(&IntentError) -> bool;
    let cases: Vec<(Intent, Expectation)> = vec![
        (
            Intent {
                caps: aip_engine::policy::Caps {
                    per_transaction: 0,
                    ..base.caps
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::ZeroPerTransactionCap),
        ),
        (
            Intent {
                caps: aip_engine::policy::Caps {
                    per_transaction: 10,
                    windows: w,
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::WindowCapsNotNested { .. }),
        ),
        (
            Intent {
                caps: aip_engine::policy::Caps {
                    per_transaction: 101 * USDC,
                    ..base.caps
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::PerTransactionAboveWindow { .. }),
        ),
        (
            Intent {
                max_payments: aip_engine::policy::PerWindow {
                    day: Some(0),
                    week: None,
                    month: None,
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::ZeroCountLimit { .. }),
        ),
        (
            Intent {
                max_payments: aip_engine::policy::PerWindow {
                    day: Some(5),
                    week: Some(4),
                    month: None,
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::CountLimitsNotNested { .. }),
        ),
        (
            Intent {
                expires_at: base.starts_at,
                ..base.clone()
            },
            |e| matches!(e, IntentError::ExpiryNotAfterStart { .. }),
        ),
        (
            Intent {
                revoked_at: Some(base.starts_at.saturating_sub(1)),
                ..base.clone()
            },
            |e| matches!(e, IntentError::RevokedBeforeStart { .. }),
        ),
        (
            Intent {
                asset: aip_engine::policy::Asset::Tokens {
                    mints: vec![],
                    decimals: 6,
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::NoMints),
        ),
        (
            Intent {
                asset: aip_engine::policy::Asset::Tokens {
                    mints: vec![USDC_MAINNET, USDC_MAINNET],
                    decimals: 6,
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::DuplicateMint(_)),
        ),
        (
            Intent {
                allowed_recipients: Some(vec![]),
                ..base.clone()
            },
            |e| matches!(e, IntentError::EmptyRecipientAllowlist),
        ),
        (
            Intent {
                allowed_programs: Some(vec![]),
                ..base.clone()
            },
            |e| matches!(e, IntentError::EmptyProgramAllowlist),
        ),
        (
            Intent {
                allowed_programs: Some(vec![addr(99)]),
                ..base.clone()
            },
            |e| matches!(e, IntentError::ProgramOutsideSignerAllowlist(_)),
        ),
        (
            Intent {
                fee_caps: FeeCaps {
                    per_transaction: 0,
                    ..base.fee_caps
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::ZeroFeeBudget),
        ),
        (
            Intent {
                fee_caps: FeeCaps {
                    per_transaction: 20_000_000,
                    ..base.fee_caps
                },
                ..base.clone()
            },
            |e| {
                matches!(
                    e,
                    IntentError::PerTransactionAboveWindow { limit: "fee", .. }
                )
            },
        ),
        (
            Intent {
                fee_policy: FeePolicy::Service {
                    address: session_key(),
                },
                ..base.clone()
            },
            |e| matches!(e, IntentError::ServiceFeePayerIsSessionKey),
        ),
    ];
    assert_eq!(base.invariant(), Ok(()));
    for (intent, expected) in cases {
        let error = intent
            .invariant()
            .expect_err("contradictory intent accepted");
        assert!(expected(&error), "unexpected error {error:?}");
    }
    let native = Intent {
        asset: aip_engine::policy::Asset::Native,
        allowed_programs: Some(vec![SYSTEM_PROGRAM]),
        ..base
    };
    assert_eq!(native.invariant(), Ok(()));
}

#[test]
fn intents_parse_from_json_and_refuse_unknown_fields() {
    let json = serde_json::to_value(usdc_intent()).unwrap();
    let parsed: Intent = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(parsed, usdc_intent());
    assert_eq!(
        json["session_key"],
        session_key().to_string(),
        "addresses are base58 text"
    );
    let mut extra = json;
    extra["max_per_year"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Intent>(extra).is_err());
}

/// Denials speak the user's units (dollars for USDC) and carry the base-unit figures.
#[test]
fn denials_name_dollars_windows_and_figures() {
    use aip_engine::policy::{in_user_units, Asset, Figures};
    let intent = usdc_intent();
    let cap = intent.caps.windows.day.unwrap();
    let spent = cap - USDC / 2;
    let usage = usage_with(&[(spent, T0)]);
    let Decision::Deny(denial) = decide(&intent, &usage, &usdc(USDC), T0, Approval::None) else {
        panic!("over the daily cap")
    };
    assert_eq!(denial.rule, Rule::DailyCap);
    assert_eq!(
        denial.detail,
        format!(
            "{} spent today + $1 exceeds the {} daily cap",
            in_user_units(&intent.asset, u128::from(spent)),
            in_user_units(&intent.asset, u128::from(cap))
        )
    );
    assert_eq!(
        denial.figures,
        Some(Figures {
            amount: USDC,
            spent: Some(spent),
            cap,
            window: Some("day".into()),
        })
    );
    let per_tx = intent.caps.per_transaction;
    let Decision::Deny(denial) = decide(
        &intent,
        &Usage::default(),
        &usdc(per_tx + 1),
        T0,
        Approval::None,
    ) else {
        panic!("over the per-transaction cap")
    };
    assert_eq!(denial.rule, Rule::PerTransactionCap);
    assert!(
        denial.detail.ends_with("per-payment cap"),
        "{}",
        denial.detail
    );
    assert_eq!(denial.figures.unwrap().window, None);
    let tokens = |decimals| Asset::Tokens {
        mints: vec![],
        decimals,
    };
    for (asset, units, text) in [
        (tokens(6), 15_000_000u128, "$15"),
        (tokens(6), 15_250_000, "$15.25"),
        (tokens(6), 1, "$0.000001"),
        (tokens(6), 0, "$0"),
        (tokens(2), 1_005, "10.05 tokens"),
        (Asset::Native, 1_500_000_000, "1.5 SOL"),
    ] {
        assert_eq!(in_user_units(&asset, units), text);
    }
}

#[test]
fn an_either_intent_judges_each_transaction_by_its_fee_payer() {
    let intent = Intent {
        fee_policy: FeePolicy::Either {
            address: service_payer(),
        },
        ..usdc_intent()
    };
    intent.invariant().unwrap();
    let decide_for = |fee_payer: FeePayer| {
        let mut p = payment(5 * USDC);
        p.fee_payer = fee_payer;
        decide(
            &intent,
            &Usage::default(),
            &p.build().unwrap(),
            T0.saturating_add(1),
            Approval::None,
        )
    };
    let Decision::Allow { spend } = decide_for(FeePayer::Session) else {
        panic!("the session may pay")
    };
    assert!(!spend.service_fee);
    assert_eq!(spend.fee_lamports, 5_000);
    let Decision::Allow { spend } = decide_for(FeePayer::Service {
        address: service_payer(),
    }) else {
        panic!("the service may pay")
    };
    assert!(spend.service_fee);
    assert_eq!(spend.fee_lamports, 2 * 5_000);
    // Anyone else is neither.
    let Decision::Deny(denial) = decide_for(FeePayer::Service { address: addr(42) }) else {
        panic!("a third payer")
    };
    assert_eq!(denial.rule, Rule::FeePayerNotAllowed);
    // The service key cannot be the session key.
    let bad = Intent {
        fee_policy: FeePolicy::Either {
            address: session_key(),
        },
        ..usdc_intent()
    };
    assert_eq!(
        bad.invariant(),
        Err(IntentError::ServiceFeePayerIsSessionKey)
    );
}
