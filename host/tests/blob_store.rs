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

#[tokio::test]
async fn the_control_channel_serves_the_store_over_a_socket() {
    let dir = temp_dir("control");
    let store = Arc::new(Mutex::new(BlobStore::open(&dir.join("store.db")).unwrap()));
    let endpoint = Endpoint::Unix(dir.join("control.sock"));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let server = tokio::spawn(serve_control(
        listener,
        Arc::clone(&store),
        HostMetrics::new(),
    ));

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
