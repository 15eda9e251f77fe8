#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The device decodes what it signs or approves with the enclave's own engine: a signer that
//! describes one payment and hands over another is refused before anything is signed.

use aip_client::device::{DeviceKeyError, SessionKey};
use aip_engine::solana::programs::USDC_MAINNET_MINT;
use aip_engine::solana::{FeePayer, TokenPayment, TokenProgram, Transaction};
use aip_wire::payments::{approval_digest, approval_message, PaymentAnswer, PaymentStatus};
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use solana_address::Address;

fn unsigned(key: &SessionKey, to: Address, amount: u64) -> Vec<u8> {
    let payment = TokenPayment {
        authority: Address::new_from_array(key.public_key()),
        recipient: to,
        mint: USDC_MAINNET_MINT,
        decimals: 6,
        program: TokenProgram::Token,
        amount,
        memo: None,
        create_recipient_account: true,
        compute_unit_limit: None,
        compute_unit_price_micro_lamports: None,
        fee_payer: FeePayer::Session,
        recent_blockhash: solana_hash::Hash::new_from_array([9; 32]),
        reference: None,
    };
    Transaction::unsigned(payment.build().unwrap().into_message()).to_bytes()
}

fn answer(transaction: &[u8], to: Address, amount: u64) -> PaymentAnswer {
    PaymentAnswer {
        payment_id: "pay_1".into(),
        status: PaymentStatus::ApprovalRequired,
        amount,
        recipient: to.to_string(),
        signature: None,
        transaction: Some(base64::engine::general_purpose::STANDARD.encode(transaction)),
        approval_digest: String::new(),
        receipt: None,
        denial: None,
    }
}

#[test]
fn the_device_approves_and_signs_only_the_payment_described() {
    let key = SessionKey::generate();
    let (merchant, attacker) = (
        Address::new_from_array([2; 32]),
        Address::new_from_array([66; 32]),
    );
    let honest = unsigned(&key, merchant, 5_000_000);
    let review = key.review(&answer(&honest, merchant, 5_000_000)).unwrap();
    assert_eq!(review.summary.amount, 5_000_000);
    assert_eq!(review.summary.mint, USDC_MAINNET_MINT);
    assert_eq!(review.summary.fee_lamports, 5_000 + 2_039_280);
    let shown = review.describe();
    assert!(shown.starts_with("pay $5 of mint EPjF"), "{shown}");
    assert!(shown.contains(&merchant.to_string()), "{shown}");
    assert!(shown.contains("0.00204428 SOL"), "{shown}");

    // The approval signs the digest of the message the device decoded.
    let approval = key.approve(&review);
    let message = Transaction::from_bytes(&honest).unwrap().message.to_bytes();
    let digest = approval_digest(&message);
    let mut signature = [0u8; 64];
    hex::decode_to_slice(&approval.signature, &mut signature).unwrap();
    VerifyingKey::from_bytes(&key.public_key())
        .unwrap()
        .verify(
            approval_message(&digest).as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .unwrap();

    // Described as $5 to the merchant, but paying the attacker, or paying more: refused.
    let diverted = unsigned(&key, attacker, 5_000_000);
    assert!(matches!(
        key.review(&answer(&diverted, merchant, 5_000_000)),
        Err(DeviceKeyError::NotAsDescribed(_))
    ));
    let inflated = unsigned(&key, merchant, 50_000_000);
    assert!(matches!(
        key.review(&answer(&inflated, merchant, 5_000_000)),
        Err(DeviceKeyError::NotAsDescribed(_))
    ));
    // Another wallet's payment is not this device's to sign.
    let theirs = unsigned(&SessionKey::generate(), merchant, 5_000_000);
    assert!(matches!(
        key.review(&answer(&theirs, merchant, 5_000_000)),
        Err(DeviceKeyError::NotAsDescribed(_))
    ));
    // Bytes the engine does not decode, or trailing garbage: refused.
    let mut trailing = honest.clone();
    trailing.push(0);
    assert!(matches!(
        key.review(&answer(&trailing, merchant, 5_000_000)),
        Err(DeviceKeyError::Decode(_))
    ));

    // Signing puts the key's signature in its slot over exactly that message.
    let signed = key.sign_reviewed(&review).unwrap();
    let tx = Transaction::from_bytes(&signed).unwrap();
    VerifyingKey::from_bytes(&key.public_key())
        .unwrap()
        .verify(&message, &Signature::from_bytes(&tx.signatures[0]))
        .unwrap();
}
