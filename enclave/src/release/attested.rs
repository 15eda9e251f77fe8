//! Obtaining a secret from the Lit network as this enclave: the attested release.
//!
//! 1. Handshake with every node (through the host's egress): each returns a fresh, single-use
//!    challenge and its view of the network key, which must be the pinned one.
//! 2. Produce evidence whose nonce is SHA-256 of the challenges of the nodes that answered,
//!    binding this enclave's TLS, signing and HPKE keys and its configuration.
//! 3. Ask those nodes to sign the identity under the attested-release condition; each node
//!    verifies the evidence and seals its share to the HPKE key.
//! 4. Open the sealed shares here and collect: the first threshold shares that combine to a
//!    signature the pinned key accepts decrypt the ciphertext (aip-lit's `collect`).

use std::sync::Arc;
use std::time::Duration;

use aip_attestation::{BoundKeys, EvidenceProducer, ProduceError};
use aip_lit::collect::{
    collect_signature, BoxedAnswer, CollectError, CollectOptions, NodeRequest, Tally,
};
use aip_lit::conditions::Conditions;
use aip_lit::release::{decrypt, CombinedSignature};
use aip_lit::sealed::{SealedShare, ShareRecipient};
use aip_lit::wire::{challenges_nonce, AttestationParam, BoundKeysParam, HandshakeResponse};
use aip_lit::{Ciphertext, LitError, NetworkKey};
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use serde_json::json;
use zeroize::Zeroizing;

use crate::egress_json::{post_json, Egress};

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
    #[error("producing attestation evidence")]
    Evidence(#[source] ProduceError),
    #[error("the evidence task stopped before producing evidence")]
    EvidenceTask,
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
    pub node_timeout: Duration,
}

/// Who asks: the evidence source, the keys it binds, the HPKE key shares are sealed to.
#[derive(Debug, Clone)]
pub struct EnclaveIdentity {
    pub producer: Arc<dyn EvidenceProducer>,
    pub keys: BoundKeys,
    pub recipient: Arc<ShareRecipient>,
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
        let answered = self.handshakes(me).await;
        if answered.len() < self.threshold {
            return Err(ReleaseError::TooFewHandshakes {
                answered: answered.len(),
                asked: self.nodes.len(),
                threshold: self.threshold,
            });
        }
        let challenges: Vec<Vec<u8>> = answered.iter().map(|(_, c)| c.clone()).collect();
        let nonce = challenges_nonce(&challenges);
        let producer = Arc::clone(&me.producer);
        let keys = me.keys.clone();
        let evidence = tokio::task::spawn_blocking(move || producer.produce(&keys, &nonce))
            .await
            .map_err(|_| ReleaseError::EvidenceTask)?
            .map_err(ReleaseError::Evidence)?;
        let param = AttestationParam {
            evidence: evidence.to_json(),
            bound_keys: BoundKeysParam {
                tls_spki_der: base64::engine::general_purpose::STANDARD
                    .encode(&me.keys.tls_spki_der),
                signing_public_key: hex::encode(me.keys.signing_public_key),
                hpke_public_key: hex::encode(me.keys.hpke_public_key),
                config_sha256: hex::encode(me.keys.config_sha256),
            },
            challenges: challenges.iter().map(hex::encode).collect(),
        };
        let body = json!({
            self.conditions.field(): self.conditions.to_value(),
            "chain": "ethereum",
            "dataToEncryptHash": data_hash_hex,
            "jsParams": { "attestation": param },
        });
        let requests: Vec<NodeRequest<BoxedAnswer>> = answered
            .iter()
            .enumerate()
            .map(|(index, ((host, port), _))| {
                let (egress, host, port, body) =
                    (self.egress.clone(), host.clone(), *port, body.clone());
                let (recipient, identity, timeout) = (
                    Arc::clone(&me.recipient),
                    identity.clone(),
                    self.node_timeout,
                );
                let answer: BoxedAnswer = Box::pin(async move {
                    let answer =
                        post_json(&egress, &host, port, "/web/encryption/sign", &body, timeout)
                            .await
                            .map_err(|error| {
                                // A node's refusal names its cause (an attestation it does not
                                // accept, a condition it does not evaluate): the operator's
                                // only view of why a release failed.
                                let error = aip_wire::process::error_chain(&error);
                                tracing::warn!(%host, port, %error, "a Lit node did not sign");
                                error
                            })?;
                    let sealed: SealedShare = serde_json::from_value(answer["sealedShare"].clone())
                        .map_err(|_| format!("{host}:{port} sent no sealed share"))?;
                    let share = recipient
                        .open(index, identity.as_bytes(), &sealed)
                        .map_err(|e| e.to_string())?;
                    Ok(share.to_v2_json())
                });
                NodeRequest {
                    answer,
                    verification_key: None,
                }
            })
            .collect();
        let mut options = CollectOptions::new(self.threshold);
        options.node_timeout = self.node_timeout;
        collect_signature(requests, &self.network_key, identity.as_bytes(), options)
            .await
            .map_err(ReleaseError::Collect)
    }

    /// The nodes that answered a handshake with the pinned network key, in configuration
    /// order, with their challenges.
    async fn handshakes(&self, me: &EnclaveIdentity) -> Vec<((String, u16), Vec<u8>)> {
        let mut ours = [0u8; 32];
        OsRng.fill_bytes(&mut ours);
        let body = json!({
            "clientPublicKey": hex::encode(me.keys.hpke_public_key),
            "challenge": hex::encode(ours),
        });
        let asks = self.nodes.iter().map(|(host, port)| {
            let body = body.clone();
            async move {
                let answer = post_json(
                    &self.egress,
                    host,
                    *port,
                    "/web/handshake",
                    &body,
                    self.node_timeout,
                )
                .await;
                let handshake: HandshakeResponse = match answer.map(serde_json::from_value) {
                    Ok(Ok(h)) => h,
                    Ok(Err(_)) => {
                        tracing::warn!(%host, port, "handshake answer is not a handshake");
                        return None;
                    }
                    Err(error) => {
                        tracing::warn!(%host, port, %error, "handshake failed");
                        return None;
                    }
                };
                let same_key = NetworkKey::from_hex(&handshake.network_public_key)
                    .is_ok_and(|k| k == self.network_key);
                if !same_key {
                    tracing::warn!(%host, port, "node reports another network key; ignored");
                    return None;
                }
                let challenge = hex::decode(&handshake.latest_blockhash).ok()?;
                Some(((host.clone(), *port), challenge))
            }
        });
        futures::future::join_all(asks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}
