//! x402's `exact` scheme on Solana, the payer's side: which requirement is paid (and every
//! refusal, one row each), the transaction's layout against the scheme's static path, and the
//! policy's view of a facilitator-sponsored transaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aip_engine::policy::{decide, Approval, Decision, FeePolicy, Intent, Rule, Usage};
use aip_engine::solana::programs::{
    associated_token_address, COMPUTE_BUDGET_PROGRAM, MEMO_PROGRAM, TOKEN_PROGRAM, USDC_DECIMALS,
};
use aip_engine::solana::{BuildError, FeePayer, SponsorError};
use aip_engine::x402::{
    payment_payload, payment_signature_header, select, ExactSvmPayment, PaymentRequired, X402Error,
    COMPUTE_UNIT_LIMIT,
};
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use solana_hash::Hash;

const NETWORK: &str = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";

fn facilitator() -> solana_address::Address {
    addr(9)
}

fn requirement() -> Value {
    json!({
        "scheme": "exact",
        "network": NETWORK,
        "amount": "2500",
        "asset": USDC_MAINNET.to_string(),
        "payTo": merchant().to_string(),
        "maxTimeoutSeconds": 60,
        "extra": {"feePayer": facilitator().to_string()},
    })
}

fn required(accepts: Vec<Value>) -> PaymentRequired {
    PaymentRequired {
        x402_version: 2,
        error: None,
        resource: json!({"url": "https://api.example/weather", "mimeType": "application/json"}),
        accepts,
        extensions: None,
    }
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut value = requirement();
    change(&mut value);
    value
}

#[test]
fn the_first_payable_requirement_is_chosen_and_everything_else_is_refused_with_its_code() {
    let mints = [USDC_MAINNET];
    // A payable requirement behind ones on other schemes and networks is found.
    let evm = json!({"scheme": "exact", "network": "eip155:8453", "asset": "0xabc"});
    let upto = with(|r| r["scheme"] = json!("upto"));
    let chosen = select(
        &required(vec![evm.clone(), upto, requirement()]),
        NETWORK,
        &mints,
    )
    .unwrap();
    assert_eq!(chosen.amount, 2500);
    assert_eq!(chosen.pay_to, merchant());
    assert_eq!(chosen.fee_payer, facilitator());
    assert_eq!(chosen.accepted, requirement(), "echoed verbatim");
    assert_eq!(chosen.resource_url, "https://api.example/weather");

    type Row = (&'static str, PaymentRequired, &'static str);
    let version = PaymentRequired {
        x402_version: 1,
        ..required(vec![requirement()])
    };
    let rows: Vec<Row> = vec![
        ("version 1", version, "x402_version_unsupported"),
        (
            "nothing offered",
            required(vec![]),
            "x402_scheme_unsupported",
        ),
        (
            "another scheme",
            required(vec![with(|r| r["scheme"] = json!("upto"))]),
            "x402_scheme_unsupported",
        ),
        (
            "another network",
            required(vec![
                evm,
                with(|r| r["network"] = json!("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")),
            ]),
            "x402_network_unsupported",
        ),
        (
            "a mint outside the intent's",
            required(vec![with(|r| r["asset"] = json!(addr(77).to_string()))]),
            "x402_asset_not_allowed",
        ),
        (
            "amount zero",
            required(vec![with(|r| r["amount"] = json!("0"))]),
            "x402_requirements_invalid",
        ),
        (
            "amount as a number",
            required(vec![with(|r| r["amount"] = json!(2500))]),
            "x402_requirements_invalid",
        ),
        (
            "amount signed",
            required(vec![with(|r| r["amount"] = json!("+2500"))]),
            "x402_requirements_invalid",
        ),
        (
            "amount beyond u64",
            required(vec![with(|r| r["amount"] = json!("18446744073709551616"))]),
            "x402_requirements_invalid",
        ),
        (
            "payTo not an address",
            required(vec![with(|r| r["payTo"] = json!("0xabc"))]),
            "x402_requirements_invalid",
        ),
        (
            "no fee payer",
            required(vec![with(|r| r["extra"] = json!({}))]),
            "x402_requirements_invalid",
        ),
        (
            "an extra nobody defined",
            required(vec![with(|r| r["extra"]["callback"] = json!("https://x"))]),
            "x402_requirements_invalid",
        ),
        (
            "memo over 256 bytes",
            required(vec![with(|r| r["extra"]["memo"] = json!("m".repeat(257)))]),
            "x402_requirements_invalid",
        ),
        (
            "no timeout",
            required(vec![with(|r| {
                r.as_object_mut().unwrap().remove("maxTimeoutSeconds");
            })]),
            "x402_requirements_invalid",
        ),
    ];
    for (name, document, code) in rows {
        let refused = select(&document, NETWORK, &mints).unwrap_err();
        assert_eq!(refused.code(), code, "{name}: {refused}");
    }
    // The hints the scheme defines are understood (and the blockhash hint is not needed).
    let hinted = with(|r| {
        r["extra"]["recentBlockhash"] = json!(Hash::new_from_array([5; 32]).to_string());
        r["extra"]["lastValidBlockHeight"] = json!("291470237");
        r["extra"]["memo"] = json!("pi_3abc123def456");
    });
    let chosen = select(&required(vec![hinted]), NETWORK, &mints).unwrap();
    assert_eq!(chosen.memo.as_deref(), Some("pi_3abc123def456"));
    assert!(matches!(
        select(&required(vec![]), NETWORK, &mints),
        Err(X402Error::NothingOffered)
    ));
}

#[test]
fn the_transaction_follows_the_static_layout_and_never_names_the_facilitator() {
    let chosen = select(&required(vec![requirement()]), NETWORK, &[USDC_MAINNET]).unwrap();
    let made = ExactSvmPayment::new(
        &chosen,
        session_key(),
        USDC_DECIMALS,
        Hash::new_from_array([7; 32]),
        [0xab; 16],
    );
    assert_eq!(made.memo, "ab".repeat(16), "a 16-byte hex nonce");
    let signable = made.payment.build().unwrap();
    let message = signable.message();
    assert_eq!(
        message.account_keys[0],
        facilitator(),
        "the fee payer comes first"
    );
    assert_eq!(
        message.header.num_required_signatures, 2,
        "facilitator and payer"
    );
    let programs: Vec<_> = message
        .instructions
        .iter()
        .map(|i| message.account_keys[usize::from(i.program_id_index)])
        .collect();
    assert_eq!(
        programs,
        [
            COMPUTE_BUDGET_PROGRAM,
            COMPUTE_BUDGET_PROGRAM,
            TOKEN_PROGRAM,
            MEMO_PROGRAM
        ]
    );
    let data: Vec<&[u8]> = message
        .instructions
        .iter()
        .map(|i| i.data.as_slice())
        .collect();
    assert_eq!(data[0][0], 2, "SetComputeUnitLimit");
    assert_eq!(
        u32::from_le_bytes(data[0][1..5].try_into().unwrap()),
        COMPUTE_UNIT_LIMIT
    );
    assert_eq!(data[1][0], 3, "SetComputeUnitPrice");
    assert_eq!(data[2][0], 12, "TransferChecked");
    assert_eq!(u64::from_le_bytes(data[2][1..9].try_into().unwrap()), 2500);
    assert_eq!(data[2][9], USDC_DECIMALS);
    assert_eq!(data[3], "ab".repeat(16).as_bytes());
    let transfer = &message.instructions[2];
    let accounts: Vec<_> = transfer
        .accounts
        .iter()
        .map(|i| message.account_keys[usize::from(*i)])
        .collect();
    assert_eq!(
        accounts,
        [
            associated_token_address(
                &session_key(),
                &USDC_MAINNET,
                aip_engine::solana::TokenProgram::Token
            ),
            USDC_MAINNET,
            associated_token_address(
                &merchant(),
                &USDC_MAINNET,
                aip_engine::solana::TokenProgram::Token
            ),
            session_key(),
        ],
        "source, mint, payTo's token account, authority: nothing more"
    );
    for instruction in &message.instructions {
        assert_ne!(instruction.program_id_index, 0);
        assert!(!instruction.accounts.contains(&0), "fee payer isolation");
    }
    assert_eq!(signable.sponsor(), Some(&facilitator()));

    // The server's memo replaces the nonce.
    let memo = with(|r| r["extra"]["memo"] = json!("invoice-7"));
    let chosen = select(&required(vec![memo]), NETWORK, &[USDC_MAINNET]).unwrap();
    let made = ExactSvmPayment::new(
        &chosen,
        session_key(),
        6,
        Hash::new_from_array([7; 32]),
        [1; 16],
    );
    assert_eq!(
        made.payment.build().unwrap().explanation().memos,
        ["invoice-7"]
    );

    // The payload and its header, as @x402/core encodes them.
    let payload = payment_payload(&chosen.resource, &chosen.accepted, "AQID");
    assert_eq!(payload["x402Version"], 2);
    assert_eq!(payload["accepted"], chosen.accepted);
    assert_eq!(payload["payload"]["transaction"], "AQID");
    let header = payment_signature_header(&payload);
    let decoded: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(decoded, payload);
}

#[test]
fn a_sponsor_is_refused_when_an_instruction_could_use_it_or_it_is_the_payer() {
    // A facilitator that is also the transfer's authority would pay the money itself.
    let mut payment = payment(USDC);
    payment.fee_payer = FeePayer::Sponsor {
        address: session_key(),
    };
    assert_eq!(
        payment.build().unwrap_err(),
        BuildError::FeePayerIsAuthority
    );
    // A sponsor funds no account.
    let mut payment = common::payment(USDC);
    payment.fee_payer = FeePayer::Sponsor {
        address: facilitator(),
    };
    payment.create_recipient_account = true;
    assert_eq!(
        payment.build().unwrap_err(),
        BuildError::SponsorCreatesAccount
    );
    // A transaction naming the sponsor in an instruction cannot be declared sponsored.
    let named = compile(
        &[transfer_checked_ix(
            session_key(),
            USDC,
            USDC_DECIMALS,
            USDC_MAINNET,
        )],
        &facilitator(),
    );
    // A memo the facilitator signs: the runtime would let it authorise that instruction.
    let memo_signed_by_it = solana_instruction::Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![solana_instruction::AccountMeta::new_readonly(
            facilitator(),
            true,
        )],
        data: b"hello".to_vec(),
    };
    let signable = compile(
        &[
            transfer_checked_ix(session_key(), USDC, USDC_DECIMALS, USDC_MAINNET),
            memo_signed_by_it,
        ],
        &facilitator(),
    );
    assert!(matches!(
        signable.sponsored_by(facilitator()),
        Err(SponsorError::NamedByInstruction { index: 1, .. })
    ));
    assert!(matches!(
        named.sponsored_by(merchant()),
        Err(SponsorError::NotTheFeePayer { .. })
    ));
}

#[test]
fn the_policy_accepts_a_sponsor_in_either_fee_mode_and_counts_none_of_its_fees() {
    let chosen = select(&required(vec![requirement()]), NETWORK, &[USDC_MAINNET]).unwrap();
    let signable = ExactSvmPayment::new(
        &chosen,
        session_key(),
        6,
        Hash::new_from_array([7; 32]),
        [2; 16],
    )
    .payment
    .build()
    .unwrap();
    for fee_policy in [
        FeePolicy::Session,
        FeePolicy::Service {
            address: service_payer(),
        },
    ] {
        let intent = Intent {
            fee_policy,
            ..usdc_intent()
        };
        let decision = decide(
            &intent,
            &Usage::default(),
            &signable,
            T0.saturating_add(1),
            Approval::None,
        );
        let Decision::Allow { spend } = decision else {
            panic!("{fee_policy:?}: {decision:?}")
        };
        assert_eq!(spend.amount, 2500);
        assert_eq!(
            spend.fee_lamports, 0,
            "the facilitator's fee is not the user's"
        );
        assert!(!spend.service_fee);
    }
    // The same message without the declaration: its fee payer is no one the intent knows.
    let undeclared = aip_engine::solana::Signable::new(signable.message().clone()).unwrap();
    let decision = decide(
        &usdc_intent(),
        &Usage::default(),
        &undeclared,
        T0.saturating_add(1),
        Approval::None,
    );
    assert!(
        matches!(&decision, Decision::Deny(d) if d.rule == Rule::FeePayerNotAllowed),
        "{decision:?}"
    );
    // The intent's caps hold for sponsored payments as for any other.
    let over = with(|r| r["amount"] = json!((11 * USDC).to_string()));
    let chosen = select(&required(vec![over]), NETWORK, &[USDC_MAINNET]).unwrap();
    let signable = ExactSvmPayment::new(
        &chosen,
        session_key(),
        6,
        Hash::new_from_array([7; 32]),
        [2; 16],
    )
    .payment
    .build()
    .unwrap();
    let decision = decide(
        &usdc_intent(),
        &Usage::default(),
        &signable,
        T0.saturating_add(1),
        Approval::None,
    );
    assert!(
        matches!(&decision, Decision::Deny(d) if d.rule == Rule::PerTransactionCap),
        "{decision:?}"
    );
}
