#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The enclave's attested release through the host: HTTPS to the Lit devnet nodes (TLS ending
//! in the enclave) goes over the host's egress proxy (a real socket, a real allowlist),
//! evidence is produced for the
//! nodes' fresh challenges, shares come back sealed to the enclave's HPKE key.

use std::sync::Arc;
use std::time::Duration;

use aip_client::lit::encrypt_for;
use aip_enclave::egress_json::Egress;
use aip_enclave::release::{LitNetwork, ReleaseError};
use aip_lit::NetworkKey;

mod common;
use common::attested::{
    condition_of, enclave_identity, host_egress, host_egress_trusting, node_addresses, world, World,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enclave_releases_through_the_hosts_egress() {
    let World { dir, producer, net } = world("egress-release");
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = condition_of(&net);
    let secret = b"the enclave's 32-byte state key!";
    let encrypted = encrypt_for(&key, &conditions, secret).unwrap();
    let nodes = node_addresses(&net);
    let me = enclave_identity(Arc::new(producer));
    let network = |egress: Egress| LitNetwork {
        egress,
        nodes: nodes.clone(),
        network_key: key,
        threshold: net.threshold,
        conditions: conditions.clone(),
        node_timeout: Duration::from_secs(10),
    };

    // Every node allowed.
    let all = network(host_egress(&dir, "all", &nodes).await);
    let (plaintext, tally) = all
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);
    assert!(tally.valid >= 2, "{tally:?}");

    // One node off the allowlist: the other two still meet the threshold of 2.
    let two = network(host_egress(&dir, "two", &nodes[1..]).await);
    let (plaintext, _) = two
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);

    // Two off: the handshake count is already below the threshold; nothing is released.
    let one = network(host_egress(&dir, "one", &nodes[2..]).await);
    let err = one
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ReleaseError::TooFewHandshakes {
                answered: 1,
                asked: 3,
                threshold: 2
            }
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("lit_threshold_unmet"));

    // A ciphertext for another plaintext hash: the nodes sign another identity, the combined
    // signature verifies for it, and it does not open this ciphertext.
    let other = encrypt_for(&key, &conditions, b"another secret, same condition..").unwrap();
    let err = all
        .release(&me, &encrypted.ciphertext, &other.data_to_encrypt_hash)
        .await
        .unwrap_err();
    assert!(matches!(err, ReleaseError::Decrypt(_)), "{err}");

    // The host connects the egress to servers the enclave's TLS does not trust (here: the
    // real nodes, with the enclave trusting another CA, as it would a host's impostors):
    // no handshake completes, nothing is released.
    let other_ca = aip_tests::devnet::DevnetCa::in_dir(&dir.join("other-ca"));
    let distrusting = network(host_egress_trusting(&dir, "distrust", &nodes, &other_ca.pem).await);
    let err = distrusting
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ReleaseError::TooFewHandshakes { answered: 0, .. }),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
