#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The blob store on real SQLite files, and the control channel over a real Unix socket.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use aip_host::control_server::serve_control;
use aip_host::metrics::HostMetrics;
use aip_host::store::{BlobStore, PutOutcome, StoreError, MAX_RECORD_LEN};
use aip_wire::control::{receive, send, ControlRequest, ControlResponse, KeyVersion};
use aip_wire::frame::DEFAULT_FRAME_CAP;
use aip_wire::{Endpoint, Listener, Stream};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aip-host-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn compare_and_set_table() {
    let dir = temp_dir("cas");
    let mut store = BlobStore::open(&dir.join("store.db")).unwrap();
    /// (key, expected, version, data, outcome)
    type Row<'a> = (&'a str, Option<u64>, u64, &'a [u8], PutOutcome);
    let table: [Row; 6] = [
        (
            "state/a",
            None,
            1,
            b"one",
            PutOutcome::Stored { version: 1 },
        ),
        (
            "state/a",
            None,
            2,
            b"x",
            PutOutcome::Conflict { current: Some(1) },
        ),
        (
            "state/a",
            Some(2),
            3,
            b"x",
            PutOutcome::Conflict { current: Some(1) },
        ),
        (
            "state/a",
            Some(1),
            2,
            b"two",
            PutOutcome::Stored { version: 2 },
        ),
        (
            "state/b",
            Some(1),
            2,
            b"x",
            PutOutcome::Conflict { current: None },
        ),
        (
            "state/b",
            None,
            5,
            b"five",
            PutOutcome::Stored { version: 5 },
        ),
    ];
    for (key, expected, version, data, outcome) in table {
        assert_eq!(
            store.put(key, expected, version, data).unwrap(),
            outcome,
            "{key} {version}"
        );
    }
    assert_eq!(store.get("state/a").unwrap(), Some((2, b"two".to_vec())));
    assert_eq!(store.get("state/zzz").unwrap(), None);

    // Refusals change nothing.
    for (key, expected, version, len) in [
        ("state/a", Some(2), 2, 1),        // version not increasing
        ("state/a", Some(2), 0, 1),        // zero
        ("state/a", Some(2), u64::MAX, 1), // beyond SQLite's integer
        ("", None, 1, 1),                  // empty key
        ("state/../etc", None, 1, 1),      // dot-dot
        ("state/a b", None, 1, 1),         // space
        ("state/a", Some(2), 3, MAX_RECORD_LEN + 1),
    ] {
        let err = store
            .put(key, expected, version, &vec![0u8; len])
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::BadKey { .. }
                    | StoreError::VersionNotIncreasing { .. }
                    | StoreError::RecordTooLarge { .. }
            ),
            "{key} {version}: {err}"
        );
    }
    assert_eq!(store.get("state/a").unwrap(), Some((2, b"two".to_vec())));
    assert_eq!(
        store.list("state/").unwrap(),
        vec![
            KeyVersion {
                key: "state/a".into(),
                version: 2
            },
            KeyVersion {
                key: "state/b".into(),
                version: 5
            },
        ]
    );
    assert_eq!(store.list("state/b").unwrap().len(), 1);
    assert_eq!(store.list("other/").unwrap(), vec![]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn records_survive_reopening_and_an_unknown_schema_is_refused() {
    let dir = temp_dir("reopen");
    let path = dir.join("store.db");
    {
        let mut store = BlobStore::open(&path).unwrap();
        store.put("ledger/head", None, 1, b"h1").unwrap();
        store.put("ledger/head", Some(1), 2, b"h2").unwrap();
    }
    let store = BlobStore::open(&path).unwrap();
    assert_eq!(store.get("ledger/head").unwrap(), Some((2, b"h2".to_vec())));
    drop(store);

    assert_eq!(rusqlite_version_bump(&path), 7);
    let err = BlobStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownSchema { found: 7 }),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sets the schema version to 7 with the sqlite3 API the store itself uses.
fn rusqlite_version_bump(path: &std::path::Path) -> i64 {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection.pragma_update(None, "user_version", 7).unwrap();
    connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

/// A store in `dir` served on `dir/control.sock`.
async fn serve(
    dir: &std::path::Path,
) -> (
    Arc<Mutex<BlobStore>>,
    Endpoint,
    tokio::task::JoinHandle<Result<(), aip_wire::WireError>>,
) {
    let store = Arc::new(Mutex::new(BlobStore::open(&dir.join("store.db")).unwrap()));
    let endpoint = Endpoint::Unix(dir.join("control.sock"));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let server = tokio::spawn(serve_control(
        listener,
        Arc::clone(&store),
        HostMetrics::new(),
    ));
    (store, endpoint, server)
}

#[tokio::test]
async fn the_control_channel_serves_the_store_over_a_socket() {
    let dir = temp_dir("control");
    let (_store, endpoint, server) = serve(&dir).await;

    let mut enclave = Stream::connect(&endpoint).await.unwrap();
    let mut ask = async |request: ControlRequest| -> ControlResponse {
        send(&mut enclave, &request, DEFAULT_FRAME_CAP)
            .await
            .unwrap();
        receive(&mut enclave, DEFAULT_FRAME_CAP)
            .await
            .unwrap()
            .unwrap()
    };
    let record = vec![9u8; 100_000];
    assert_eq!(
        ask(ControlRequest::Put {
            key: "state/s1".into(),
            expected: None,
            version: 1,
            data: record.clone()
        })
        .await,
        ControlResponse::Stored { version: 1 }
    );
    assert_eq!(
        ask(ControlRequest::Put {
            key: "state/s1".into(),
            expected: None,
            version: 2,
            data: vec![]
        })
        .await,
        ControlResponse::Conflict { current: Some(1) }
    );
    assert_eq!(
        ask(ControlRequest::Get {
            key: "state/s1".into()
        })
        .await,
        ControlResponse::Found {
            version: 1,
            data: record
        }
    );
    assert_eq!(
        ask(ControlRequest::Get {
            key: "state/none".into()
        })
        .await,
        ControlResponse::Missing
    );
    let ControlResponse::Failed { reason } = ask(ControlRequest::Get { key: "a b".into() }).await
    else {
        panic!("a bad key must fail")
    };
    assert!(reason.contains("only A-Z"), "{reason}");
    assert_eq!(ask(ControlRequest::Health).await, ControlResponse::Healthy);
    let ControlResponse::Time { unix_ms } = ask(ControlRequest::Time).await else {
        panic!()
    };
    assert!(unix_ms > 1_700_000_000_000);

    // A garbage frame ends that connection; the store is unchanged and serves a new one.
    aip_wire::frame::write_frame(&mut enclave, b"{\"op\":\"drop\"}", DEFAULT_FRAME_CAP)
        .await
        .unwrap();
    let closed: Option<ControlResponse> = receive(&mut enclave, DEFAULT_FRAME_CAP)
        .await
        .unwrap_or(None);
    assert!(closed.is_none());
    let mut again = Stream::connect(&endpoint).await.unwrap();
    send(
        &mut again,
        &ControlRequest::List {
            prefix: "state/".into(),
        },
        DEFAULT_FRAME_CAP,
    )
    .await
    .unwrap();
    let listed: ControlResponse = receive(&mut again, DEFAULT_FRAME_CAP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        listed,
        ControlResponse::Keys {
            entries: vec![KeyVersion {
                key: "state/s1".into(),
                version: 1
            }]
        }
    );
    server.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Requests committed together: each write is its own compare-and-set (a refused or invalid
/// one leaves the others), reads see the group's earlier writes, and all of it is kept.
#[test]
fn a_group_runs_each_request_on_its_own_terms_under_one_commit() {
    let dir = temp_dir("group");
    let path = dir.join("store.db");
    let mut store = BlobStore::open(&path).unwrap();
    store.put("state/a", None, 1, b"one").unwrap();
    /// (key, expected, version, data, outcome: Ok(PutOutcome) or Err(()) for a refusal)
    type Row<'a> = (&'a str, Option<u64>, u64, &'a [u8], Result<PutOutcome, ()>);
    let table: [Row; 6] = [
        (
            "state/a",
            Some(1),
            2,
            b"two",
            Ok(PutOutcome::Stored { version: 2 }),
        ),
        // The group's own write is what the next one is compared with.
        (
            "state/a",
            Some(1),
            3,
            b"x",
            Ok(PutOutcome::Conflict { current: Some(2) }),
        ),
        ("state/a b", None, 1, b"x", Err(())),
        ("state/a", Some(2), 2, b"x", Err(())),
        (
            "state/b",
            None,
            1,
            b"bee",
            Ok(PutOutcome::Stored { version: 1 }),
        ),
        (
            "state/a",
            Some(2),
            3,
            b"three",
            Ok(PutOutcome::Stored { version: 3 }),
        ),
    ];
    let (outcomes, seen) = store
        .group(|group| {
            let outcomes: Vec<_> = table
                .iter()
                .map(|(key, expected, version, data, _)| {
                    group.put(key, *expected, *version, data).map_err(|_| ())
                })
                .collect();
            (outcomes, group.get("state/b").unwrap())
        })
        .unwrap();
    for ((key, _, version, _, expected), outcome) in table.iter().zip(&outcomes) {
        assert_eq!(outcome, expected, "{key} {version}");
    }
    assert_eq!(seen, Some((1, b"bee".to_vec())));
    drop(store);
    let store = BlobStore::open(&path).unwrap();
    assert_eq!(store.get("state/a").unwrap(), Some((3, b"three".to_vec())));
    assert_eq!(store.get("state/b").unwrap(), Some((1, b"bee".to_vec())));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Many connections writing one record at once through the committer: every version is
/// stored exactly once (no two writers both told `Stored` for it), a conflict names another
/// version than the writer's, and the record ends as the last write left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connections_keep_compare_and_set() {
    const WRITERS: usize = 12;
    const EACH: usize = 15;
    let dir = temp_dir("concurrent");
    let (store, endpoint, server) = serve(&dir).await;
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let endpoint = endpoint.clone();
        writers.spawn(async move {
            let mut stream = Stream::connect(&endpoint).await.unwrap();
            let mut stored = Vec::new();
            let mut known: Option<u64> = None;
            while stored.len() < EACH {
                let version = known.unwrap_or(0) + 1;
                let request = ControlRequest::Put {
                    key: "state/shared".into(),
                    expected: known,
                    version,
                    data: format!("{writer}:{version}").into_bytes(),
                };
                send(&mut stream, &request, DEFAULT_FRAME_CAP)
                    .await
                    .unwrap();
                match receive(&mut stream, DEFAULT_FRAME_CAP)
                    .await
                    .unwrap()
                    .unwrap()
                {
                    ControlResponse::Stored { version: v } => {
                        assert_eq!(v, version);
                        stored.push(version);
                        known = Some(version);
                    }
                    ControlResponse::Conflict { current } => {
                        assert_ne!(current, known, "a conflict names another version");
                        known = current;
                    }
                    other => panic!("{other:?}"),
                }
            }
            (writer, stored)
        });
    }
    let mut versions = std::collections::BTreeMap::new();
    while let Some(done) = writers.join_next().await {
        let (writer, stored) = done.unwrap();
        for version in stored {
            assert!(
                versions.insert(version, writer).is_none(),
                "version {version} stored twice"
            );
        }
    }
    let total = (WRITERS * EACH) as u64;
    assert_eq!(
        versions.keys().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let last = versions[&total];
    assert_eq!(
        store.lock().unwrap().get("state/shared").unwrap(),
        Some((total, format!("{last}:{total}").into_bytes()))
    );
    server.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}
