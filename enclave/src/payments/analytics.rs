//! Payments by agent and payment intents' conversion, from the signed ledger's entries: rebuilt
//! from the ledger at boot, kept current as entries are written (every entry passes here,
//! `keys::record`). Kept per UTC day and agent, so a period is a sum over its days and memory
//! grows with days and agents, not payments (plus each payment id once, so a payment is
//! counted once however many entries name it).
//!
//! A payment counts on the day its `payment_signed` entry was written; it fails on the day
//! its `payment_expired` entry was (signed, then its blockhash expired unlanded). An intent
//! counts as created on its `payment_intent_created` day and as paid on the day its payment
//! was signed.

use std::collections::{BTreeMap, HashSet};

use aip_wire::ledger::LedgerEntry;
use aip_wire::payments::{AgentAnalytics, AgentTotals, IntentConversion};

const DAY_MS: u64 = 86_400_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    signed: u64,
    volume: u64,
    failed: u64,
    failed_volume: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct IntentTally {
    created: u64,
    paid: u64,
}

#[derive(Debug, Default)]
pub struct Analytics {
    /// By UTC day (days since the epoch), then agent.
    days: BTreeMap<u64, BTreeMap<String, Tally>>,
    intents: BTreeMap<u64, IntentTally>,
    signed: HashSet<String>,
    failed: HashSet<String>,
    /// Payments of confirmed intents not yet signed.
    intent_payments: HashSet<String>,
}

impl Analytics {
    /// Counts `entry` if it is one analytics reads.
    pub fn add_entry(&mut self, entry: &LedgerEntry) {
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&entry.body) else {
            return;
        };
        let day = entry.at_ms / DAY_MS;
        let text = |key: &str| body[key].as_str().map(str::to_owned);
        // What the payment entries name: the payment, its agent and its amount.
        let payment = text("payment_id")
            .zip(text("agent_id"))
            .zip(body["amount"].as_u64())
            .map(|((id, agent), amount)| (id, agent, amount));
        match entry.kind.as_str() {
            "payment_signed" => {
                let Some((id, agent, amount)) = payment else {
                    return;
                };
                if !self.signed.insert(id.clone()) {
                    return;
                }
                let tally = self.tally(day, agent);
                tally.signed = tally.signed.saturating_add(1);
                tally.volume = tally.volume.saturating_add(amount);
                if self.intent_payments.remove(&id) {
                    self.intents.entry(day).or_default().paid += 1;
                }
            }
            // Only a payment the signer signed can fail (an unsigned one expiring is no payment).
            "payment_expired" if !body["signature"].is_null() => {
                let Some((id, agent, amount)) = payment else {
                    return;
                };
                if !self.signed.contains(&id) || !self.failed.insert(id) {
                    return;
                }
                let tally = self.tally(day, agent);
                tally.failed = tally.failed.saturating_add(1);
                tally.failed_volume = tally.failed_volume.saturating_add(amount);
            }
            "payment_intent_created" => self.intents.entry(day).or_default().created += 1,
            "payment_intent_confirmed" => {
                if let Some(payment) = text("payment_id") {
                    self.intent_payments.insert(payment);
                }
            }
            _ => {}
        }
    }

    fn tally(&mut self, day: u64, agent: String) -> &mut Tally {
        self.days.entry(day).or_default().entry(agent).or_default()
    }

    /// The figures over the last `period_days` days up to `now_ms`'s (all time if `None`).
    pub fn report(&self, period_days: Option<u32>, now_ms: u64) -> AgentAnalytics {
        let today = now_ms / DAY_MS;
        let first = period_days.map_or(0, |n| today.saturating_sub(u64::from(n).saturating_sub(1)));
        let mut by_agent: BTreeMap<&str, Tally> = BTreeMap::new();
        for agents in self.days.range(first..).map(|(_, a)| a) {
            for (agent, tally) in agents {
                let sum = by_agent.entry(agent).or_default();
                sum.signed += tally.signed;
                sum.volume += tally.volume;
                sum.failed += tally.failed;
                sum.failed_volume += tally.failed_volume;
            }
        }
        let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        let agents: Vec<AgentTotals> = by_agent
            .into_iter()
            .map(|(agent, t)| {
                let succeeded = t.signed.saturating_sub(t.failed);
                AgentTotals {
                    agent_id: agent.to_owned(),
                    payments: t.signed,
                    volume: t.volume.saturating_sub(t.failed_volume),
                    succeeded,
                    success_rate: rate(succeeded, t.signed),
                }
            })
            .collect();
        let intents = self
            .intents
            .range(first..)
            .fold(IntentTally::default(), |sum, (_, t)| IntentTally {
                created: sum.created + t.created,
                paid: sum.paid + t.paid,
            });
        AgentAnalytics {
            period_days,
            total_payments: agents.iter().map(|a| a.payments).sum(),
            total_volume: agents.iter().map(|a| a.volume).sum(),
            agents,
            intents: IntentConversion {
                created: intents.created,
                paid: intents.paid,
                conversion_rate: rate(intents.paid, intents.created),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, day: u64, body: serde_json::Value) -> LedgerEntry {
        LedgerEntry {
            seq: 1,
            prev: String::new(),
            at_ms: day * DAY_MS + 1000,
            kind: kind.into(),
            body: body.to_string(),
            hash: String::new(),
        }
    }

    fn signed(id: &str, agent: &str, amount: u64, day: u64) -> LedgerEntry {
        entry(
            "payment_signed",
            day,
            serde_json::json!({"payment_id": id, "agent_id": agent, "amount": amount}),
        )
    }

    #[test]
    fn periods_sum_their_days_and_each_payment_counts_once() {
        let mut analytics = Analytics::default();
        for e in [
            signed("p1", "a", 5, 100),
            signed("p1", "a", 5, 100),
            signed("p2", "a", 7, 108),
            signed("p3", "b", 1, 109),
            entry(
                "payment_expired",
                109,
                serde_json::json!({"payment_id": "p2", "agent_id": "a", "amount": 7, "signature": "s"}),
            ),
            entry(
                "payment_expired",
                109,
                serde_json::json!({"payment_id": "p9", "agent_id": "a", "amount": 3, "signature": null}),
            ),
            entry(
                "payment_intent_created",
                108,
                serde_json::json!({"intent_id": "i1"}),
            ),
            entry(
                "payment_intent_created",
                109,
                serde_json::json!({"intent_id": "i2"}),
            ),
            entry(
                "payment_intent_confirmed",
                109,
                serde_json::json!({"intent_id": "i2", "payment_id": "p3"}),
            ),
        ] {
            analytics.add_entry(&e);
        }
        // p3 was signed before its intent's confirmation entry (out of order): not counted paid.
        let all = analytics.report(None, 109 * DAY_MS);
        assert_eq!((all.total_payments, all.total_volume), (3, 6));
        let a = &all.agents[0];
        assert_eq!((a.payments, a.succeeded, a.volume), (2, 1, 5));
        assert_eq!(a.success_rate, Some(0.5));
        assert_eq!((all.intents.created, all.intents.paid), (2, 0));
        // The last 2 days (108 and 109): p2 (failed) and p3.
        let two = analytics.report(Some(2), 109 * DAY_MS + 5);
        assert_eq!(two.total_payments, 2);
        assert_eq!(
            two.agents
                .iter()
                .map(|a| a.agent_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(two.agents[0].success_rate, Some(0.0));
        // Today only.
        let today = analytics.report(Some(1), 109 * DAY_MS);
        assert_eq!((today.total_payments, today.intents.created), (1, 1));
        assert_eq!(analytics.report(Some(1), 200 * DAY_MS).agents, []);
    }

    #[test]
    fn an_intent_counts_as_paid_when_its_payment_is_signed() {
        let mut analytics = Analytics::default();
        analytics.add_entry(&entry(
            "payment_intent_created",
            5,
            serde_json::json!({"intent_id": "i"}),
        ));
        analytics.add_entry(&entry(
            "payment_intent_confirmed",
            5,
            serde_json::json!({"intent_id": "i", "payment_id": "p"}),
        ));
        analytics.add_entry(&signed("p", "a", 2, 5));
        let report = analytics.report(Some(30), 5 * DAY_MS);
        assert_eq!((report.intents.created, report.intents.paid), (1, 1));
        assert_eq!(report.intents.conversion_rate, Some(1.0));
    }
}
