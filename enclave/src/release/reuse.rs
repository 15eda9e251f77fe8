//! What one attested release may keep for the next, and why each is safe to keep.
//!
//! Every release still signs in afresh (a new session key, a SIWE signed by the release key,
//! a request sealed to each node), every node still runs the attested-release action on the
//! evidence, and the combined signature is still verified against the pinned network key
//! before anything is decrypted with it. What is kept is work whose result does not change
//! from one release to the next:
//!
//! - **Evidence** ([`ReleaseEvidence`]). The action checks the evidence's chain, measurement
//!   and binding (this boot's keys and release address, and the nonce the evidence carries);
//!   the nonce is the enclave's own choice, not a node's challenge, so no node can tell a new
//!   document from one shown a minute ago. What stops a host replaying it is the SIWE, which
//!   only the release key (never outside this enclave) can sign. A new document per payment
//!   bought nothing and cost a TEE signature each time (the NSM on Nitro, the PSP on SEV-SNP,
//!   a P-384 signature in dev). It is made again after [`EVIDENCE_REUSE`].
//! - **Node handshakes** ([`KnownNodes`]). A handshake reports the node's identity key (what
//!   requests are sealed to) and the network key, which must be the pinned one; Lit's own
//!   clients handshake once per connection to the network, not per request. A node whose
//!   request under a kept handshake fails is handshaken again at once and, if its identity
//!   key changed (it restarted: Lit's nodes make theirs at start), asked again within the same
//!   release; any failed node is handshaken again by the next release, and every handshake is
//!   redone after [`HANDSHAKE_REUSE`].
//! - **The signature-independent half of the pairing check** ([`PreparedChecks`]):
//!   hash-to-G2 of the identity and one Miller loop, a function of the network key and the
//!   identity (one per session key), both public.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aip_attestation::{BoundKeys, Evidence, EvidenceProducer, ProduceError};
use aip_lit::naga::NodeHandshake;
use aip_lit::release::PreparedCheck;
use aip_lit::NetworkKey;
use rand_core::{OsRng, RngCore};

/// How long one evidence document is shown to the nodes before a new one is made.
pub const EVIDENCE_REUSE: Duration = Duration::from_secs(60);

/// How long a node's handshake is used before it is asked again.
pub const HANDSHAKE_REUSE: Duration = Duration::from_secs(60);

/// How many identities' prepared checks are kept (one per session key in use).
pub const PREPARED_CHECKS_KEPT: usize = 1024;

/// Why no evidence could be had.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("producing attestation evidence")]
    Produce(#[source] ProduceError),
    #[error("the evidence task stopped before producing evidence")]
    Task(#[source] tokio::task::JoinError),
}

/// Evidence for one boot's keys, and the nonce it carries.
#[derive(Debug, Clone)]
pub struct ShownEvidence {
    pub nonce: [u8; 32],
    pub evidence: Arc<Evidence>,
}

/// The evidence releases show now: made on first use and again once older than
/// [`EVIDENCE_REUSE`]; releases that need it meanwhile wait for the one being made instead
/// of each asking the TEE.
#[derive(Debug, Default)]
pub struct ReleaseEvidence {
    current: tokio::sync::Mutex<Option<(Instant, ShownEvidence)>>,
}

impl ReleaseEvidence {
    pub async fn current(
        &self,
        producer: &Arc<dyn EvidenceProducer>,
        keys: &BoundKeys,
    ) -> Result<ShownEvidence, EvidenceError> {
        let mut current = self.current.lock().await;
        if let Some((made, shown)) = current.as_ref() {
            if made.elapsed() < EVIDENCE_REUSE {
                return Ok(shown.clone());
            }
        }
        let mut nonce = [0u8; 32];
        OsRng.fill_bytes(&mut nonce);
        let (producer, keys) = (Arc::clone(producer), keys.clone());
        let evidence = tokio::task::spawn_blocking(move || producer.produce(&keys, &nonce))
            .await
            .map_err(EvidenceError::Task)?
            .map_err(EvidenceError::Produce)?;
        let shown = ShownEvidence {
            nonce,
            evidence: Arc::new(evidence),
        };
        *current = Some((Instant::now(), shown.clone()));
        Ok(shown)
    }
}

/// The handshakes of nodes that answered with the pinned network key, by address.
#[derive(Debug, Default)]
pub struct KnownNodes {
    known: Mutex<HashMap<(String, u16), KnownNode>>,
}

/// One node's handshake, when it was had and under which network key.
#[derive(Debug)]
struct KnownNode {
    at: Instant,
    network_key: NetworkKey,
    handshake: NodeHandshake,
}

impl KnownNodes {
    /// The node's handshake, if it answered one with `network_key` less than
    /// [`HANDSHAKE_REUSE`] ago and no request to it has failed since.
    pub fn get(&self, host: &str, port: u16, network_key: &NetworkKey) -> Option<NodeHandshake> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let node = known.get(&(host.to_owned(), port))?;
        (node.at.elapsed() < HANDSHAKE_REUSE && node.network_key == *network_key)
            .then_some(node.handshake)
    }

    pub fn remember(&self, host: &str, port: u16, network_key: &NetworkKey, node: &NodeHandshake) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let node = KnownNode {
            at: Instant::now(),
            network_key: *network_key,
            handshake: *node,
        };
        known.insert((host.to_owned(), port), node);
    }

    /// After any failure of a request to the node: the next release asks it again.
    pub fn forget(&self, host: &str, port: u16) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.remove(&(host.to_owned(), port));
    }
}

/// Prepared pairing checks by identity, at most [`PREPARED_CHECKS_KEPT`].
#[derive(Debug)]
pub struct PreparedChecks {
    kept: Mutex<HashMap<Vec<u8>, Arc<PreparedCheck>>>,
    capacity: usize,
}

impl Default for PreparedChecks {
    fn default() -> Self {
        Self::with_capacity(PREPARED_CHECKS_KEPT)
    }
}

impl PreparedChecks {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            kept: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// The check of `identity` under `network_key`, prepared now if it is not kept.
    pub fn get(&self, network_key: &NetworkKey, identity: &[u8]) -> Arc<PreparedCheck> {
        if let Some(check) = self.lookup(identity) {
            if check.is_for(network_key, identity) {
                return check;
            }
        }
        // Prepared outside the lock: it is a millisecond of pairing arithmetic.
        let check = Arc::new(PreparedCheck::new(network_key, identity));
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= self.capacity {
            // Any one goes: it is prepared again if its key pays again.
            if let Some(evicted) = kept.keys().next().cloned() {
                kept.remove(&evicted);
            }
        }
        kept.insert(identity.to_vec(), Arc::clone(&check));
        check
    }

    fn lookup(&self, identity: &[u8]) -> Option<Arc<PreparedCheck>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(identity).cloned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Two valid network keys: the G1 generator and its double (compressed).
    fn keys() -> (NetworkKey, NetworkKey) {
        let one = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
        let two = "a572cbea904d67468808c8eb50a9450c9721db309128012543902d0ac358a62ae28f75bb8f1c7c42c39a8c5529bf0f4e";
        (
            NetworkKey::from_hex(one).unwrap(),
            NetworkKey::from_hex(two).unwrap(),
        )
    }

    #[test]
    fn a_node_is_asked_again_after_a_failure_or_under_another_network_key() {
        let nodes = KnownNodes::default();
        let (key, other) = keys();
        let node = NodeHandshake {
            identity_key: [9; 32],
            epoch: 3,
        };
        assert!(nodes.get("n", 1, &key).is_none());
        nodes.remember("n", 1, &key, &node);
        assert_eq!(nodes.get("n", 1, &key), Some(node));
        assert!(
            nodes.get("n", 2, &key).is_none(),
            "another port is another node"
        );
        assert!(nodes.get("n", 1, &other).is_none(), "pinned to another key");
        nodes.forget("n", 1);
        assert!(nodes.get("n", 1, &key).is_none());
    }

    #[test]
    fn a_kept_check_is_used_only_for_its_own_key_and_identity() {
        let checks = PreparedChecks::default();
        let (key, other) = keys();
        let first = checks.get(&key, b"identity a");
        assert!(Arc::ptr_eq(&first, &checks.get(&key, b"identity a")));
        assert!(checks.get(&key, b"identity b").is_for(&key, b"identity b"));
        let under_other = checks.get(&other, b"identity a");
        assert!(under_other.is_for(&other, b"identity a"));
        assert!(!Arc::ptr_eq(&first, &under_other));
    }

    #[test]
    fn no_more_checks_are_kept_than_the_bound() {
        let checks = PreparedChecks::with_capacity(3);
        let (key, _) = keys();
        for i in 0..5 {
            checks.get(&key, format!("identity {i}").as_bytes());
        }
        assert_eq!(checks.kept.lock().unwrap().len(), 3);
        assert!(checks.get(&key, b"identity 4").is_for(&key, b"identity 4"));
    }
}
