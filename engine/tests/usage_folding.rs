#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Usage stays bounded however many payments a session makes, its windows never count less
//! than the payments they hold, and the chain's debits in folded hours are matched by total.

use aip_engine::policy::{ObservedDebit, Spend, UnixSeconds, Usage, Window, FOLD_AFTER};

const T0: i64 = 1_800_000_000;

fn spend(amount: u64) -> Spend {
    Spend {
        amount,
        fee_lamports: 5_000,
        service_fee: true,
    }
}

/// `count` payments of `amount`, `every` seconds apart from `T0`, each confirmed on chain as
/// it is made (`sig-<n>`), pruned as the service does; and the reference list of (at, amount).
fn history(count: i64, every: i64, amount: u64) -> (Usage, Vec<(UnixSeconds, u64)>) {
    let mut usage = Usage::default();
    let mut made = Vec::new();
    for n in 0..count {
        let at = UnixSeconds(T0 + n * every);
        let id = usage.reserve_for(spend(amount), at, Some(&format!("pay-{n}")), false);
        usage.mark_signed(id, format!("sig-{n}"), 100).unwrap();
        usage.confirm(id).unwrap();
        usage.prune(at);
        made.push((at, amount));
    }
    (usage, made)
}

fn exact(made: &[(UnixSeconds, u64)], window: Window, now: UnixSeconds) -> u128 {
    made.iter()
        .filter(|(at, _)| window.contains(*at, now))
        .map(|(_, amount)| u128::from(*amount))
        .sum()
}

#[test]
fn a_months_payments_keep_the_record_small_and_the_windows_conservative() {
    // One payment a minute for 40 days: 57,600 payments.
    let (usage, made) = history(40 * 1_440, 60, 1_000_000);
    let last = made.last().unwrap().0;
    let records = usage.records().len();
    assert!(
        records <= usize::try_from(FOLD_AFTER / 60).unwrap() + 1,
        "{records} records kept"
    );
    // At most one folded total per hour of the month.
    assert!(usage.folded().hours().len() <= 30 * 24 + 1);
    let size = serde_json::to_vec(&usage).unwrap().len();
    assert!(size < 128 * 1024, "the usage serializes to {size} bytes");
    for now in [
        last,
        last.saturating_add(1_800),
        last.saturating_add(86_000),
    ] {
        for window in Window::ALL {
            let counted = usage.spent_in(window, now);
            let truth = exact(&made, window, now);
            assert!(counted >= truth, "{window:?} at {now}: {counted} < {truth}");
            // Conservative by at most one hour of payments (60 here).
            assert!(
                counted <= truth + 60 * 1_000_000,
                "{window:?} at {now}: {counted} vs {truth}"
            );
        }
        assert!(
            usage.payments_in(Window::Day, now)
                >= made
                    .iter()
                    .filter(|(at, _)| Window::Day.contains(*at, now))
                    .count() as u64
        );
    }
    assert_eq!(
        usage.service_fees_in(Window::Day, last),
        usage.fees_in(Window::Day, last),
        "every fee here was the service's"
    );
    assert!(usage.fees_in(Window::Day, last) >= 1_440 * 5_000);
}

#[test]
fn the_size_does_not_grow_with_the_number_of_payments() {
    let (one_month, _) = history(30 * 1_440, 60, 1);
    let (three_months, _) = history(90 * 1_440, 60, 1);
    let small = serde_json::to_vec(&one_month).unwrap().len();
    let large = serde_json::to_vec(&three_months).unwrap().len();
    assert!(
        large <= small + 1_024,
        "{small} bytes after a month, {large} after three"
    );
}

#[test]
fn chain_debits_in_folded_hours_count_by_total() {
    let (mut usage, made) = history(180, 60, 2_000_000);
    let now = made.last().unwrap().0;
    let before = usage.spent_in(Window::Day, now);
    // The chain shows every payment (their signatures are folded away, so none is known).
    let mut debits: Vec<ObservedDebit> = made
        .iter()
        .enumerate()
        .map(|(n, (at, amount))| ObservedDebit {
            signature: format!("sig-{n}"),
            amount: *amount,
            at: *at,
        })
        .collect();
    let counted = usage.count_chain(&debits, true);
    assert_eq!(
        counted.amount, 0,
        "the folded payments are the chain's: {counted:?}"
    );
    assert_eq!(usage.spent_in(Window::Day, now), before);
    // A debit the enclave never made (a rolled-back record, a device elsewhere), in the
    // first, folded hour: the hour rises by exactly that.
    debits.push(ObservedDebit {
        signature: "hidden".into(),
        amount: 7_000_000,
        at: UnixSeconds(T0 + 30),
    });
    let counted = usage.count_chain(&debits, true);
    assert_eq!(counted.amount, 7_000_000);
    assert_eq!(counted.hours_raised, 1);
    assert_eq!(usage.spent_in(Window::Day, now), before + 7_000_000);
    // Counting the same history again adds nothing.
    assert_eq!(usage.count_chain(&debits, true).amount, 0);
    // A debit new since the last round, in an hour with folded payments, is new: it becomes a
    // record of its own (never lost in the hour's total).
    let fresh = ObservedDebit {
        signature: "fresh".into(),
        amount: 1,
        at: now.saturating_add(5),
    };
    let counted = usage.count_chain(std::slice::from_ref(&fresh), false);
    assert_eq!(counted.recorded, vec!["fresh".to_owned()]);
    assert!(usage.knows_signature("fresh"));
}

/// One reservation per row, signed `sig-<n>`; the table says how each row is bound, passed and
/// settled, and whether a prune right after folds it.
#[test]
fn a_record_folds_early_only_when_bound_confirmed_and_passed() {
    struct Row {
        bound: bool,
        confirmed: bool,
        passed: bool,
        folds: bool,
    }
    let rows = [
        // The fast path: the transaction names its payment, the chain has it, the cursor is past.
        Row {
            bound: true,
            confirmed: true,
            passed: true,
            folds: true,
        },
        // A caller's transaction keeps its signature (a second payment of it is caught).
        Row {
            bound: false,
            confirmed: true,
            passed: true,
            folds: false,
        },
        // Landed but not confirmed yet: its outcome is still being tracked.
        Row {
            bound: true,
            confirmed: false,
            passed: true,
            folds: false,
        },
        // The next round could list it again.
        Row {
            bound: true,
            confirmed: true,
            passed: false,
            folds: false,
        },
    ];
    let now = UnixSeconds(T0);
    for (n, row) in rows.iter().enumerate() {
        let mut usage = Usage::default();
        let id = usage.reserve_for(spend(7), now, Some("pay"), row.bound);
        let signature = format!("sig-{n}");
        usage.mark_signed(id, signature.clone(), 100).unwrap();
        if row.confirmed {
            usage.confirm(id).unwrap();
        }
        // Only a confirmed, bound record is worth a busy reconciliation round.
        assert_eq!(
            usage.awaiting_pass(),
            usize::from(row.bound && row.confirmed),
            "row {n}"
        );
        let passed = if row.passed {
            std::collections::HashSet::from([signature.clone()])
        } else {
            std::collections::HashSet::from(["another".to_owned()])
        };
        assert_eq!(
            usage.mark_passed(&passed),
            usize::from(row.passed),
            "row {n}"
        );
        let before: Vec<u128> = Window::ALL
            .iter()
            .map(|w| usage.spent_in(*w, now))
            .collect();
        usage.prune(now);
        assert_eq!(usage.records().is_empty(), row.folds, "row {n}");
        assert_eq!(
            usage.folded().hours().len(),
            usize::from(row.folds),
            "row {n}"
        );
        // Folding moves the amount, never drops it.
        let after: Vec<u128> = Window::ALL
            .iter()
            .map(|w| usage.spent_in(*w, now))
            .collect();
        assert_eq!(before, after, "row {n}");
        assert_eq!(usage.payments_in(Window::Day, now), 1, "row {n}");
        // A passed record that was not confirmed yet folds once it is.
        if row.passed && !row.confirmed {
            usage.confirm(id).unwrap();
            usage.prune(now);
            assert!(usage.records().is_empty(), "row {n} after confirming");
        }
        // Whatever stays folds by age.
        usage.prune(UnixSeconds(T0 + FOLD_AFTER + 1));
        if row.confirmed {
            assert!(usage.records().is_empty(), "row {n} after {FOLD_AFTER} s");
        }
    }
}

#[test]
fn a_busy_key_keeps_only_what_reconciliation_has_not_passed() {
    // 10 payments a second for 5 minutes, reconciled every second: the cursor passes what
    // landed up to the round before.
    let mut usage = Usage::default();
    let mut largest = 0;
    let mut made = Vec::new();
    for second in 0..300 {
        let now = UnixSeconds(T0 + second);
        for n in 0..10 {
            let id = usage.reserve_for(spend(3), now, Some("p"), true);
            usage
                .mark_signed(id, format!("sig-{second}-{n}"), 100)
                .unwrap();
            usage.confirm(id).unwrap();
            made.push((now, 3));
        }
        let passed = (0..10).map(|n| format!("sig-{}-{n}", second - 1)).collect();
        usage.mark_passed(&passed);
        usage.prune(now);
        // What is left waiting is this second's ten, which the next round passes.
        assert_eq!(usage.awaiting_pass(), 10);
        largest = largest.max(usage.records().len());
        for window in Window::ALL {
            assert!(usage.spent_in(window, now) >= exact(&made, window, now));
        }
    }
    assert!(largest <= 20, "{largest} records kept");
}
