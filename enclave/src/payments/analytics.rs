//! Payments and volume by agent, from the ledger's `payment_signed` entries: rebuilt from the
//! ledger at boot, kept current as payments are recorded. Counted once per payment id.

use std::collections::{BTreeMap, HashSet};

use aip_wire::ledger::LedgerEntry;
use aip_wire::payments::AgentTotals;

#[derive(Debug, Default)]
pub struct Analytics {
    by_agent: BTreeMap<String, AgentTotals>,
    seen: HashSet<String>,
}

impl Analytics {
    pub fn add(&mut self, payment_id: &str, agent_id: &str, amount: u64) {
        if !self.seen.insert(payment_id.to_owned()) {
            return;
        }
        let totals = self
            .by_agent
            .entry(agent_id.to_owned())
            .or_insert_with(|| AgentTotals {
                agent_id: agent_id.to_owned(),
                payments: 0,
                volume: 0,
            });
        totals.payments = totals.payments.saturating_add(1);
        totals.volume = totals.volume.saturating_add(amount);
    }

    /// Counts a ledger entry if it records a signed payment.
    pub fn add_entry(&mut self, entry: &LedgerEntry) {
        if entry.kind != "payment_signed" {
            return;
        }
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&entry.body) else {
            return;
        };
        if let (Some(id), Some(agent), Some(amount)) = (
            body["payment_id"].as_str(),
            body["agent_id"].as_str(),
            body["amount"].as_u64(),
        ) {
            self.add(id, agent, amount);
        }
    }

    pub fn totals(&self) -> Vec<AgentTotals> {
        self.by_agent.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_payment_once() {
        let mut analytics = Analytics::default();
        analytics.add("pay_1", "agent-a", 5);
        analytics.add("pay_1", "agent-a", 5);
        analytics.add("pay_2", "agent-a", 7);
        analytics.add("pay_3", "agent-b", 1);
        let totals = analytics.totals();
        assert_eq!(totals.len(), 2);
        assert_eq!((totals[0].payments, totals[0].volume), (2, 12));
        assert_eq!((totals[1].payments, totals[1].volume), (1, 1));
    }
}
