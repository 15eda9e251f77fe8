#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The state key's life against real components: the host's SQLite store on its control
//! socket, its egress proxy, the Lit devnet with the attested-release condition. Created once,
//! recovered by a later boot of the same measurement, refused to another measurement.

use std::sync::Arc;
use std::time::Duration;

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, EvidenceProducer};
use aip_enclave::release::LitNetwork;
use aip_enclave::state::host_store::HostStore;
use aip_enclave::state::state_key::{recover_or_create, Origin, StateKeyError, STATE_KEY_RECORD};
use aip_lit::NetworkKey;

mod common;
use common::attested::{condition_of, enclave_identity, host_egress, node_addresses, world, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_once_recovered_later_refused_to_another_measurement() {
    let World { dir, producer, net } = world("state-key");
    // The host: store on its control socket, egress allowing the devnet nodes.
    let (control, blob_store) = common::host::control_channel(&dir).await;
    let nodes = node_addresses(&net);
    let egress = host_egress(&dir, "egress", &nodes).await;

    let lit = LitNetwork {
        egress,
        nodes,
        network_key: NetworkKey::from_hex(&net.network_public_key).unwrap(),
        threshold: net.threshold,
        conditions: condition_of(&net),
        node_timeout: Duration::from_secs(10),
    };
    let store = HostStore::new(control.clone());
    let producer: Arc<dyn EvidenceProducer> = Arc::new(producer);

    // First boot: created, stored, proven recoverable.
    let (first, origin) = recover_or_create(&store, &lit, &enclave_identity(Arc::clone(&producer)))
        .await
        .unwrap();
    assert_eq!(origin, Origin::Created);
    let (version, record) = store.get(STATE_KEY_RECORD).await.unwrap().unwrap();
    assert_eq!(version, 1);
    let record: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(
        record["conditions_hash"],
        lit.conditions.hash_hex().as_str()
    );
    assert!(
        !String::from_utf8_lossy(&serde_json::to_vec(&record).unwrap())
            .contains(&hex::encode(first.expose()))
    );

    // A later boot (new keys, same measurement) recovers the same key.
    let (again, origin) = recover_or_create(&store, &lit, &enclave_identity(Arc::clone(&producer)))
        .await
        .unwrap();
    assert_eq!(origin, Origin::Recovered);
    assert_eq!(again.expose(), first.expose());

    // Another image under the same dev root: the nodes refuse, nothing is released.
    let pki = DevPki::load_or_create(&dir.join("pki"), clock::now()).unwrap();
    let impostor = DevProducer::new(
        pki,
        PcrBank::for_image(b"a modified enclave", b"aip-enclave"),
        "i-impostor",
    );
    let err = recover_or_create(&store, &lit, &enclave_identity(Arc::new(impostor)))
        .await
        .unwrap_err();
    assert!(matches!(err, StateKeyError::Release(_)), "{err}");

    // A damaged record is an error, never a fresh key over the old one.
    {
        let mut raw = blob_store.lock().unwrap();
        raw.put(STATE_KEY_RECORD, Some(1), 2, b"not json").unwrap();
    }
    let err = recover_or_create(&store, &lit, &enclave_identity(producer))
        .await
        .unwrap_err();
    assert!(matches!(err, StateKeyError::Record(_)), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
