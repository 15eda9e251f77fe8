#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Robust collection over simulated nodes: honest, down, slow and lying.

mod common;

use std::time::Duration;

use aip_lit::collect::{
    collect, BoxedAnswer, CollectError, CollectOptions, NodeRequest, ReleaseTarget,
};
use aip_lit::identity::{data_to_encrypt_hash, identity};
use aip_lit::{encrypt, Ciphertext};
use common::Network;

#[derive(Clone, Copy, Debug)]
enum Node {
    Honest,
    Down,
    /// Answers after this long.
    Slow(Duration),
    /// Sends another node's share under its own identifier... or a share over another message.
    WrongMessage,
    Garbage,
}

const PLAINTEXT: &[u8] = b"the session key";

struct Setup {
    network: Network,
    identity: String,
    ciphertext: Ciphertext,
}

fn setup(t: usize, n: usize) -> Setup {
    let network = Network::new(t, n);
    let identity = identity(&"cd".repeat(32), &data_to_encrypt_hash(PLAINTEXT));
    let ciphertext = encrypt(&network.key, PLAINTEXT, identity.as_bytes()).unwrap();
    Setup {
        network,
        identity,
        ciphertext,
    }
}

fn requests(s: &Setup, behaviour: &[Node], with_keys: bool) -> Vec<NodeRequest<BoxedAnswer>> {
    behaviour
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let honest = s.network.share_json(i, s.identity.as_bytes());
            let wrong = s.network.share_json(i, b"another identity");
            let b = *b;
            let answer: BoxedAnswer = Box::pin(async move {
                match b {
                    Node::Honest => Ok(honest),
                    Node::Down => Err("connection refused".to_owned()),
                    Node::Slow(d) => {
                        tokio::time::sleep(d).await;
                        Ok(honest)
                    }
                    Node::WrongMessage => Ok(wrong),
                    Node::Garbage => Ok("{\"ProofOfPossession\":\"zz\"}".to_owned()),
                }
            });
            NodeRequest {
                answer,
                verification_key: with_keys.then(|| s.network.verification_key(i)),
            }
        })
        .collect()
}

async fn run(
    s: &Setup,
    behaviour: &[Node],
    with_keys: bool,
    options: CollectOptions,
) -> Result<aip_lit::collect::Tally, CollectError> {
    let target = ReleaseTarget {
        network_key: &s.network.key,
        identity: s.identity.as_bytes(),
        ciphertext: &s.ciphertext,
    };
    let (plaintext, tally) = collect(requests(s, behaviour, with_keys), target, options).await?;
    assert_eq!(plaintext.as_slice(), PLAINTEXT);
    Ok(tally)
}

#[tokio::test]
async fn honest_nodes_release_at_the_first_combination() {
    let s = setup(3, 5);
    for with_keys in [true, false] {
        let tally = run(&s, &[Node::Honest; 5], with_keys, CollectOptions::new(3))
            .await
            .unwrap();
        assert_eq!(tally.subset_checks, 1, "{tally:?}");
        assert!(tally.valid >= 3);
    }
}

#[tokio::test]
async fn the_slowest_node_is_not_waited_for() {
    let s = setup(3, 5);
    let mut options = CollectOptions::new(3);
    options.node_timeout = Duration::from_secs(120);
    let behaviour = [
        Node::Honest,
        Node::Slow(Duration::from_secs(60)),
        Node::Honest,
        Node::Down,
        Node::Honest,
    ];
    let tally = run(&s, &behaviour, true, options).await.unwrap();
    // Released with the three fast answers; the slow node neither answered nor timed out.
    assert_eq!(
        (tally.answered, tally.timed_out, tally.failed),
        (3, 0, 1),
        "{tally:?}"
    );
}

#[tokio::test]
async fn lying_nodes_are_dropped_with_keys_and_searched_around_without() {
    let s = setup(3, 6);
    let behaviour = [
        Node::WrongMessage,
        Node::Honest,
        Node::Garbage,
        Node::WrongMessage,
        Node::Honest,
        Node::Honest,
    ];
    let with_keys = run(&s, &behaviour, true, CollectOptions::new(3))
        .await
        .unwrap();
    assert_eq!(with_keys.invalid, 3, "{with_keys:?}");
    assert_eq!(
        with_keys.subset_checks, 1,
        "only verified shares are combined: {with_keys:?}"
    );
    let without_keys = run(&s, &behaviour, false, CollectOptions::new(3))
        .await
        .unwrap();
    assert_eq!(
        without_keys.invalid, 1,
        "only the garbage is visible: {without_keys:?}"
    );
    assert!(without_keys.subset_checks > 1, "{without_keys:?}");
}

#[tokio::test]
async fn too_few_valid_shares_say_how_many_of_what() {
    let s = setup(3, 5);
    let mut options = CollectOptions::new(3);
    options.node_timeout = Duration::from_millis(50);
    let behaviour = [
        Node::Honest,
        Node::Down,
        Node::Slow(Duration::from_secs(30)),
        Node::Garbage,
        Node::Honest,
    ];
    let err = run(&s, &behaviour, true, options).await.unwrap_err();
    let CollectError::ThresholdUnmet { tally, threshold } = &err else {
        panic!("{err}")
    };
    assert_eq!(*threshold, 3);
    assert_eq!(
        (
            tally.asked,
            tally.answered,
            tally.valid,
            tally.invalid,
            tally.failed,
            tally.timed_out
        ),
        (5, 3, 2, 1, 1, 1)
    );
    let message = err.to_string();
    assert!(
        message.contains("3 of 5 nodes answered")
            && message.contains("2 valid shares")
            && message.contains("threshold 3"),
        "{message}"
    );
}

#[tokio::test]
async fn the_subset_search_is_bounded() {
    let s = setup(3, 6);
    let behaviour = [
        Node::WrongMessage,
        Node::WrongMessage,
        Node::WrongMessage,
        Node::Honest,
        Node::Honest,
        Node::Honest,
    ];
    let mut options = CollectOptions::new(3);
    options.max_subset_checks = 2;
    let err = run(&s, &behaviour, false, options).await.unwrap_err();
    let CollectError::ThresholdUnmet { tally, .. } = err else {
        panic!()
    };
    assert_eq!(tally.subset_checks, 2);
    // With enough budget the same answers release.
    options.max_subset_checks = 64;
    run(&s, &behaviour, false, options).await.unwrap();
}
