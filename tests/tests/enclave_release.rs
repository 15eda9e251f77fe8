#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The enclave's attested release through the host: HTTPS to the Lit devnet nodes (TLS ending
//! in the enclave) goes over the host's egress proxy (a real socket, a real allowlist),
//! the enclave signs in with its release key (the address its evidence binds), the nodes run
//! the attested-release action and return their shares over that TLS.

use aip_client::lit::encrypt_for;
use aip_enclave::egress_json::Egress;
use aip_enclave::release::ReleaseError;
use aip_lit::NetworkKey;

mod common;
use aip_tests::devnet::Crashable;
use common::attested::{host_egress, host_egress_trusting, node_addresses, world, world_apart};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enclave_releases_through_the_hosts_egress() {
    let w = world("egress-release");
    let (dir, net) = (&w.dir, &w.net);
    let key = NetworkKey::from_hex(&net.network_public_key).unwrap();
    let conditions = w.condition();
    let secret = b"the enclave's 32-byte state key!";
    let encrypted = encrypt_for(&key, &conditions, secret).unwrap();
    let nodes = node_addresses(net);
    let me = w.enclave_identity(w.producer.clone());
    let network = |egress: Egress| w.lit_network(egress, nodes.clone());

    // Every node allowed.
    let all = network(host_egress(dir, "all", &nodes).await);
    let (plaintext, tally) = all
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);
    assert!(tally.valid >= 2, "{tally:?}");

    // One node off the allowlist: the other two still meet the threshold of 2.
    let two = network(host_egress(dir, "two", &nodes[1..]).await);
    let (plaintext, _) = two
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);

    // Two off: the handshake count is already below the threshold; nothing is released.
    let one = network(host_egress(dir, "one", &nodes[2..]).await);
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
    let distrusting = network(host_egress_trusting(dir, "distrust", &nodes, &other_ca.pem).await);
    let err = distrusting
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ReleaseError::TooFewHandshakes { answered: 0, .. }),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Lit's nodes make their identity key at start, so a node that restarts answers requests
/// sealed to a handshake kept from before it with a refusal. With another node down, the
/// threshold needs the restarted one: its request, failed under the kept handshake, is sent
/// again under a new one within the same release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_is_asked_again_under_its_new_identity_key() {
    let (mut w, mut others) = world_apart("restarted-node");
    let key = NetworkKey::from_hex(&w.net.network_public_key).unwrap();
    let secret = b"the enclave's 32-byte state key!";
    let encrypted = encrypt_for(&key, &w.condition(), secret).unwrap();
    let nodes = node_addresses(&w.net);
    let me = w.enclave_identity(w.producer.clone());
    let network = w.lit_network(host_egress(&w.dir, "all", &nodes).await, nodes.clone());
    let (plaintext, tally) = network
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);
    assert!(tally.valid >= 2, "{tally:?}");

    // Every node's handshake is kept now. Node 0 comes back with a new identity key; node 1
    // goes down.
    w.net.restart();
    others[0].kill();
    let (plaintext, tally) = network
        .release(&me, &encrypted.ciphertext, &encrypted.data_to_encrypt_hash)
        .await
        .unwrap();
    assert_eq!(plaintext.as_slice(), secret);
    assert_eq!(tally.valid, 2, "{tally:?}");
    let _ = std::fs::remove_dir_all(&w.dir);
}
