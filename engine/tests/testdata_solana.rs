//! Every real transaction in ../shared/testdata/solana decodes, re-serializes byte for byte,
//! and explains as its SOURCES.md describes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aip_engine::solana::programs::{USDC_DEVNET_MINT, USDC_MAINNET_MINT};
use aip_engine::solana::{
    explain_decoded, Action, Decoded, Explanation, MessageVersion, SignatureState,
};
use common::{solana_vector, solana_vector_names};

fn explained(name: &str) -> (Decoded, Explanation) {
    let bytes = solana_vector(name);
    let decoded = Decoded::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let explanation = explain_decoded(&decoded);
    (decoded, explanation)
}

fn actions(explanation: &Explanation) -> Vec<&Action> {
    explanation
        .instructions
        .iter()
        .filter_map(|i| i.action.as_ref())
        .collect()
}

fn refusal_codes(explanation: &Explanation) -> Vec<&'static str> {
    explanation.refusals.iter().map(|r| r.code()).collect()
}

fn signature_states(explanation: &Explanation) -> Vec<SignatureState> {
    explanation
        .signatures
        .as_ref()
        .expect("a transaction")
        .iter()
        .map(|s| s.state)
        .collect()
}

#[test]
fn every_vector_decodes_and_reserializes_byte_for_byte() {
    let names = solana_vector_names();
    assert_eq!(
        names.len(),
        8,
        "expected the 8 vectors of SOURCES.md, found {names:?}"
    );
    for name in names {
        let bytes = solana_vector(&name);
        let decoded = Decoded::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matches!(decoded, Decoded::Transaction(_)),
            "{name} is a full transaction"
        );
        assert_eq!(
            decoded.to_bytes(),
            bytes,
            "{name} re-serializes byte for byte"
        );
    }
}

#[test]
fn tkhq_legacy_sol_transfer() {
    let (decoded, e) = explained("tkhq_legacy_sol_transfer_full.hex");
    assert_eq!(decoded.message().version, MessageVersion::Legacy);
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    assert!(matches!(
        actions(&e)[..],
        [Action::SystemTransfer { lamports: 111, .. }]
    ));
    assert_eq!(
        signature_states(&e),
        [SignatureState::Missing],
        "one zero-signature placeholder"
    );
    assert_eq!(e.fees.total_lamports, 5_000);
}

#[test]
fn tkhq_durable_nonce_spl_transfer_is_explained_and_refused() {
    let (_, e) = explained("tkhq_spl_transfer_legacy_full.hex");
    assert!(matches!(
        actions(&e)[..],
        [
            Action::AdvanceNonceAccount { .. },
            Action::TokenTransfer {
                amount: 100_000,
                ..
            }
        ]
    ));
    assert_eq!(refusal_codes(&e), ["durable_nonce_refused"]);
}

#[test]
fn tkhq_jupiter_swap_is_refused_for_its_unknown_programs() {
    let (decoded, e) = explained("tkhq_v0_jupiter_full.hex");
    assert_eq!(decoded.message().version, MessageVersion::V0);
    assert_eq!(decoded.message().address_table_lookups.len(), 1);
    let codes = refusal_codes(&e);
    assert_eq!(codes.first(), Some(&"program_not_allowed"), "{codes:?}");
    assert!(codes.contains(&"lookup_tables_refused"), "{codes:?}");
    assert!(e.refusals[0]
        .to_string()
        .contains("JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"));
    let acts = actions(&e);
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::SetComputeUnitLimit { .. })));
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::SetComputeUnitPrice { .. })));
    assert!(acts.iter().any(|a| matches!(
        a,
        Action::CreateAssociatedTokenAccount { idempotent: true, mint, .. } if *mint == USDC_MAINNET_MINT
    )));
    // SyncNative and CloseAccount are named in the refusals.
    let all = e
        .refusals
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("SyncNative"), "{all}");
}

#[test]
fn walletcore_token_transfer_checked() {
    let (_, e) = explained("walletcore_token_transfer.b58");
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    assert!(matches!(
        actions(&e)[..],
        [Action::TokenTransferChecked {
            amount: 4_000,
            decimals: 6,
            ..
        }]
    ));
    assert_eq!(signature_states(&e), [SignatureState::Valid]);
}

#[test]
fn walletcore_gasless_transfer_has_two_valid_signatures_and_a_separate_fee_payer() {
    let (_, e) = explained("walletcore_create_and_transfer_token_with_external_fee_payer.b58");
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    assert_eq!(
        signature_states(&e),
        [SignatureState::Valid, SignatureState::Valid]
    );
    let [Action::CreateAssociatedTokenAccount { payer, .. }, Action::TokenTransferChecked {
        authority, mint, ..
    }] = actions(&e)[..]
    else {
        panic!("unexpected actions {:?}", actions(&e));
    };
    assert_eq!(*payer, e.fee_payer, "the fee payer funds the new account");
    assert_ne!(*authority, e.fee_payer, "the token owner does not pay fees");
    assert_eq!(*mint, USDC_DEVNET_MINT);
    assert_eq!(e.fees.base_lamports, 10_000, "two signatures");
    assert_eq!(e.rent_funded.len(), 1);
}

#[test]
fn walletcore_durable_nonce_transfer_is_refused() {
    let (_, e) = explained("walletcore_transfer_with_durable_nonce.b58");
    assert_eq!(refusal_codes(&e), ["durable_nonce_refused"]);
    assert_eq!(signature_states(&e), [SignatureState::Valid]);
}

#[test]
fn walletcore_compute_unit_limit_transfer() {
    // SOURCES.md names SetComputeUnitPrice too, but the published bytes carry only
    // SetComputeUnitLimit(1000) and the transfer; we assert what the bytes contain.
    let (_, e) = explained("walletcore_transfer_with_priority_fee_limit.b58");
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    assert!(matches!(
        actions(&e)[..],
        [
            Action::SetComputeUnitLimit { units: 1_000 },
            Action::SystemTransfer { .. }
        ]
    ));
    assert_eq!(e.fees.priority_lamports, 0);
    assert_eq!(signature_states(&e), [SignatureState::Valid]);
}

#[test]
fn walletcore_v0_transfer_without_lookup_tables() {
    let (decoded, e) = explained("walletcore_transfer_v0.b58");
    assert_eq!(decoded.message().version, MessageVersion::V0);
    assert!(decoded.message().address_table_lookups.is_empty());
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    assert_eq!(signature_states(&e), [SignatureState::Valid]);
}

#[test]
fn a_flipped_signature_byte_is_invalid() {
    let mut bytes = solana_vector("walletcore_token_transfer.b58");
    bytes[10] ^= 1;
    let e = explain_decoded(&Decoded::from_bytes(&bytes).unwrap());
    assert_eq!(signature_states(&e), [SignatureState::Invalid]);
}
