//! Payments by agent and payment intents' conversion, from the signed ledger's entries: rebuilt
//! from the ledger at boot, kept current as entries are written (every entry passes here,
//! `keys::record`). Kept per tenant, UTC day and agent, so a period is a sum over its days and
//! memory grows with days and agents, not payments (plus each payment id once, so a payment is
//! counted once however many entries name it).
//!
//! A tenant's keys see only their tenant's figures (agent ids are the tenants' own names, and
//! one tenant's volume is none of another's business); `full` operator keys see the sum. A
//! payment belongs to the tenant of its session key, named by the key's
//! `session_key_registered` entry; an intent to the tenant named by its creation entry.
//!
//! A payment counts on the day its `payment_signed` entry was written; it fails on the day
//! its `payment_expired` entry was (signed, then its blockhash expired unlanded). An intent
//! counts as created on its `payment_intent_created` day and as paid on the day its payment
//! was signed.

use std::collections::{BTreeMap, HashMap, HashSet};

use aip_wire::ledger::LedgerEntry;
use aip_wire::payments::{AgentAnalytics, AgentTotals, IntentConversion};

use super::actor::Actor;

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

/// One tenant's figures.
#[derive(Debug, Default)]
struct TenantDays {
    /// By UTC day (days since the epoch), then agent.
    days: BTreeMap<u64, BTreeMap<String, Tally>>,
    intents: BTreeMap<u64, IntentTally>,
}

#[derive(Debug, Default)]
pub struct Analytics {
    tenants: BTreeMap<String, TenantDays>,
    /// The tenant of each session key, from its registration entry.
    key_tenants: HashMap<String, String>,
    /// The tenant of each intent not yet confirmed, from its creation entry.
    intent_tenants: HashMap<String, String>,
    signed: HashSet<String>,
    failed: HashSet<String>,
    /// Payments of confirmed intents not yet signed, with the intent's tenant.
    intent_payments: HashMap<String, String>,
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
        // A key registered before tenants were recorded belongs to no named tenant ("").
        let key_tenant = |key_tenants: &HashMap<String, String>| {
            text("session_key_id")
                .and_then(|key| key_tenants.get(&key).cloned())
                .unwrap_or_default()
        };
        match entry.kind.as_str() {
            "session_key_registered" => {
                if let Some(key) = text("id") {
                    self.key_tenants
                        .insert(key, text("tenant").unwrap_or_default());
                }
            }
            "payment_signed" => {
                let Some((id, agent, amount)) = payment else {
                    return;
                };
                if !self.signed.insert(id.clone()) {
                    return;
                }
                let tenant = key_tenant(&self.key_tenants);
                let tally = self.tally(tenant, day, agent);
                tally.signed = tally.signed.saturating_add(1);
                tally.volume = tally.volume.saturating_add(amount);
                if let Some(intent_tenant) = self.intent_payments.remove(&id) {
                    self.tenant(intent_tenant)
                        .intents
                        .entry(day)
                        .or_default()
                        .paid += 1;
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
                let tenant = key_tenant(&self.key_tenants);
                let tally = self.tally(tenant, day, agent);
                tally.failed = tally.failed.saturating_add(1);
                tally.failed_volume = tally.failed_volume.saturating_add(amount);
            }
            "payment_intent_created" => {
                let tenant = text("tenant").unwrap_or_default();
                if let Some(intent) = text("intent_id") {
                    self.intent_tenants.insert(intent, tenant.clone());
                }
                self.tenant(tenant).intents.entry(day).or_default().created += 1;
            }
            "payment_intent_confirmed" => {
                if let Some((intent, payment)) = text("intent_id").zip(text("payment_id")) {
                    let tenant = self.intent_tenants.remove(&intent).unwrap_or_default();
                    self.intent_payments.insert(payment, tenant);
                }
            }
            _ => {}
        }
    }

    fn tenant(&mut self, tenant: String) -> &mut TenantDays {
        self.tenants.entry(tenant).or_default()
    }

    fn tally(&mut self, tenant: String, day: u64, agent: String) -> &mut Tally {
        self.tenant(tenant)
            .days
            .entry(day)
            .or_default()
            .entry(agent)
            .or_default()
    }

    /// The figures of the tenants `actor` sees ([`Actor::sees_tenant`]) over the last
    /// `period_days` days up to `now_ms`'s (all time if `None`). Summed over several tenants,
    /// agents of the same name in two tenants are one row.
    pub fn report(
        &self,
        actor: Actor<'_>,
        period_days: Option<u32>,
        now_ms: u64,
    ) -> AgentAnalytics {
        let today = now_ms / DAY_MS;
        let first = period_days.map_or(0, |n| today.saturating_sub(u64::from(n).saturating_sub(1)));
        let tenants: Vec<&TenantDays> = self
            .tenants
            .iter()
            .filter(|(tenant, _)| actor.sees_tenant(tenant))
            .map(|(_, days)| days)
            .collect();
        let mut by_agent: BTreeMap<&str, Tally> = BTreeMap::new();
        for agents in tenants
            .iter()
            .flat_map(|t| t.days.range(first..).map(|(_, a)| a))
        {
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
        let intents = tenants.iter().flat_map(|t| t.intents.range(first..)).fold(
            IntentTally::default(),
            |sum, (_, t)| IntentTally {
                created: sum.created + t.created,
                paid: sum.paid + t.paid,
            },
        );
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

    /// A `full` operator key: every tenant.
    const OPERATOR: Actor<'static> = Actor {
        key_id: "operator",
        tenant: "operator",
        full: true,
    };

    /// A key of `tenant`.
    fn member(tenant: &str) -> Actor<'_> {
        Actor {
            key_id: "k",
            tenant,
            full: false,
        }
    }

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
        let all = analytics.report(OPERATOR, None, 109 * DAY_MS);
        assert_eq!((all.total_payments, all.total_volume), (3, 6));
        let a = &all.agents[0];
        assert_eq!((a.payments, a.succeeded, a.volume), (2, 1, 5));
        assert_eq!(a.success_rate, Some(0.5));
        assert_eq!((all.intents.created, all.intents.paid), (2, 0));
        // The last 2 days (108 and 109): p2 (failed) and p3.
        let two = analytics.report(OPERATOR, Some(2), 109 * DAY_MS + 5);
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
        let today = analytics.report(OPERATOR, Some(1), 109 * DAY_MS);
        assert_eq!((today.total_payments, today.intents.created), (1, 1));
        assert_eq!(analytics.report(OPERATOR, Some(1), 200 * DAY_MS).agents, []);
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
        let report = analytics.report(OPERATOR, Some(30), 5 * DAY_MS);
        assert_eq!((report.intents.created, report.intents.paid), (1, 1));
        assert_eq!(report.intents.conversion_rate, Some(1.0));
    }

    fn registered(key: &str, tenant: &str) -> LedgerEntry {
        entry(
            "session_key_registered",
            1,
            serde_json::json!({"id": key, "public_key": "p", "tenant": tenant}),
        )
    }

    fn signed_from(key: &str, id: &str, agent: &str, amount: u64) -> LedgerEntry {
        entry(
            "payment_signed",
            7,
            serde_json::json!({"payment_id": id, "agent_id": agent, "session_key_id": key, "amount": amount}),
        )
    }

    #[test]
    fn a_tenant_sees_only_its_own_figures_and_the_operator_their_sum() {
        let mut analytics = Analytics::default();
        for e in [
            registered("k-acme", "acme"),
            registered("k-globex", "globex"),
            // The same agent name in both tenants.
            signed_from("k-acme", "p1", "agent", 5),
            signed_from("k-acme", "p2", "agent", 2),
            signed_from("k-globex", "p3", "agent", 40),
            entry(
                "payment_intent_created",
                7,
                serde_json::json!({"intent_id": "i1", "tenant": "globex"}),
            ),
            entry(
                "payment_intent_confirmed",
                7,
                serde_json::json!({"intent_id": "i1", "payment_id": "p4"}),
            ),
            signed_from("k-globex", "p4", "shop", 3),
            entry(
                "payment_expired",
                7,
                serde_json::json!({"payment_id": "p2", "session_key_id": "k-acme", "agent_id": "agent", "amount": 2, "signature": "s"}),
            ),
        ] {
            analytics.add_entry(&e);
        }
        let now = 7 * DAY_MS;
        let acme = analytics.report(member("acme"), Some(1), now);
        assert_eq!((acme.total_payments, acme.total_volume), (2, 5));
        assert_eq!(acme.agents.len(), 1);
        assert_eq!(acme.agents[0].success_rate, Some(0.5));
        assert_eq!((acme.intents.created, acme.intents.paid), (0, 0));
        let globex = analytics.report(member("globex"), Some(1), now);
        assert_eq!((globex.total_payments, globex.total_volume), (2, 43));
        assert_eq!((globex.intents.created, globex.intents.paid), (1, 1));
        let nobody = analytics.report(member("initech"), None, now);
        assert_eq!((nobody.total_payments, nobody.agents.len()), (0, 0));
        let all = analytics.report(OPERATOR, Some(1), now);
        assert_eq!((all.total_payments, all.total_volume), (4, 48));
        // "agent" of both tenants is one row in the operator's sum.
        assert_eq!(all.agents.len(), 2);
        assert_eq!(all.agents[0].payments, 3);
        assert_eq!((all.intents.created, all.intents.paid), (1, 1));
    }
}
