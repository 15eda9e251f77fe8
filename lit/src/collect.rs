//! Robust share collection: ask every node at once, stop at the first `threshold` shares that
//! combine to a signature the pinned network key accepts, never wait for the slowest node,
//! and survive nodes that are down, slow or lying.
//!
//! Where a node's verification key is known (our devnet publishes them), its share is checked
//! on arrival and a bad one is dropped. Real Lit nodes publish none: then shares are pooled
//! and, each time one arrives, the t-subsets that contain it are tried (the combined signature
//! verified against the network key), up to a bound on the number of attempts.

use std::future::Future;
use std::time::Duration;

use blsful::inner_types::{G1Projective, Group, Scalar};
use blsful::vsss_rs::{DefaultShare, IdentifierPrimeField, ValueGroup};
use blsful::{Bls12381G2Impl, InnerPointShareG1, PublicKeyShare, SignatureShare};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use crate::ciphertext::Ciphertext;
use crate::error::LitError;
use crate::network_key::NetworkKey;
use crate::release::{combine, decrypt, CombinedSignature, PreparedCheck};
use crate::share::DecryptionShare;

/// A node's public key share, when the network publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeVerificationKey {
    identifier: Scalar,
    key: G1Projective,
}

impl NodeVerificationKey {
    /// From the identifier (32-byte little-endian scalar hex, as in v2 shares) and the
    /// compressed G1 key share (hex).
    pub fn from_hex(identifier_le_hex: &str, value_hex: &str) -> Result<Self, LitError> {
        let bad = |what: &str| LitError::NetworkKey(format!("verification key share: {what}"));
        let mut id = [0u8; 32];
        hex::decode_to_slice(identifier_le_hex, &mut id)
            .map_err(|_| bad("identifier is not 32 bytes of hex"))?;
        let identifier = Option::<Scalar>::from(Scalar::from_le_bytes(&id))
            .ok_or_else(|| bad("identifier is not a scalar"))?;
        let mut value = [0u8; 48];
        hex::decode_to_slice(value_hex, &mut value)
            .map_err(|_| bad("value is not 48 bytes of hex"))?;
        let key = Option::<G1Projective>::from(G1Projective::from_compressed(&value))
            .ok_or_else(|| bad("value is not in G1"))?;
        if bool::from(Group::is_identity(&key)) {
            return Err(bad("value is the identity"));
        }
        Ok(Self { identifier, key })
    }

    pub fn identifier_le_hex(&self) -> String {
        hex::encode(self.identifier.to_le_bytes())
    }

    pub fn value_hex(&self) -> String {
        hex::encode(self.key.to_compressed())
    }

    /// The share carries this node's identifier and verifies under its key share.
    pub fn accepts(&self, share: &DecryptionShare, identity: &[u8]) -> bool {
        if share.identifier != self.identifier {
            return false;
        }
        let key = PublicKeyShare::<Bls12381G2Impl>(InnerPointShareG1(DefaultShare {
            identifier: IdentifierPrimeField(self.identifier),
            value: ValueGroup(self.key),
        }));
        key.verify(
            &SignatureShare::ProofOfPossession(share.to_inner()),
            identity,
        )
        .is_ok()
    }
}

/// Bounds of one collection.
#[derive(Debug, Clone, Copy)]
pub struct CollectOptions {
    pub threshold: usize,
    /// A node that has not answered by then is counted as timed out.
    pub node_timeout: Duration,
    /// How many combine-and-verify attempts the subset search may make in all.
    pub max_subset_checks: usize,
}

impl CollectOptions {
    pub fn new(threshold: usize) -> Self {
        Self {
            threshold,
            node_timeout: Duration::from_secs(10),
            max_subset_checks: 256,
        }
    }
}

/// A node's answer as a boxed future, for request lists that mix transports or behaviours.
pub type BoxedAnswer =
    std::pin::Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'static>>;

/// One node's request: its answer (share JSON, or why it failed) and its key if known.
#[derive(Debug)]
pub struct NodeRequest<F> {
    pub answer: F,
    pub verification_key: Option<NodeVerificationKey>,
}

/// What happened to the nodes asked, for errors and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub asked: usize,
    pub answered: usize,
    /// Shares that parsed (and, where a key is known, verified).
    pub valid: usize,
    /// Answers that did not parse or did not verify under the node's key.
    pub invalid: usize,
    pub failed: usize,
    pub timed_out: usize,
    /// Combine-and-verify attempts made.
    pub subset_checks: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "threshold not met: {} of {} nodes answered, {} valid shares ({} invalid, {} failed, {} timed out, {} combinations tried), threshold {threshold}",
        .tally.answered, .tally.asked, .tally.valid, .tally.invalid, .tally.failed, .tally.timed_out, .tally.subset_checks
    )]
    ThresholdUnmet { tally: Tally, threshold: usize },
    #[error("the signature verified but the ciphertext does not decrypt with it: {0}")]
    Decrypt(#[source] LitError),
}

/// What the collection needs to recognize success.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseTarget<'a> {
    pub network_key: &'a NetworkKey,
    pub identity: &'a [u8],
    pub ciphertext: &'a Ciphertext,
}

enum Outcome {
    Answer(Result<String, String>),
    TimedOut,
}

/// Asks all nodes concurrently and returns the plaintext as soon as `threshold` shares
/// combine to a valid signature. Unfinished requests are aborted on return.
pub async fn collect<F>(
    requests: Vec<NodeRequest<F>>,
    target: ReleaseTarget<'_>,
    options: CollectOptions,
) -> Result<(Zeroizing<Vec<u8>>, Tally), CollectError>
where
    F: Future<Output = Result<String, String>> + Send + 'static,
{
    let check = PreparedCheck::new(target.network_key, target.identity);
    let (signature, tally) = collect_signature(requests, &check, options).await?;
    let plaintext = decrypt(target.ciphertext, &signature).map_err(CollectError::Decrypt)?;
    Ok((plaintext, tally))
}

/// Asks all nodes concurrently and returns the network's combined signature over the
/// identity of `check` as soon as `threshold` shares combine to one its key accepts.
///
/// The signature is the time-lock decryption key of everything encrypted to that identity,
/// so it is a secret: callers derive keys from it (the enclave's state key) and drop it.
pub async fn collect_signature<F>(
    requests: Vec<NodeRequest<F>>,
    check: &PreparedCheck,
    options: CollectOptions,
) -> Result<(CombinedSignature, Tally), CollectError>
where
    F: Future<Output = Result<String, String>> + Send + 'static,
{
    let threshold = options.threshold.max(1);
    let mut tally = Tally {
        asked: requests.len(),
        ..Tally::default()
    };
    let mut tasks = JoinSet::new();
    for (index, request) in requests.into_iter().enumerate() {
        let timeout = options.node_timeout;
        tasks.spawn(async move {
            let outcome = match tokio::time::timeout(timeout, request.answer).await {
                Ok(answer) => Outcome::Answer(answer),
                Err(_) => Outcome::TimedOut,
            };
            (index, request.verification_key, outcome)
        });
    }
    let identity = check.identity();
    let mut pool: Vec<DecryptionShare> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((index, key, outcome)) = joined else {
            tally.failed += 1;
            continue;
        };
        let json = match outcome {
            Outcome::TimedOut => {
                tally.timed_out += 1;
                continue;
            }
            Outcome::Answer(Err(_)) => {
                tally.failed += 1;
                continue;
            }
            Outcome::Answer(Ok(json)) => json,
        };
        tally.answered += 1;
        let share = match DecryptionShare::from_json(index, &json) {
            Ok(share) if key.is_none_or(|k| k.accepts(&share, identity)) => share,
            _ => {
                tally.invalid += 1;
                continue;
            }
        };
        if pool.iter().any(|s| s.identifier == share.identifier) {
            tally.invalid += 1;
            continue;
        }
        tally.valid += 1;
        pool.push(share);
        if let Some(signature) = search(
            &pool,
            threshold,
            check,
            &mut tally,
            options.max_subset_checks,
        ) {
            tasks.abort_all();
            return Ok((signature, tally));
        }
    }
    Err(CollectError::ThresholdUnmet { tally, threshold })
}

/// Tries the t-subsets of `pool` that contain its newest share, within the budget.
fn search(
    pool: &[DecryptionShare],
    threshold: usize,
    check: &PreparedCheck,
    tally: &mut Tally,
    budget: usize,
) -> Option<crate::release::CombinedSignature> {
    let newest = pool.len().checked_sub(1)?;
    if pool.len() < threshold {
        return None;
    }
    // Choose threshold-1 of the earlier shares, in lexicographic order.
    let others = threshold - 1;
    let mut chosen: Vec<usize> = (0..others).collect();
    loop {
        if tally.subset_checks >= budget {
            return None;
        }
        tally.subset_checks += 1;
        let mut subset: Vec<DecryptionShare> = chosen.iter().map(|i| pool[*i]).collect();
        subset.push(pool[newest]);
        if let Ok(signature) = combine(&subset) {
            if check.verify(&signature).is_ok() {
                return Some(signature);
            }
        }
        if !next_combination(&mut chosen, newest) {
            return None;
        }
    }
}

/// Advances `chosen` (sorted indices below `limit`) to the next combination.
fn next_combination(chosen: &mut [usize], limit: usize) -> bool {
    let k = chosen.len();
    for i in (0..k).rev() {
        if chosen[i] < limit - (k - i) {
            chosen[i] += 1;
            for j in i + 1..k {
                chosen[j] = chosen[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::next_combination;

    #[test]
    fn combinations_are_all_visited_once() {
        let mut chosen = vec![0, 1];
        let mut seen = vec![chosen.clone()];
        while next_combination(&mut chosen, 4) {
            seen.push(chosen.clone());
        }
        assert_eq!(
            seen,
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        let mut empty: Vec<usize> = vec![];
        assert!(!next_combination(&mut empty, 3));
    }
}
