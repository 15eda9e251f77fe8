#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The state key against real components: the host's egress proxy and the Lit devnet with the
//! attested-release condition. Derived from the network's threshold signature over the
//! deployment's identity: the same for every boot of an allowed measurement, another for
//! another deployment, refused to another measurement, and equal to what anyone holding the
//! combined signature would derive (so it is the signature, not something the host supplies).

use std::sync::Arc;

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, EvidenceProducer};
use aip_enclave::state::state_key::{
    derive_state_key, state_key_data_hash, state_key_from_signature, StateKeyError,
};

mod common;
use common::attested::{host_egress, node_addresses, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_from_the_networks_signature_per_deployment_refused_to_another_measurement() {
    let w = world("state-key");
    let dir = &w.dir;
    let nodes = node_addresses(&w.net);
    let egress = host_egress(dir, "egress", &nodes).await;
    let lit = w.lit_network(egress, nodes);
    let producer: Arc<dyn EvidenceProducer> = w.producer.clone();
    let enclave_identity = |producer: Arc<dyn EvidenceProducer>| w.enclave_identity(producer);

    // Two boots (new keys each, same measurement): the same key.
    let first = derive_state_key(&lit, &enclave_identity(Arc::clone(&producer)), "prod-eu")
        .await
        .unwrap();
    let again = derive_state_key(&lit, &enclave_identity(Arc::clone(&producer)), "prod-eu")
        .await
        .unwrap();
    assert_eq!(again.expose(), first.expose());

    // It is HKDF of the verified combined signature over the deployment's identity.
    let me = enclave_identity(Arc::clone(&producer));
    let data_hash = state_key_data_hash("prod-eu");
    let (signature, _) = lit.sign_identity(&me, &data_hash).await.unwrap();
    let identity = lit.conditions.identity(&data_hash);
    let recomputed = state_key_from_signature(&signature.to_bytes(), identity.as_bytes()).unwrap();
    assert_eq!(recomputed.expose(), first.expose());

    // Another deployment label: another key.
    let other = derive_state_key(&lit, &enclave_identity(Arc::clone(&producer)), "prod-us")
        .await
        .unwrap();
    assert_ne!(other.expose(), first.expose());

    // Another image under the same dev root: the nodes refuse, nothing is derived.
    let pki = DevPki::load_or_create(&dir.join("pki"), clock::now()).unwrap();
    let impostor = DevProducer::new(
        pki,
        PcrBank::for_image(b"a modified enclave", b"aip-enclave"),
        "i-impostor",
    );
    let err = derive_state_key(&lit, &enclave_identity(Arc::new(impostor)), "prod-eu")
        .await
        .unwrap_err();
    assert!(matches!(err, StateKeyError::Release(_)), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
