//! Bad input is refused with a specific error and never panics: truncations, odd encodings,
//! wrong lengths, forbidden message forms and random bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aip_engine::solana::programs::{
    COMPUTE_BUDGET_PROGRAM, MEMO_PROGRAM, SYSTEM_PROGRAM, TOKEN_2022_PROGRAM,
};
use aip_engine::solana::text::decode_text;
use aip_engine::solana::wire::{AddressTableLookup, CompiledInstruction, MessageHeader};
use aip_engine::solana::{
    explain, DecodeError, Decoded, Message, MessageVersion, Refusal, Signable, Transaction,
};
use common::{solana_vector, solana_vector_names};
use proptest::prelude::*;
use solana_address::Address;
use solana_hash::Hash;

fn key(n: u8) -> Address {
    Address::new_from_array([n; 32])
}

/// A legacy message: signer key(1) (fee payer), writable key(2), then the given programs.
fn message(programs: &[Address], instructions: Vec<CompiledInstruction>) -> Message {
    let mut account_keys = vec![key(1), key(2)];
    account_keys.extend_from_slice(programs);
    Message {
        version: MessageVersion::Legacy,
        header: MessageHeader {
            num_required_signatures: 1,
            num_readonly_signed: 0,
            num_readonly_unsigned: u8::try_from(programs.len()).unwrap(),
        },
        account_keys,
        recent_blockhash: Hash::new_from_array([9; 32]),
        instructions,
        address_table_lookups: Vec::new(),
    }
}

fn ix(program_id_index: u8, accounts: &[u8], data: &[u8]) -> CompiledInstruction {
    CompiledInstruction {
        program_id_index,
        accounts: accounts.to_vec(),
        data: data.to_vec(),
    }
}

fn system_transfer_data(lamports: u64) -> Vec<u8> {
    let mut data = 2u32.to_le_bytes().to_vec();
    data.extend_from_slice(&lamports.to_le_bytes());
    data
}

fn first_refusal(message: &Message) -> Refusal {
    // Round-trip through bytes first: what we refuse must be what we would have decoded.
    let decoded = Message::from_bytes(&message.to_bytes()).expect("structurally valid");
    Signable::new(decoded).expect_err("must be refused")
}

#[test]
fn every_truncation_of_every_vector_is_refused_without_panic() {
    for name in solana_vector_names() {
        let bytes = solana_vector(&name);
        for len in 0..bytes.len() {
            let result = Decoded::from_bytes(&bytes[..len]);
            assert!(result.is_err(), "{name} truncated to {len} bytes decoded");
        }
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = solana_vector("walletcore_token_transfer.b58");
    bytes.push(0);
    assert!(matches!(
        Transaction::from_bytes(&bytes),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
    // Auto-detection must not fall back to reading it as something else.
    assert!(Decoded::from_bytes(&bytes).is_err());
}

#[test]
fn signature_count_must_match_the_header() {
    let m = message(
        &[SYSTEM_PROGRAM],
        vec![ix(2, &[0, 1], &system_transfer_data(5))],
    );
    let mut tx = Transaction::unsigned(m).to_bytes();
    tx[0] = 2; // claim two signatures: the message shifts and no longer parses as one
    assert!(Transaction::from_bytes(&tx).is_err());
}

#[test]
fn text_errors_are_specific() {
    assert!(decode_text("abc", None)
        .unwrap_err()
        .to_string()
        .contains("odd-length hex"));
    assert!(decode_text("!!!!", None)
        .unwrap_err()
        .to_string()
        .contains("base64"));
}

#[test]
fn v1_and_unknown_versions_are_refused() {
    let mut bytes = message(&[SYSTEM_PROGRAM], vec![]).to_bytes();
    bytes.insert(0, 0x81);
    assert_eq!(
        Decoded::from_bytes(&bytes),
        Err(DecodeError::MessageV1Refused)
    );
    bytes[0] = 0x82;
    assert_eq!(
        Decoded::from_bytes(&bytes),
        Err(DecodeError::UnsupportedVersion(2))
    );
}

#[test]
fn structural_rules_are_enforced() {
    let base = message(
        &[SYSTEM_PROGRAM],
        vec![ix(2, &[0, 1], &system_transfer_data(5))],
    );

    let mut duplicate = base.clone();
    duplicate.account_keys[1] = key(1);
    assert!(matches!(
        Message::from_bytes(&duplicate.to_bytes()),
        Err(DecodeError::DuplicateAccountKey(_))
    ));

    let mut payer_as_program = base.clone();
    payer_as_program.instructions[0].program_id_index = 0;
    assert!(matches!(
        Message::from_bytes(&payer_as_program.to_bytes()),
        Err(DecodeError::InvalidProgramIndex { .. })
    ));

    let mut out_of_range = base.clone();
    out_of_range.instructions[0].accounts = vec![0, 7];
    assert!(matches!(
        Message::from_bytes(&out_of_range.to_bytes()),
        Err(DecodeError::AccountIndexOutOfRange {
            account_index: 7,
            ..
        })
    ));

    let mut readonly_payer = base.clone();
    readonly_payer.header.num_readonly_signed = 1;
    assert!(matches!(
        Message::from_bytes(&readonly_payer.to_bytes()),
        Err(DecodeError::InvalidHeader(_))
    ));

    let mut no_signer = base;
    no_signer.header.num_required_signatures = 0;
    assert!(matches!(
        Message::from_bytes(&no_signer.to_bytes()),
        Err(DecodeError::InvalidHeader(_))
    ));
}

#[test]
fn lookup_tables_are_refused() {
    let mut m = message(
        &[SYSTEM_PROGRAM],
        vec![ix(2, &[0, 3], &system_transfer_data(5))],
    );
    m.version = MessageVersion::V0;
    m.address_table_lookups = vec![AddressTableLookup {
        table: key(7),
        writable_indexes: vec![0],
        readonly_indexes: vec![],
    }];
    let refusal = first_refusal(&m);
    assert_eq!(refusal.code(), "lookup_tables_refused", "{refusal}");
}

#[test]
fn wrong_instruction_data_lengths_are_refused() {
    let mut long = system_transfer_data(5);
    long.push(0);
    let cases: Vec<(Address, Vec<u8>, &str)> = vec![
        (
            SYSTEM_PROGRAM,
            long,
            "Transfer data is 13 bytes, expected 12",
        ),
        (
            COMPUTE_BUDGET_PROGRAM,
            vec![2, 1, 0, 0],
            "SetComputeUnitLimit data is 4 bytes, expected 5",
        ),
        (
            COMPUTE_BUDGET_PROGRAM,
            vec![3, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            "SetComputeUnitPrice data is 10 bytes, expected 9",
        ),
    ];
    for (program, data, expected) in cases {
        let accounts: &[u8] = if program == SYSTEM_PROGRAM {
            &[0, 1]
        } else {
            &[]
        };
        let refusal = first_refusal(&message(&[program], vec![ix(2, accounts, &data)]));
        assert_eq!(refusal.code(), "instruction_data_length");
        assert!(refusal.to_string().contains(expected), "{refusal}");
    }
}

#[test]
fn compute_budget_rules() {
    let limit = [2u8, 0x40, 0x0d, 0x03, 0x00]; // 200_000
    let mut price = vec![3u8];
    price.extend_from_slice(&1_000u64.to_le_bytes());
    let twice = message(
        &[COMPUTE_BUDGET_PROGRAM],
        vec![ix(2, &[], &limit), ix(2, &[], &limit)],
    );
    assert_eq!(first_refusal(&twice).code(), "duplicate_compute_budget");

    let price_only = message(&[COMPUTE_BUDGET_PROGRAM], vec![ix(2, &[], &price)]);
    assert_eq!(
        first_refusal(&price_only).code(),
        "compute_unit_limit_required"
    );

    let heap = message(
        &[COMPUTE_BUDGET_PROGRAM],
        vec![ix(2, &[], &[1, 0, 0, 1, 0])],
    );
    let refusal = first_refusal(&heap);
    assert_eq!(refusal.code(), "instruction_not_allowed");
    assert!(
        refusal
            .to_string()
            .contains("ComputeBudget instruction RequestHeapFrame"),
        "{refusal}"
    );

    // price x limit: ceil(1000 * 200000 / 1e6) = 200 lamports of priority fee.
    let both = message(
        &[COMPUTE_BUDGET_PROGRAM],
        vec![ix(2, &[], &limit), ix(2, &[], &price)],
    );
    let e = explain(&both);
    assert_eq!(e.fees.priority_lamports, 200);
    assert_eq!(e.fees.total_lamports, 5_200);
}

#[test]
fn unknown_programs_and_instructions_are_named() {
    let unknown = key(42);
    let refusal = first_refusal(&message(&[unknown], vec![ix(2, &[0], &[1, 2, 3])]));
    assert_eq!(refusal.code(), "program_not_allowed");
    assert!(
        refusal.to_string().contains(&unknown.to_string()),
        "{refusal}"
    );

    // System CreateAccount
    let refusal = first_refusal(&message(&[SYSTEM_PROGRAM], vec![ix(2, &[0, 1], &[0; 52])]));
    assert!(
        refusal
            .to_string()
            .contains("System instruction CreateAccount is not allowed"),
        "{refusal}"
    );

    // Token-2022 plain Transfer (deprecated; only TransferChecked is allowed)
    let mut data = vec![3u8];
    data.extend_from_slice(&5u64.to_le_bytes());
    let refusal = first_refusal(&message(
        &[TOKEN_2022_PROGRAM],
        vec![ix(2, &[1, 1, 0], &data)],
    ));
    assert!(
        refusal
            .to_string()
            .contains("Token-2022 instruction Transfer is not allowed"),
        "{refusal}"
    );
}

#[test]
fn transfer_authority_must_sign_and_extras_must_be_references() {
    // from = key(2), which does not sign
    let refusal = first_refusal(&message(
        &[SYSTEM_PROGRAM],
        vec![ix(2, &[1, 0], &system_transfer_data(5))],
    ));
    assert_eq!(refusal.code(), "authority_not_signer");

    // extra writable account appended to a transfer
    let refusal = first_refusal(&message(
        &[SYSTEM_PROGRAM],
        vec![ix(2, &[0, 1, 1], &system_transfer_data(5))],
    ));
    assert_eq!(refusal.code(), "extra_account_not_reference");

    // a read-only extra (Solana Pay reference) is allowed and reported
    let reference = key(50);
    let mut m = message(
        &[SYSTEM_PROGRAM, reference],
        vec![ix(2, &[0, 1, 3], &system_transfer_data(5))],
    );
    m.header.num_readonly_unsigned = 2;
    let signable = Signable::new(Message::from_bytes(&m.to_bytes()).unwrap()).expect("allowed");
    assert_eq!(signable.explanation().references, vec![reference]);
}

#[test]
fn memo_must_be_utf8() {
    let refusal = first_refusal(&message(&[MEMO_PROGRAM], vec![ix(2, &[], &[0xff, 0xfe])]));
    assert_eq!(refusal.code(), "memo_not_utf8");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        if let Ok(decoded) = Decoded::from_bytes(&bytes) {
            // Whatever decodes re-encodes to the same bytes and explains without panic.
            prop_assert_eq!(decoded.to_bytes(), bytes);
            let _ = aip_engine::solana::explain_decoded(&decoded);
        }
    }

    #[test]
    fn mutating_real_transactions_never_panics(
        index in 0usize..8,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let names = solana_vector_names();
        let mut bytes = solana_vector(&names[index % names.len()]);
        for (position, value) in flips {
            let i = position.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(decoded) = Decoded::from_bytes(&bytes) {
            prop_assert_eq!(decoded.to_bytes(), bytes);
            let _ = aip_engine::solana::explain_decoded(&decoded);
        }
    }
}
