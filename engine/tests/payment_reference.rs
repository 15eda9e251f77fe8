#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The service's payment references recognise themselves (a checksum in their last 8 bytes),
//! so a transaction made for one payment is recognised when offered for another.

use aip_engine::solana::{foreign_payment_reference, is_payment_reference, payment_reference};
use aip_engine::solana::{FeePayer, TokenPayment, TokenProgram};
use solana_address::Address;
use solana_hash::Hash;

fn transfer(reference: Option<Address>) -> aip_engine::solana::Signable {
    TokenPayment {
        authority: Address::new_from_array([1; 32]),
        recipient: Address::new_from_array([2; 32]),
        mint: Address::new_from_array([3; 32]),
        decimals: 6,
        program: TokenProgram::Token,
        amount: 5,
        memo: None,
        create_recipient_account: false,
        compute_unit_limit: None,
        compute_unit_price_micro_lamports: None,
        fee_payer: FeePayer::Session,
        recent_blockhash: Hash::new_from_array([4; 32]),
        reference,
    }
    .build()
    .unwrap()
}

#[test]
fn every_payment_reference_is_recognised_and_other_addresses_are_not() {
    for n in 0..1000 {
        let reference = payment_reference(&format!("payment-{n}"));
        assert!(is_payment_reference(&reference), "payment-{n}");
        // One flipped bit anywhere breaks it.
        let mut bytes = reference.to_bytes();
        bytes[n % 32] ^= 1 << (n % 8);
        assert!(!is_payment_reference(&Address::new_from_array(bytes)));
        // Addresses that are not references (derived the same way, without the checksum).
        let digest: [u8; 32] =
            <sha2::Sha256 as sha2::Digest>::digest(format!("other-{n}").as_bytes()).into();
        assert!(!is_payment_reference(&Address::new_from_array(digest)));
    }
    assert_ne!(payment_reference("a"), payment_reference("b"));
}

#[test]
fn a_transaction_naming_another_payments_reference_is_foreign_to_this_one() {
    let own = transfer(Some(payment_reference("mine")));
    assert_eq!(foreign_payment_reference(own.message(), "mine"), None);
    assert_eq!(
        foreign_payment_reference(own.message(), "another"),
        Some(payment_reference("mine"))
    );
    // A transaction with no reference, or a reference that is not the service's, belongs to
    // no other payment.
    let none = transfer(None);
    assert_eq!(foreign_payment_reference(none.message(), "mine"), None);
    let theirs = transfer(Some(Address::new_from_array([9; 32])));
    assert_eq!(foreign_payment_reference(theirs.message(), "mine"), None);
}
