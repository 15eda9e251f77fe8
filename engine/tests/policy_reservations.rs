//! Reservations under concurrency and failure: the committed sum in any window never exceeds
//! the cap, a failed persist changes nothing, and releases need proof.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use aip_engine::policy::{
    Approval, NoStore, ReleaseProof, ReserveError, SessionSpending, SessionState, SessionStore,
    SpendState, StoreError, UnixSeconds, Usage, UsageError, Window,
};
use common::*;
use proptest::prelude::*;

fn spending() -> SessionSpending<NoStore> {
    SessionSpending::new(
        SessionState {
            intent: usdc_intent(),
            usage: Usage::default(),
        },
        NoStore,
    )
}

#[test]
fn a_hundred_concurrent_payments_of_ten_against_a_cap_of_a_hundred_commit_exactly_ten() {
    let mut intent = usdc_intent();
    intent.caps.per_transaction = 10;
    intent.caps.windows.day = Some(100);
    intent.caps.windows.week = Some(100);
    intent.caps.windows.month = Some(100);
    let spending = Arc::new(SessionSpending::new(
        SessionState {
            intent,
            usage: Usage::default(),
        },
        NoStore,
    ));
    let tx = Arc::new(usdc(10));
    let barrier = Arc::new(Barrier::new(100));
    let now = T0.saturating_add(10);
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let (spending, tx, barrier) = (spending.clone(), tx.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                spending.reserve(&tx, now, Approval::None)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let granted = results.iter().filter(|r| r.is_ok()).count();
    let denied_by_cap = results
        .iter()
        .filter(|r| matches!(r, Err(ReserveError::Denied(d)) if d.rule == aip_engine::policy::Rule::DailyCap))
        .count();
    assert_eq!((granted, denied_by_cap), (10, 90));
    let state = spending.snapshot().unwrap();
    assert_eq!(state.usage.spent_in(Window::Day, now), 100);
}

/// A store that fails on demand.
struct FlakyStore {
    fail: AtomicBool,
}

impl SessionStore for FlakyStore {
    fn persist(&self, _state: &SessionState) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            Err(StoreError("disk full".into()))
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_failed_persist_grants_nothing_and_changes_nothing() {
    let spending = SessionSpending::new(
        SessionState {
            intent: usdc_intent(),
            usage: Usage::default(),
        },
        FlakyStore {
            fail: AtomicBool::new(true),
        },
    );
    let now = T0.saturating_add(1);
    let before = spending.snapshot().unwrap();
    let result = spending.reserve(&usdc(5 * USDC), now, Approval::None);
    assert!(matches!(result, Err(ReserveError::Store(_))), "{result:?}");
    assert_eq!(spending.snapshot().unwrap(), before);
}

#[test]
fn the_reservation_lifecycle_needs_proof_to_release() {
    let spending = spending();
    let now = T0.saturating_add(1);
    let tx = usdc(5 * USDC);
    let a = spending.reserve(&tx, now, Approval::None).unwrap().id;
    let b = spending.reserve(&tx, now, Approval::None).unwrap().id;

    // An expiry proof is meaningless for a reservation that was never signed.
    assert!(matches!(
        spending.release(
            a,
            ReleaseProof::ExpiredUnlanded {
                observed_block_height: 10
            }
        ),
        Err(ReserveError::Usage(UsageError::NotSigned(_)))
    ));
    spending.release(a, ReleaseProof::NeverSigned).unwrap();
    assert!(matches!(
        spending.mark_signed(a, "sig-a".into(), 100),
        Err(ReserveError::Usage(UsageError::AlreadyReleased(_)))
    ));

    spending.mark_signed(b, "sig-b".into(), 100).unwrap();
    assert!(matches!(
        spending.release(b, ReleaseProof::NeverSigned),
        Err(ReserveError::Usage(UsageError::SignedNeedsExpiry { .. }))
    ));
    assert!(matches!(
        spending.release(
            b,
            ReleaseProof::ExpiredUnlanded {
                observed_block_height: 100
            }
        ),
        Err(ReserveError::Usage(UsageError::NotExpired { .. }))
    ));
    spending
        .release(
            b,
            ReleaseProof::ExpiredUnlanded {
                observed_block_height: 101,
            },
        )
        .unwrap();
    assert_eq!(
        spending
            .snapshot()
            .unwrap()
            .usage
            .spent_in(Window::Day, now),
        0
    );

    let c = spending.reserve(&tx, now, Approval::None).unwrap().id;
    spending.mark_signed(c, "sig-c".into(), 100).unwrap();
    spending.confirm(c).unwrap();
    assert!(matches!(
        spending.release(
            c,
            ReleaseProof::ExpiredUnlanded {
                observed_block_height: 500
            }
        ),
        Err(ReserveError::Usage(UsageError::Confirmed(_)))
    ));
    assert_eq!(
        spending
            .snapshot()
            .unwrap()
            .usage
            .spent_in(Window::Day, now),
        u128::from(5 * USDC)
    );
}

#[test]
fn revocation_releases_unsigned_reservations_and_blocks_the_next_request() {
    let spending = spending();
    let now = T0.saturating_add(1);
    let tx = usdc(5 * USDC);
    let in_flight = spending.reserve(&tx, now, Approval::None).unwrap().id;
    let signed = spending.reserve(&tx, now, Approval::None).unwrap().id;
    spending.mark_signed(signed, "sig".into(), 100).unwrap();

    assert_eq!(spending.revoke(now).unwrap(), vec![in_flight]);
    assert!(matches!(
        spending.mark_signed(in_flight, "late".into(), 100),
        Err(ReserveError::Usage(UsageError::AlreadyReleased(_)))
    ));
    let state = spending.snapshot().unwrap();
    assert!(
        matches!(
            state.usage.get(signed).unwrap().state,
            SpendState::Signed { .. }
        ),
        "a signed payment still counts"
    );
    assert!(matches!(
        spending.reserve(&tx, now, Approval::None),
        Err(ReserveError::Denied(d)) if d.rule == aip_engine::policy::Rule::Revoked
    ));
}

#[derive(Debug, Clone)]
enum Op {
    Pay { amount: u64, advance: i64 },
    ReleaseUnsigned { pick: usize },
    Sign { pick: usize },
    Expire { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..=12, 0i64..40_000).prop_map(|(amount, advance)| Op::Pay { amount, advance }),
        1 => any::<usize>().prop_map(|pick| Op::ReleaseUnsigned { pick }),
        2 => any::<usize>().prop_map(|pick| Op::Sign { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Expire { pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the sequence of payments, releases, signatures and expiries, the amount that
    /// counts in any window ending at any reservation time never exceeds that window's cap.
    #[test]
    fn committed_sums_never_exceed_any_cap(ops in proptest::collection::vec(op(), 1..120)) {
        let mut intent = usdc_intent();
        intent.caps.per_transaction = 10;
        intent.caps.windows.day = Some(30);
        intent.caps.windows.week = Some(100);
        intent.caps.windows.month = Some(200);
        intent.expires_at = T0.saturating_add(400 * 86_400);
        let caps = intent.caps;
        let spending = SessionSpending::new(SessionState { intent, usage: Usage::default() }, NoStore);
        let mut now = T0;
        for op in ops {
            let records = spending.snapshot().unwrap().usage.records().to_vec();
            let pick = |i: usize| records.get(i % records.len().max(1)).map(|r| r.id);
            match op {
                Op::Pay { amount, advance } => {
                    now = now.saturating_add(advance);
                    let _ = spending.reserve(&usdc(amount), now, Approval::None);
                }
                Op::ReleaseUnsigned { pick: i } => if let Some(id) = pick(i) {
                    let _ = spending.release(id, ReleaseProof::NeverSigned);
                },
                Op::Sign { pick: i } => if let Some(id) = pick(i) {
                    let _ = spending.mark_signed(id, format!("sig-{id}"), 1_000);
                },
                Op::Expire { pick: i } => if let Some(id) = pick(i) {
                    let _ = spending.release(id, ReleaseProof::ExpiredUnlanded { observed_block_height: 1_001 });
                },
            }
            let usage = spending.snapshot().unwrap().usage;
            for record in usage.records() {
                prop_assert!(record.amount <= caps.per_transaction);
                for (window, cap) in caps.windows.limits() {
                    // What counts in the window (t - length, t] ending at this record.
                    let t = record.at;
                    let spent: u64 = usage
                        .records()
                        .iter()
                        .filter(|r| r.state.counts() && r.at <= t && r.at > t.saturating_sub(window.seconds()))
                        .map(|r| r.amount)
                        .sum();
                    prop_assert!(spent <= cap, "{window:?} ending at {t}: {spent} > {cap}");
                }
            }
        }
    }
}

#[test]
fn usage_persists_and_restores_as_json() {
    let spending = spending();
    let now: UnixSeconds = T0.saturating_add(1);
    let id = spending
        .reserve(&usdc(USDC), now, Approval::None)
        .unwrap()
        .id;
    spending.mark_signed(id, "sig".into(), 7).unwrap();
    let state = spending.snapshot().unwrap();
    let restored: SessionState =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(restored, state);
}

#[test]
fn a_reservation_is_bound_only_to_the_payment_its_transaction_names() {
    let now = UnixSeconds(1_800_000_000);
    let named = |reference: Option<&str>| {
        let mut tx = payment(USDC);
        tx.reference = reference.map(aip_engine::solana::payment_reference);
        tx.build().unwrap()
    };
    for (tx, payment_id, bound) in [
        (named(Some("pay-a")), Some("pay-a"), true),
        // Another payment's transaction (a copy) is not bound to this one.
        (named(Some("pay-a")), Some("pay-b"), false),
        (named(None), Some("pay-a"), false),
        (named(Some("pay-a")), None, false),
    ] {
        let mut state = SessionState {
            intent: usdc_intent(),
            usage: Usage::default(),
        };
        let id = state
            .reserve(&tx, now, Approval::None, payment_id)
            .unwrap()
            .id;
        assert_eq!(state.usage.get(id).unwrap().bound, bound, "{payment_id:?}");
    }
}
