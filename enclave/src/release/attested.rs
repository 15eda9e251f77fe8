//! Obtaining a secret from the Lit network as this enclave: the attested release, in Naga's
//! dialect (aip-lit `naga`).
//!
//! 1. Handshake with every node (through the host's egress): each must report the pinned
//!    network key, and names the identity key requests to it are sealed to.
//! 2. Produce evidence for a nonce, binding this enclave's TLS and signing keys, its
//!    configuration and the address of its release key (binding v2). Handshakes and evidence
//!    are kept for the next releases for a while (`reuse`, which says why that is safe).
//! 3. Sign in as that address (SIWE, EIP-191), delegating to a fresh Ed25519 session key with a
//!    ReCap for decrypting this one identity, with the evidence and the allowed measurement
//!    sets as `litParam` resources. Per node, the session key signs a request naming that
//!    node; it is sealed to the node's identity key and posted to `/web/encryption/sign/v2`.
//!    Each node runs the Lit Action with the wallet's sign-in; the action verifies the evidence
//!    and that it binds `:userAddress`, the address that signed. The shares come back sealed
//!    to this release's X25519 key, over TLS that ends here.
//! 4. Collect: the first threshold shares that combine to a signature the pinned key accepts
//!    decrypt the ciphertext (aip-lit's `collect`).
//!
//! Nothing here relies on a node doing more than Lit's nodes do (lit-peer: session signature,
//! condition hash, `substitute_special_params`, the action's `go(...)` wrapper).

use std::sync::Arc;
use std::time::Duration;

use aip_attestation::{BoundKeys, Evidence, EvidenceProducer};
use aip_lit::collect::{
    collect_signature, BoxedAnswer, CollectError, CollectOptions, NodeRequest, Tally,
};
use aip_lit::conditions::Conditions;
use aip_lit::naga::{
    capability_message, handshake_request, read_handshake, Capability, DecryptionRequest,
    NodeHandshake, SessionTerms, HANDSHAKE_PATH, SIGN_PATH,
};
use aip_lit::release::{decrypt, CombinedSignature};
use aip_lit::session_sig::SessionKey;
use aip_lit::siwe::{lit_param_resource, rfc3339, SiweError};
use aip_lit::wire::{AttestationParam, BoundKeysParam};
use aip_lit::{Ciphertext, LitError, NetworkKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::release_key::ReleaseKey;
use super::reuse::{EvidenceError, KnownNodes, PreparedChecks, ReleaseEvidence};
use crate::egress_json::{post, Egress};

/// How long a release request's sign-in is good for, and how far behind a node's clock may be.
const SIGN_IN_LIFETIME_S: i64 = 600;
const SIGN_IN_SKEW_S: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(
        "lit_threshold_unmet: {answered} of {asked} Lit nodes answered the handshake with the pinned network key, threshold {threshold}"
    )]
    TooFewHandshakes {
        answered: usize,
        asked: usize,
        threshold: usize,
    },
    #[error("attestation evidence")]
    Evidence(#[source] EvidenceError),
    #[error("signing in to the Lit nodes")]
    SignIn(#[source] SiweError),
    #[error("lit_threshold_unmet")]
    Collect(#[source] CollectError),
    #[error("the ciphertext")]
    Ciphertext(#[source] LitError),
    #[error("the combined signature verified but the ciphertext does not open with it")]
    Decrypt(#[source] LitError),
}

/// Where and how to ask.
#[derive(Debug, Clone)]
pub struct LitNetwork {
    pub egress: Egress,
    pub nodes: Vec<(String, u16)>,
    pub network_key: NetworkKey,
    pub threshold: usize,
    pub conditions: Conditions,
    /// The allowed measurement sets (canonical JSON) the condition pins by hash.
    pub allowed_sets: String,
    pub node_timeout: Duration,
    /// The session signature's `maxPrice`, wei.
    pub max_price_wei: u64,
    /// What releases through this network keep for the next (`Default::default()` for a
    /// network just configured; clones share it).
    pub reuse: Arc<NetworkReuse>,
}

/// The nodes' handshakes and the prepared pairing checks, kept across releases.
#[derive(Debug, Default)]
pub struct NetworkReuse {
    nodes: KnownNodes,
    checks: PreparedChecks,
}

/// Who asks: the evidence source, the keys it binds, the release key it signs in with, and
/// the evidence releases show now.
#[derive(Debug, Clone)]
pub struct EnclaveIdentity {
    pub producer: Arc<dyn EvidenceProducer>,
    pub keys: BoundKeys,
    pub release_key: Arc<ReleaseKey>,
    evidence: Arc<ReleaseEvidence>,
}

impl EnclaveIdentity {
    pub fn new(
        producer: Arc<dyn EvidenceProducer>,
        keys: BoundKeys,
        release_key: Arc<ReleaseKey>,
    ) -> Self {
        Self {
            producer,
            keys,
            release_key,
            evidence: Arc::default(),
        }
    }
}

impl LitNetwork {
    /// Decrypts `ciphertext_b64` (encrypted for `data_hash_hex` under `self.conditions`).
    pub async fn release(
        &self,
        me: &EnclaveIdentity,
        ciphertext_b64: &str,
        data_hash_hex: &str,
    ) -> Result<(Zeroizing<Vec<u8>>, Tally), ReleaseError> {
        let ciphertext =
            Ciphertext::from_base64(ciphertext_b64).map_err(ReleaseError::Ciphertext)?;
        let (signature, tally) = self.sign_identity(me, data_hash_hex).await?;
        let plaintext = decrypt(&ciphertext, &signature).map_err(ReleaseError::Decrypt)?;
        Ok((plaintext, tally))
    }

    /// The network's combined signature over the identity of `data_hash_hex` under
    /// `self.conditions`, verified against the pinned network key. It is the decryption key of
    /// anything encrypted to that identity, and the root the state key is derived from.
    pub async fn sign_identity(
        &self,
        me: &EnclaveIdentity,
        data_hash_hex: &str,
    ) -> Result<(CombinedSignature, Tally), ReleaseError> {
        let identity = self.conditions.identity(data_hash_hex);
        let started = std::time::Instant::now();
        let answered = self.handshakes().await;
        let handshakes_ms = started.elapsed().as_millis();
        if answered.len() < self.threshold {
            return Err(ReleaseError::TooFewHandshakes {
                answered: answered.len(),
                asked: self.nodes.len(),
                threshold: self.threshold,
            });
        }
        let shown = me
            .evidence
            .current(&me.producer, &me.keys)
            .await
            .map_err(ReleaseError::Evidence)?;
        let evidence_ms = started.elapsed().as_millis() - handshakes_ms;
        let request = Arc::new(decryption_request(
            &SignRequest {
                conditions: &self.conditions,
                allowed_sets: &self.allowed_sets,
                data_hash_hex,
                evidence: &shown.evidence,
                keys: &me.keys,
                nonce: &shown.nonce,
                max_price_wei: self.max_price_wei,
            },
            &me.release_key,
        )?);
        let now = unix_now();
        let requests: Vec<NodeRequest<BoxedAnswer>> = answered
            .into_iter()
            .map(|node| {
                let asking = NodeAsk {
                    egress: self.egress.clone(),
                    network_key: self.network_key,
                    timeout: self.node_timeout,
                    reuse: Arc::clone(&self.reuse),
                };
                let request = Arc::clone(&request);
                let answer: BoxedAnswer =
                    Box::pin(async move { asking.share(&request, node, now).await });
                NodeRequest {
                    answer,
                    verification_key: None,
                }
            })
            .collect();
        let mut options = CollectOptions::new(self.threshold);
        options.node_timeout = self.node_timeout;
        let check = self
            .reuse
            .checks
            .get(&self.network_key, identity.as_bytes());
        let collected = collect_signature(requests, &check, options)
            .await
            .map_err(ReleaseError::Collect);
        tracing::debug!(
            handshakes_ms,
            evidence_ms,
            total_ms = started.elapsed().as_millis(),
            "Lit release"
        );
        collected
    }

    /// The nodes that answered a handshake with the pinned network key, in configuration
    /// order, with what they said: kept from an earlier release, or asked now.
    async fn handshakes(&self) -> Vec<AnsweredNode> {
        let asks = self.nodes.iter().map(|(host, port)| async move {
            let (handshake, kept) = match self.reuse.nodes.get(host, *port, &self.network_key) {
                Some(kept) => (kept, true),
                None => {
                    let asked = handshake(
                        &self.egress,
                        (host, *port),
                        &self.network_key,
                        self.node_timeout,
                        &self.reuse.nodes,
                    );
                    (asked.await?, false)
                }
            };
            Some(AnsweredNode {
                host: host.clone(),
                port: *port,
                handshake,
                kept,
            })
        });
        futures::future::join_all(asks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

/// A node that answered a handshake with the pinned network key, now or in an earlier release
/// (`kept`).
#[derive(Debug)]
struct AnsweredNode {
    host: String,
    port: u16,
    handshake: NodeHandshake,
    kept: bool,
}

/// What asking one node for its share needs, owned (each node's request is a task of its own).
struct NodeAsk {
    egress: Egress,
    network_key: NetworkKey,
    timeout: Duration,
    reuse: Arc<NetworkReuse>,
}

impl NodeAsk {
    /// The node's share. A request sent under a kept handshake that fails is sent once more
    /// under a new one: the node may have restarted with a new identity key, and one node's
    /// restart should cost no release the threshold could still meet. Any failure leaves the
    /// node to be handshaken again by the next release.
    async fn share(
        &self,
        request: &DecryptionRequest,
        node: AnsweredNode,
        now: i64,
    ) -> Result<String, String> {
        let address = (node.host.as_str(), node.port);
        let mut share = ask(
            &self.egress,
            request,
            address,
            &node.handshake,
            now,
            self.timeout,
        )
        .await;
        if share.is_err() && node.kept {
            self.reuse.nodes.forget(&node.host, node.port);
            let renewed = handshake(
                &self.egress,
                address,
                &self.network_key,
                self.timeout,
                &self.reuse.nodes,
            )
            .await;
            if let Some(renewed) = renewed.filter(|renewed| *renewed != node.handshake) {
                tracing::info!(host = %node.host, port = node.port, "a Lit node's handshake changed; asking it again");
                share = ask(&self.egress, request, address, &renewed, now, self.timeout).await;
            }
        }
        share.map_err(|error| {
            self.reuse.nodes.forget(&node.host, node.port);
            // A node's refusal names its cause (an attestation it does not accept, a session
            // it does not take): the operator's only view of why a release failed.
            let error = aip_wire::process::error_chain(&*error);
            tracing::warn!(host = %node.host, port = node.port, %error, "a Lit node did not sign");
            error
        })
    }
}

/// Asks one node for its handshake; remembers it if it names the pinned network key.
async fn handshake(
    egress: &Egress,
    (host, port): (&str, u16),
    network_key: &NetworkKey,
    timeout: Duration,
    known: &KnownNodes,
) -> Option<NodeHandshake> {
    let mut challenge = [0u8; 32];
    OsRng.fill_bytes(&mut challenge);
    let body = handshake_request("aip-signer", &hex::encode(challenge));
    let answer = match post(egress, host, port, HANDSHAKE_PATH, &body, timeout).await {
        Ok((_, answer)) => answer,
        Err(error) => {
            let error = aip_wire::process::error_chain(&error);
            tracing::warn!(%host, port, %error, "handshake failed");
            return None;
        }
    };
    match read_handshake(&answer, network_key) {
        Ok(node) => {
            known.remember(host, port, network_key, &node);
            Some(node)
        }
        Err(error) => {
            let error = aip_wire::process::error_chain(&error);
            tracing::warn!(%host, port, %error, "handshake refused; node ignored");
            None
        }
    }
}

/// Why one node gave no share.
type NodeFailure = Box<dyn std::error::Error + Send + Sync>;

/// One node's share: the request sealed to it, its sealed answer opened.
async fn ask(
    egress: &Egress,
    request: &DecryptionRequest,
    (host, port): (&str, u16),
    node: &NodeHandshake,
    now: i64,
    timeout: Duration,
) -> Result<String, NodeFailure> {
    let sealed = request.seal_for(&format!("{host}:{port}"), node, now)?;
    let (_, answer) = post(egress, host, port, SIGN_PATH, &sealed.payload, timeout).await?;
    Ok(sealed.open_answer(&answer)?)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What one attested-release request says: the condition and its allowed sets, the identity's
/// data hash, the evidence with the keys it binds and its nonce, and the price it accepts.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    pub conditions: &'a Conditions,
    pub allowed_sets: &'a str,
    pub data_hash_hex: &'a str,
    pub evidence: &'a Evidence,
    pub keys: &'a BoundKeys,
    pub nonce: &'a [u8; 32],
    pub max_price_wei: u64,
}

/// The Naga request for `request`, signed in as `release_key`: a SIWE message delegating to a
/// fresh session key, carrying the attestation and the allowed sets as `litParam` resources
/// beside the ReCap. Each value is base64url of the text the action reads, because Lit splices
/// the decoded value unescaped between double quotes, and base64url has no quote to escape.
/// (Public so the tests can send what a lying host would: another key's sign-in, another
/// enclave's evidence.)
pub fn decryption_request(
    request: &SignRequest<'_>,
    release_key: &ReleaseKey,
) -> Result<DecryptionRequest, ReleaseError> {
    let param = AttestationParam {
        evidence: request.evidence.to_json_value(),
        bound_keys: BoundKeysParam {
            tls_spki_sha256: hex::encode(Sha256::digest(&request.keys.tls_spki_der)),
            signing_public_key: hex::encode(request.keys.signing_public_key),
            config_sha256: hex::encode(request.keys.config_sha256),
        },
        nonce: hex::encode(request.nonce),
    };
    let param_json = serde_json::to_string(&param).unwrap_or_default();
    let now = unix_now();
    let (issued_at, expiration) = (now - SIGN_IN_SKEW_S, now + SIGN_IN_LIFETIME_S);
    let session = SessionKey::generate();
    let identity = request.conditions.identity(request.data_hash_hex);
    // The sign-in's own nonce, new per request (the evidence's may be shown again).
    let mut sign_in_nonce = [0u8; 16];
    OsRng.fill_bytes(&mut sign_in_nonce);
    let message = capability_message(
        Capability {
            address: release_key.address(),
            domain: "aip-signer",
            statement: "aip-signer attested release.",
            nonce: &hex::encode(sign_in_nonce),
            issued_at,
            expiration,
            extra_resources: vec![
                lit_param_resource("attestation", &URL_SAFE_NO_PAD.encode(param_json)),
                lit_param_resource("allowedSets", &URL_SAFE_NO_PAD.encode(request.allowed_sets)),
            ],
        },
        &session,
        &identity,
    );
    let capability = release_key
        .sign_in(&message)
        .map_err(ReleaseError::SignIn)?;
    Ok(DecryptionRequest::new(
        request.conditions.clone(),
        request.data_hash_hex,
        capability,
        session,
        SessionTerms {
            issued_at: rfc3339(issued_at).map_err(ReleaseError::SignIn)?,
            expiration: rfc3339(expiration).map_err(ReleaseError::SignIn)?,
            max_price: request.max_price_wei.to_string(),
        },
    ))
}
