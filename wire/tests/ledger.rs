#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The ledger format: a chain verifies end to end; any edit, reorder, deletion or foreign
//! head is caught with its own error.

use aip_wire::ledger::{verify_chain, verify_export, LedgerEntry, LedgerError, LedgerHead};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

fn chain(n: u64) -> Vec<LedgerEntry> {
    let mut entries = Vec::new();
    let (mut seq, mut hash) = (0u64, [0u8; 32]);
    for i in 0..n {
        let body = format!(r#"{{"payment":"p{i}","amount":{}}}"#, 1_000_000 * (i + 1));
        let entry = LedgerEntry::next(seq, &hash, 1_763_800_000_000 + i, "payment_signed", &body);
        seq = entry.seq;
        hex::decode_to_slice(&entry.hash, &mut hash).unwrap();
        entries.push(entry);
    }
    entries
}

#[test]
fn a_signed_chain_verifies_and_every_kind_of_edit_is_caught() {
    let key = SigningKey::generate(&mut OsRng);
    let entries = chain(5);
    let (seq, hash) = verify_chain((0, [0; 32]), &entries).unwrap();
    assert_eq!(seq, 5);
    let head = LedgerHead::sign(&key, seq, hash);
    verify_export(&entries, &head, &key.verifying_key()).unwrap();
    // A suffix verifies from the head before it (incremental export, ?from=SEQ).
    let mut after = [0u8; 32];
    hex::decode_to_slice(&entries[1].hash, &mut after).unwrap();
    assert_eq!(
        verify_chain((2, after), &entries[2..]).unwrap(),
        (seq, hash)
    );

    let mut edited = entries.clone();
    edited[2].body = edited[2].body.replace("3000000", "3000001");
    assert_eq!(
        verify_chain((0, [0; 32]), &edited),
        Err(LedgerError::Hash { seq: 3 })
    );

    let mut rehashed = edited.clone();
    let mut prev = [0u8; 32];
    hex::decode_to_slice(&rehashed[2].prev, &mut prev).unwrap();
    rehashed[2] = LedgerEntry::next(
        2,
        &prev,
        rehashed[2].at_ms,
        "payment_signed",
        &rehashed[2].body,
    );
    assert_eq!(
        verify_chain((0, [0; 32]), &rehashed),
        Err(LedgerError::Broken { seq: 4 })
    );

    let mut dropped = entries.clone();
    dropped.remove(1);
    assert!(matches!(
        verify_chain((0, [0; 32]), &dropped),
        Err(LedgerError::Sequence {
            index: 1,
            found: 3,
            expected: 2
        })
    ));
    let mut swapped = entries.clone();
    swapped.swap(3, 4);
    assert!(matches!(
        verify_chain((0, [0; 32]), &swapped),
        Err(LedgerError::Sequence { .. })
    ));

    // A truncated export against the real head, a head by another key, a tampered head.
    assert!(matches!(
        verify_export(&entries[..4], &head, &key.verifying_key()),
        Err(LedgerError::HeadMismatch {
            head_seq: 5,
            last_seq: 4
        })
    ));
    let stranger = SigningKey::generate(&mut OsRng);
    assert_eq!(
        verify_export(
            &entries,
            &LedgerHead::sign(&stranger, seq, hash),
            &key.verifying_key()
        ),
        Err(LedgerError::HeadSignature)
    );
    let mut forged = head;
    forged.seq = 6;
    assert_eq!(
        forged.verify(&key.verifying_key()),
        Err(LedgerError::HeadSignature)
    );
}

#[test]
fn the_head_header_round_trips_and_refuses_malformed_text() {
    let key = SigningKey::generate(&mut OsRng);
    let head = LedgerHead::sign(&key, 42, [7u8; 32]);
    let text = head.to_header();
    assert_eq!(LedgerHead::from_header(&text).unwrap(), head);
    for bad in [
        "",
        "42",
        "42:00",
        "x:00:00",
        &format!("{text}:extra"),
        &text.replace(':', ";"),
    ] {
        assert!(
            matches!(
                LedgerHead::from_header(bad),
                Err(LedgerError::HeadFormat(_))
            ),
            "{bad}"
        );
    }
}
