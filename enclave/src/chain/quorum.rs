//! The cluster as a quorum of RPC endpoints (docs/threat-model.md, "A single RPC endpoint is a
//! single liar"). Every read goes to all configured endpoints at once; at least `quorum` must
//! answer, and each answer is combined in the direction that cannot hurt the user:
//!
//! - a wallet's debits: the union of what the endpoints report, each at its largest amount
//!   and latest time (an endpoint can only add usage by lying, never hide it);
//! - "landed": only when a quorum says so, and "failed" or not only when every landed report
//!   agrees; "absent": only when a quorum says so; anything else is an error, so nothing is
//!   released, confirmed or reported failed on one endpoint's word;
//! - a served transaction: only when every signature in it verifies (`super::landed`);
//! - the cluster's time (the clock's anchor): the smallest of the quorum's block times;
//! - a blockhash: the one most endpoints report (a wrong one only delays a payment);
//! - the block height (to prove a transaction expired): the smallest a quorum reports;
//! - whether an account exists: only when a quorum says so (otherwise a payment creates it,
//!   idempotently, and counts its rent).
//!
//! Transactions are sent to every endpoint.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::future::join_all;
use solana_hash::Hash;

use super::landed::LandedTransaction;
use super::rpc::{LandedStatus, RpcError, SolanaRpc};

#[derive(Debug, Clone)]
pub struct RpcQuorum {
    pub endpoints: Vec<SolanaRpc>,
    pub quorum: usize,
    /// Signatures per history page.
    pub page: usize,
}

/// A debit of the wallet's tokens on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debit {
    pub signature: String,
    pub block_time: i64,
    pub amount: u64,
}

/// Where a transaction known by one of its other signatures stands ([`RpcQuorum::cosigned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cosigned {
    Absent,
    /// Landed under `id`; `failed` is the runtime's error if it failed.
    Landed {
        id: String,
        failed: Option<String>,
    },
}

/// The span of history a reconciliation reads (Unix seconds): after `cutoff`, up to `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub cutoff: i64,
    pub now: i64,
}

/// What a history read found: debits newest first, the newest signature every answering
/// endpoint had (the cursor the next read starts after), and the signatures that cursor
/// passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub debits: Vec<Debit>,
    pub newest_common: Option<String>,
    /// Signatures every answering endpoint listed at or behind `newest_common`: a read that
    /// starts after the cursor lists none of them again. Empty without a cursor.
    pub passed: HashSet<String>,
    /// Signatures a quorum of endpoints listed but none served yet (their transaction stores
    /// lag their signature indexes): debits or not, they are not counted yet. One endpoint
    /// alone listing an unserved signature is not here, so that a liar inventing signatures
    /// cannot hold payments closed (`crate::payments::reconcile`).
    pub unresolved: Vec<String>,
}

/// The signatures every list has at or behind `cursor` (each list newest first): what a read
/// starting after `cursor` on any of these endpoints will not list again.
fn passed_by(lists: &[Vec<(String, i64)>], cursor: &str) -> HashSet<String> {
    let mut behind = lists.iter().map(|list| {
        list.iter()
            .map(|(signature, _)| signature.as_str())
            .skip_while(|signature| *signature != cursor)
            .collect::<HashSet<&str>>()
    });
    let Some(first) = behind.next() else {
        return HashSet::new();
    };
    let common = behind.fold(first, |common, next| {
        common.intersection(&next).copied().collect()
    });
    common.into_iter().map(str::to_owned).collect()
}

impl RpcQuorum {
    /// The quorum error when no endpoint answered `method` (no endpoints configured).
    fn nobody(&self, method: &'static str) -> RpcError {
        RpcError::NoQuorum {
            method,
            answered: 0,
            agreeing: 0,
            quorum: self.quorum,
        }
    }

    /// Every endpoint's answer to `ask`, or the quorum error when fewer than `quorum` answered.
    async fn ask_all<'a, T, F, Fut>(
        &'a self,
        method: &'static str,
        ask: F,
    ) -> Result<Vec<T>, RpcError>
    where
        F: Fn(&'a SolanaRpc) -> Fut,
        Fut: std::future::Future<Output = Result<T, RpcError>>,
    {
        let answers = join_all(self.endpoints.iter().map(ask)).await;
        let mut ok = Vec::with_capacity(answers.len());
        for (endpoint, answer) in self.endpoints.iter().zip(answers) {
            match answer {
                Ok(value) => ok.push(value),
                Err(error) => tracing::warn!(
                    endpoint = %format!("{}:{}", endpoint.host, endpoint.port),
                    method,
                    error = %aip_wire::process::error_chain(&error),
                    "an RPC endpoint failed"
                ),
            }
        }
        if ok.len() < self.quorum {
            return Err(RpcError::NoQuorum {
                method,
                answered: ok.len(),
                agreeing: ok.len(),
                quorum: self.quorum,
            });
        }
        Ok(ok)
    }

    /// The blockhash most endpoints report, with the largest last valid height reported for it.
    pub async fn latest_blockhash(&self) -> Result<(Hash, u64), RpcError> {
        let answers = self
            .ask_all("getLatestBlockhash", SolanaRpc::latest_blockhash)
            .await?;
        let mut votes: HashMap<Hash, (usize, u64)> = HashMap::new();
        for (hash, last_valid) in &answers {
            let entry = votes.entry(hash.clone()).or_insert((0, 0));
            entry.0 += 1;
            entry.1 = entry.1.max(*last_valid);
        }
        votes
            .into_iter()
            .max_by_key(|(_, (count, last_valid))| (*count, *last_valid))
            .map(|(hash, (_, last_valid))| (hash, last_valid))
            .ok_or(self.nobody("getLatestBlockhash"))
    }

    /// The cluster's time: the smallest block time a quorum reports (Unix seconds).
    pub async fn block_time(&self) -> Result<i64, RpcError> {
        let times = self.ask_all("getBlockTime", SolanaRpc::block_time).await?;
        times.into_iter().min().ok_or(self.nobody("getBlockTime"))
    }

    /// The cluster's block height: the smallest a quorum reports, so no endpoint can make a
    /// transaction look expired before it is.
    pub async fn block_height(&self) -> Result<u64, RpcError> {
        let heights = self
            .ask_all("getBlockHeight", SolanaRpc::block_height)
            .await?;
        heights
            .into_iter()
            .min()
            .ok_or(self.nobody("getBlockHeight"))
    }

    /// The lamports `address` holds: the least a quorum reports (an endpoint that lies can
    /// only make a wallet look poorer, which makes the service, not the user, pay a fee).
    pub async fn balance(&self, address: &str) -> Result<u64, RpcError> {
        let answers = self.ask_all("getBalance", |e| e.balance(address)).await?;
        answers.into_iter().min().ok_or(self.nobody("getBalance"))
    }

    /// Whether `address` exists, when a quorum says so; `false` otherwise (a payment then
    /// creates the account idempotently and counts its rent: an endpoint that lies can only
    /// make a payment cost its rent, never skip an account that is missing).
    pub async fn account_exists(&self, address: &str) -> Result<bool, RpcError> {
        let answers = self
            .ask_all("getAccountInfo", |e| e.account_exists(address))
            .await?;
        Ok(
            answers.iter().filter(|exists| **exists).count() >= self.quorum
                && answers.iter().all(|exists| *exists),
        )
    }

    /// Sends to every endpoint; the signature if any accepted it.
    pub async fn send(&self, transaction: &[u8]) -> Result<String, RpcError> {
        let answers = join_all(self.endpoints.iter().map(|e| e.send(transaction))).await;
        let mut first_error = None;
        for answer in answers {
            match answer {
                Ok(signature) => return Ok(signature),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(self.nobody("sendTransaction")))
    }

    /// Where `signature` stands, when a quorum agrees; an error otherwise.
    pub async fn status(&self, signature: &str) -> Result<LandedStatus, RpcError> {
        let answers = self
            .ask_all("getSignatureStatuses", |e| e.status(signature))
            .await?;
        let answered = answers.len();
        let landed: Vec<&LandedStatus> = answers
            .iter()
            .filter(|s| matches!(s, LandedStatus::Landed { .. }))
            .collect();
        if landed.len() >= self.quorum {
            // How it landed is what a backend acts on (a failed payment may be paid again), so
            // every landed report must agree whether it failed; until they do, the payment
            // stays counted and unsettled.
            let failing = landed
                .iter()
                .filter(|s| matches!(s, LandedStatus::Landed { err: Some(_), .. }))
                .count();
            if failing == 0 || failing == landed.len() {
                return Ok(landed[0].clone());
            }
            return Err(RpcError::NoQuorum {
                method: "getSignatureStatuses",
                answered,
                agreeing: failing.max(landed.len() - failing),
                quorum: self.quorum,
            });
        }
        let absent = answered - landed.len();
        if absent >= self.quorum {
            return Ok(LandedStatus::Absent);
        }
        Err(RpcError::NoQuorum {
            method: "getSignatureStatuses",
            answered,
            agreeing: landed.len().max(absent),
            quorum: self.quorum,
        })
    }

    /// The debits of `mints` from `owner`'s token accounts in the span (`span.cutoff`, now]
    /// and after `until` (the signature a previous read ended with), paging through the whole
    /// span on every endpoint. `known` signatures are skipped (already counted).
    pub async fn debits(
        &self,
        owner: &str,
        mints: &[String],
        span: Span,
        until: Option<&str>,
        known: &HashSet<String>,
    ) -> Result<History, RpcError> {
        let lists = self
            .ask_all("getSignaturesForAddress", |e| {
                self.history_of(e, owner, span, until)
            })
            .await?;
        let listed: Vec<HashSet<&str>> = lists
            .iter()
            .map(|l| l.iter().map(|(s, _)| s.as_str()).collect())
            .collect();
        let newest_common = lists.first().and_then(|first| {
            first
                .iter()
                .map(|(s, _)| s)
                .find(|s| listed.iter().all(|l| l.contains(s.as_str())))
                .cloned()
        });
        // The union, each signature at the latest time any endpoint reports.
        let mut seen: BTreeMap<String, i64> = BTreeMap::new();
        for (signature, time) in lists.iter().flatten() {
            let at = seen.entry(signature.clone()).or_insert(*time);
            *at = (*at).max(*time);
        }
        let mut debits = Vec::new();
        let mut unserved = false;
        let mut unresolved = Vec::new();
        for (signature, block_time) in seen {
            if known.contains(&signature) {
                continue;
            }
            let served = self
                .ask_all("getTransaction", |e| {
                    e.landed_transaction(&signature, owner, mints)
                })
                .await?;
            // A transaction listed but not yet served by any endpoint: read again next round.
            if served.iter().all(Option::is_none) {
                unserved = true;
                let listing = listed.iter().filter(|l| l.contains(signature.as_str()));
                if listing.count() >= self.quorum {
                    unresolved.push(signature);
                }
                continue;
            }
            // Known by another of its signatures: an x402 payment, which the service knows by
            // the payer's signature while its id is the facilitator's. Only when every endpoint
            // that serves it says so: one endpoint alone could otherwise hide a real debit by
            // adding a known signature to the transaction it serves.
            let mut serving = served.iter().flatten().peekable();
            let cosigned = serving.peek().is_some()
                && serving.all(|t| t.signatures.iter().any(|s| known.contains(s)));
            if cosigned {
                continue;
            }
            let amount = served
                .into_iter()
                .flatten()
                .map(|t| t.debit)
                .max()
                .unwrap_or(0);
            if amount > 0 {
                debits.push(Debit {
                    signature,
                    block_time,
                    amount,
                });
            }
        }
        debits.sort_by_key(|d| std::cmp::Reverse(d.block_time));
        // The cursor moves only past history that was read whole.
        let newest_common = newest_common.filter(|_| !unserved);
        let passed = newest_common
            .as_deref()
            .map(|cursor| passed_by(&lists, cursor))
            .unwrap_or_default();
        Ok(History {
            debits,
            newest_common,
            passed,
            unresolved,
        })
    }

    /// Where the transaction carrying `signature` among its signatures (not as its id: an
    /// x402 payment, whose id is the facilitator's signature) stands, looked for in `owner`'s
    /// history in `span`. Landed when any endpoint serves it (it verifies: a liar can only make
    /// a signed payment that never landed count), failed or not when all serving ones agree;
    /// absent only when every answering endpoint's history in the span was read whole and no
    /// transaction in it carries the signature (the caller reads the block height before, so
    /// that absence past the transaction's expiry is final). `known` transactions are not
    /// fetched (they are other payments).
    pub async fn cosigned(
        &self,
        owner: &str,
        span: Span,
        signature: &str,
        known: &HashSet<String>,
    ) -> Result<Cosigned, RpcError> {
        const METHOD: &str = "getTransaction";
        let lists = self
            .ask_all("getSignaturesForAddress", |e| {
                self.history_of(e, owner, span, None)
            })
            .await?;
        let listed: std::collections::BTreeSet<&str> = lists
            .iter()
            .flatten()
            .map(|(s, _)| s.as_str())
            .filter(|s| !known.contains(*s))
            .collect();
        for id in listed {
            let served = self
                .ask_all(METHOD, |e| e.landed_transaction(id, owner, &[]))
                .await?;
            let carrying: Vec<&LandedTransaction> = served
                .iter()
                .flatten()
                .filter(|t| t.signatures.iter().any(|s| s == signature))
                .collect();
            if let Some(first) = carrying.first() {
                // Served transactions verify, so this is the payment; whether it failed is the
                // endpoints' word (their metadata), and must be every serving endpoint's.
                if carrying
                    .iter()
                    .any(|t| t.failed.is_some() != first.failed.is_some())
                {
                    return Err(RpcError::NoQuorum {
                        method: METHOD,
                        answered: served.len(),
                        agreeing: 0,
                        quorum: self.quorum,
                    });
                }
                return Ok(Cosigned::Landed {
                    id: id.to_owned(),
                    failed: first.failed.clone(),
                });
            }
            if served.iter().all(Option::is_none) {
                // Listed but not served yet: nothing can be concluded this round.
                return Err(RpcError::NoQuorum {
                    method: METHOD,
                    answered: served.len(),
                    agreeing: 0,
                    quorum: self.quorum,
                });
            }
        }
        Ok(Cosigned::Absent)
    }

    /// One endpoint's successful transactions naming `owner` after `until` and since
    /// `cutoff`, newest first, page by page.
    async fn history_of(
        &self,
        endpoint: &SolanaRpc,
        owner: &str,
        span: Span,
        until: Option<&str>,
    ) -> Result<Vec<(String, i64)>, RpcError> {
        let mut found = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let page = endpoint
                .signatures_for_address(owner, self.page, before.as_deref(), until)
                .await?;
            let full = page.len() >= self.page;
            let mut past_cutoff = false;
            for entry in &page {
                // An entry without a time is not left out: it counts as made now.
                let at = entry.block_time.unwrap_or(span.now);
                if at <= span.cutoff {
                    past_cutoff = true;
                    break;
                }
                if !entry.failed {
                    found.push((entry.signature.clone(), at));
                }
            }
            match page.last() {
                Some(last) if full && !past_cutoff => before = Some(last.signature.clone()),
                _ => return Ok(found),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::passed_by;

    fn list(signatures: &[&str]) -> Vec<(String, i64)> {
        signatures.iter().map(|s| ((*s).to_owned(), 0)).collect()
    }

    fn sorted(set: std::collections::HashSet<String>) -> Vec<String> {
        let mut out: Vec<String> = set.into_iter().collect();
        out.sort();
        out
    }

    #[test]
    fn only_what_every_endpoint_lists_behind_the_cursor_is_passed() {
        // Newest first. Endpoint b orders d before c (same slot) and has not seen e yet.
        let lists = [
            list(&["e", "c", "d", "b", "a"]),
            list(&["d", "c", "b", "a"]),
        ];
        // Behind c: a has {c, d, b, a}, b has {c, b, a}; d is ahead of the cursor on b.
        assert_eq!(sorted(passed_by(&lists, "c")), ["a", "b", "c"]);
        // An endpoint that lacks the cursor passes nothing.
        assert!(passed_by(&[list(&["a"]), list(&["b"])], "a").is_empty());
        assert!(passed_by(&[], "a").is_empty());
    }
}
