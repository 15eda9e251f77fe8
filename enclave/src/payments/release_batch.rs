//! One Lit release for the payments of a session key that wait for it at the same time.
//!
//! A release costs every Lit node it asks a run of the attested-release action (which
//! verifies this enclave's evidence) and costs the enclave a request per node and two
//! pairings. Under load, an agent's payments mostly wait for releases of the same ciphertext,
//! so they share one: the first payment to ask leads (asks the network); payments of the same
//! key and ciphertext that ask while its release is under way join it, up to
//! `lit.payments_per_release`; when the key arrives it signs the leader's and every joined
//! transaction in one synchronous step and is wiped.
//!
//! Nothing a payment is checked by is shared. Each is decided, reserved and persisted before
//! it asks (persist before sign holds per payment), each transaction is its own, and the key
//! is checked to be the session's before it signs any of them. What is shared is the release
//! and the key's few microseconds in memory. A payment that joined a release whose leader
//! went away before the key came (its client disconnected) asks again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use solana_address::Address;
use tokio::sync::oneshot;

use super::payer::Payer;
use super::released_key::{sign_each, ReleasedKeyError};
use crate::metrics::EnclaveMetrics;
use crate::release::ReleaseError;
use crate::solana::{SignError, Transaction};

/// How often a payment whose leaders keep going away joins another release before it asks
/// for one of its own.
const JOIN_ATTEMPTS: usize = 3;

/// Why a payment's transaction was not signed with its released session key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReleasedSignError {
    #[error("the Lit network did not release the session key")]
    Release(#[source] Arc<ReleaseError>),
    #[error("the released plaintext")]
    Key(#[source] ReleasedKeyError),
    #[error("signing the transaction")]
    Sign(#[source] SignError),
}

/// What a payment brings to its session key's release.
#[derive(Debug)]
pub struct ToSign<'a> {
    /// The payment, for the log.
    pub payment: &'a str,
    pub session_key_id: &'a str,
    /// The session key's address: the released plaintext must be its seed.
    pub public_key: &'a Address,
    /// The delegation's ciphertext (base64) and its `dataToEncryptHash` (hex).
    pub ciphertext: &'a str,
    pub data_hash: &'a str,
    /// The unsigned transaction, and whether the service's fee payer co-signs it.
    pub tx: Transaction,
    pub fee_payer_signs: bool,
}

/// The releases under way that payments may still join, by session key.
#[derive(Debug)]
pub struct ReleaseBatches {
    max_payments: usize,
    open: Mutex<HashMap<String, Vec<OpenRelease>>>,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct OpenRelease {
    id: u64,
    public_key: Address,
    ciphertext: String,
    joined: Vec<Joined>,
}

/// A payment waiting on another payment's release.
#[derive(Debug)]
struct Joined {
    tx: Transaction,
    fee_payer_signs: bool,
    answer: oneshot::Sender<Result<Transaction, ReleasedSignError>>,
}

/// Where a payment stands on asking: it leads a release, or waits for another's.
enum Place<'a> {
    Leads(Lead<'a>),
    Joined(oneshot::Receiver<Result<Transaction, ReleasedSignError>>),
}

/// A release this payment asks for. While `open` names it, others may join it; closing it
/// (or dropping it, if the payment goes away) takes it out of the map, so nobody joins a
/// release whose key has come or will not come. Payments it still held see their answer's
/// sender dropped and ask again.
struct Lead<'a> {
    batches: &'a ReleaseBatches,
    open: Option<(String, u64)>,
}

impl ReleaseBatches {
    /// At most `max_payments` payments (this one included) per release; 1: none shared.
    pub fn new(max_payments: usize) -> Self {
        Self {
            max_payments: max_payments.max(1),
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<OpenRelease>>> {
        // Nothing panics while holding it; a poisoned map is still consistent.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Joins an open release of the same key and ciphertext with room, or opens one.
    fn place(&self, ask: &ToSign<'_>) -> Place<'_> {
        if self.max_payments == 1 {
            return Place::Leads(Lead::alone(self));
        }
        let mut open = self.lock();
        let releases = open.entry(ask.session_key_id.to_owned()).or_default();
        let room = releases.iter_mut().find(|release| {
            release.ciphertext == ask.ciphertext
                && release.public_key == *ask.public_key
                && release.joined.len() + 1 < self.max_payments
        });
        if let Some(release) = room {
            let (answer, waiting) = oneshot::channel();
            release.joined.push(Joined {
                tx: ask.tx.clone(),
                fee_payer_signs: ask.fee_payer_signs,
                answer,
            });
            return Place::Joined(waiting);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        releases.push(OpenRelease {
            id,
            public_key: *ask.public_key,
            ciphertext: ask.ciphertext.to_owned(),
            joined: Vec::new(),
        });
        Place::Leads(Lead {
            batches: self,
            open: Some((ask.session_key_id.to_owned(), id)),
        })
    }

    /// How many releases payments may still join (for tests).
    #[cfg(test)]
    fn open_releases(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }
}

impl<'a> Lead<'a> {
    /// A release nobody can join.
    fn alone(batches: &'a ReleaseBatches) -> Self {
        Self {
            batches,
            open: None,
        }
    }

    /// Takes the release out of the map: the payments that joined it.
    fn close(&mut self) -> Vec<Joined> {
        let Some((session_key_id, id)) = self.open.take() else {
            return Vec::new();
        };
        let mut open = self.batches.lock();
        let Some(releases) = open.get_mut(&session_key_id) else {
            return Vec::new();
        };
        let joined = match releases.iter().position(|release| release.id == id) {
            Some(at) => releases.swap_remove(at).joined,
            None => Vec::new(),
        };
        if releases.is_empty() {
            open.remove(&session_key_id);
        }
        joined
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        drop(self.close());
    }
}

/// Signs `ask.tx` with the session key, released by a release it leads or joins.
pub async fn release_and_sign(
    payer: &Payer,
    metrics: &EnclaveMetrics,
    ask: ToSign<'_>,
) -> Result<Transaction, ReleasedSignError> {
    for _ in 0..JOIN_ATTEMPTS {
        match payer.releases.place(&ask) {
            Place::Leads(lead) => return lead_release(payer, metrics, lead, ask).await,
            Place::Joined(waiting) => match waiting.await {
                Ok(answer) => return answer,
                Err(_leader_went_away) => {
                    tracing::debug!(payment = %ask.payment, "the release this payment joined was abandoned; asking again");
                }
            },
        }
    }
    lead_release(payer, metrics, Lead::alone(&payer.releases), ask).await
}

/// Asks the network, then signs this payment's and the joined payments' transactions with
/// the key and wipes it, and answers each joined payment.
async fn lead_release(
    payer: &Payer,
    metrics: &EnclaveMetrics,
    mut lead: Lead<'_>,
    ask: ToSign<'_>,
) -> Result<Transaction, ReleasedSignError> {
    let started = std::time::Instant::now();
    let released = payer
        .lit
        .release(&payer.me, ask.ciphertext, ask.data_hash)
        .await;
    metrics.observe_lit(started.elapsed());
    let mut joined = lead.close();
    let plaintext = match released {
        Ok((plaintext, tally)) => {
            if tally.subset_checks > 1 || tally.invalid > 0 {
                tracing::warn!(payment = %ask.payment, invalid = tally.invalid, combinations = tally.subset_checks, "a Lit node's share did not combine: excluded, released with the others");
            }
            plaintext
        }
        Err(error) => {
            let error = ReleasedSignError::Release(Arc::new(error));
            for payment in joined {
                // A joined payment that went away needs no answer.
                let _ = payment.answer.send(Err(error.clone()));
            }
            return Err(error);
        }
    };
    let mut tx = ask.tx;
    let fee_payer = |signs: bool| signs.then_some(&payer.fee_payer);
    let own = std::iter::once((&mut tx, fee_payer(ask.fee_payer_signs)));
    let others = joined
        .iter_mut()
        .map(|payment| (&mut payment.tx, fee_payer(payment.fee_payer_signs)));
    // Synchronous, in a frame of its own that is scrubbed at once: the key never lives in
    // this future's state (`ReleasedKey` is not `Send`; no await can hold it).
    let signed = sign_each(plaintext, ask.public_key, own.chain(others));
    crate::wipe::scrub_stack();
    let outcomes = match signed {
        Ok(outcomes) => outcomes,
        Err(error) => {
            for payment in joined {
                let _ = payment.answer.send(Err(ReleasedSignError::Key(error)));
            }
            return Err(ReleasedSignError::Key(error));
        }
    };
    metrics.count_released_payments(outcomes.len());
    let mut outcomes = outcomes.into_iter();
    let own = outcomes.next();
    for (payment, outcome) in joined.into_iter().zip(outcomes) {
        let Joined { tx, answer, .. } = payment;
        let _ = answer.send(outcome.map(|()| tx).map_err(ReleasedSignError::Sign));
    }
    match own {
        Some(Ok(())) => Ok(tx),
        Some(Err(error)) => Err(ReleasedSignError::Sign(error)),
        // `sign_each` answers every transaction it is given; were this one missing, it is
        // not signed.
        None => Err(ReleasedSignError::Sign(SignError::NotASigner(
            *ask.public_key,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solana::SigningKeypair;

    fn ask<'a>(key_id: &'a str, key: &'a Address, ciphertext: &'a str) -> ToSign<'a> {
        ToSign {
            payment: "p",
            session_key_id: key_id,
            public_key: key,
            ciphertext,
            data_hash: "00",
            tx: crate::test_transfers::usdc_transfer(*key, 1),
            fee_payer_signs: false,
        }
    }

    fn leads(place: &Place<'_>) -> bool {
        matches!(place, Place::Leads(_))
    }

    #[test]
    fn payments_of_one_key_and_ciphertext_join_the_open_release_up_to_the_limit() {
        let batches = ReleaseBatches::new(3);
        let key = SigningKeypair::generate().address();
        let first = batches.place(&ask("k", &key, "c"));
        assert!(leads(&first));
        let second = batches.place(&ask("k", &key, "c"));
        let third = batches.place(&ask("k", &key, "c"));
        assert!(!leads(&second) && !leads(&third));
        // Full (three with the leader): the fourth leads a release of its own that the
        // fifth joins.
        let fourth = batches.place(&ask("k", &key, "c"));
        assert!(leads(&fourth));
        assert_eq!(batches.open_releases(), 2);
        let fifth = batches.place(&ask("k", &key, "c"));
        assert!(!leads(&fifth));
        let Place::Leads(mut lead) = first else {
            unreachable!()
        };
        assert_eq!(lead.close().len(), 2, "the two that joined the first");
        assert_eq!(batches.open_releases(), 1);
        let Place::Leads(mut lead) = fourth else {
            unreachable!()
        };
        assert_eq!(lead.close().len(), 1);
        assert_eq!(batches.open_releases(), 0);
        // Closed: the next payment leads again.
        assert!(leads(&batches.place(&ask("k", &key, "c"))));
    }

    #[test]
    fn another_key_another_ciphertext_or_another_public_key_never_joins() {
        let batches = ReleaseBatches::new(8);
        let key = SigningKeypair::generate().address();
        let other = SigningKeypair::generate().address();
        let places = [
            batches.place(&ask("k", &key, "c")),
            batches.place(&ask("other", &key, "c")),
            batches.place(&ask("k", &key, "re-delegated")),
            batches.place(&ask("k", &other, "c")),
        ];
        assert!(places.iter().all(leads));
        assert_eq!(batches.open_releases(), 4);
        drop(places);
        assert_eq!(
            batches.open_releases(),
            0,
            "each closed when its payment went away"
        );
    }

    #[test]
    fn one_payment_per_release_shares_nothing() {
        let batches = ReleaseBatches::new(1);
        let key = SigningKeypair::generate().address();
        let _first = batches.place(&ask("k", &key, "c"));
        assert!(leads(&batches.place(&ask("k", &key, "c"))));
        assert_eq!(batches.open_releases(), 0);
    }

    #[tokio::test]
    async fn a_leader_that_goes_away_frees_the_payments_that_joined_it() {
        let batches = ReleaseBatches::new(8);
        let key = SigningKeypair::generate().address();
        let lead = batches.place(&ask("k", &key, "c"));
        let Place::Joined(waiting) = batches.place(&ask("k", &key, "c")) else {
            panic!("the second payment joins")
        };
        drop(lead);
        assert!(waiting.await.is_err(), "told its release was abandoned");
        assert_eq!(batches.open_releases(), 0);
        assert!(
            leads(&batches.place(&ask("k", &key, "c"))),
            "it leads on asking again"
        );
    }
}
