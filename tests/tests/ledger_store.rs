#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The enclave's ledger in the host's SQLite store over the control socket: appends survive a
//! reload, an entry written before a crash is rolled forward, a second writer is caught, and
//! records never open under another state key.

use std::sync::{Arc, Mutex};

use aip_enclave::ledger::{Ledger, LedgerStoreError};
use aip_enclave::state::host_store::HostStore;
use aip_enclave::state::sealed::{seal, StateKey};
use aip_host::store::BlobStore;
use aip_wire::ledger::{verify_chain, LedgerEntry};

mod common;

async fn host(name: &str) -> (std::path::PathBuf, HostStore, Arc<Mutex<BlobStore>>) {
    let dir = std::env::temp_dir().join(format!("aip-ledger-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (control, blobs) = common::host::control_channel(&dir).await;
    (dir, HostStore::new(control), blobs)
}

#[tokio::test]
async fn appends_survive_reloads_and_crashes_roll_forward() {
    let (dir, store, blobs) = host("roll").await;
    let key = StateKey::generate();
    let mut ledger = Ledger::load(&store, &key).await.unwrap();
    assert_eq!((ledger.seq, ledger.hash), (0, [0; 32]));
    for i in 0..3 {
        ledger
            .append(
                &store,
                &key,
                1000 + i,
                "api_key_created",
                &format!(r#"{{"id":"key_{i}"}}"#),
            )
            .await
            .unwrap();
    }
    let reloaded = Ledger::load(&store, &key).await.unwrap();
    assert_eq!((reloaded.seq, reloaded.hash), (ledger.seq, ledger.hash));
    let exported = reloaded.export(&store, &key, 1, 100).await.unwrap();
    assert_eq!(
        verify_chain((0, [0; 32]), &exported).unwrap(),
        (3, ledger.hash)
    );
    assert_eq!(
        reloaded.export(&store, &key, 3, 100).await.unwrap().len(),
        1
    );
    assert_eq!(reloaded.export(&store, &key, 1, 2).await.unwrap().len(), 2);

    // A crash after writing entry 4 and before moving the head: the next load adopts it.
    let entry = LedgerEntry::next(3, &ledger.hash, 2000, "payment_reserved", r#"{"p":1}"#);
    let record = "ledger/entry/00000000000000000004";
    let sealed = seal(&key, record, 1, &serde_json::to_vec(&entry).unwrap()).unwrap();
    blobs.lock().unwrap().put(record, None, 1, &sealed).unwrap();
    let rolled = Ledger::load(&store, &key).await.unwrap();
    assert_eq!(rolled.seq, 4);
    assert_eq!(hex::encode(rolled.hash), entry.hash);

    // Two enclaves on one store: the second writer's append is refused, not interleaved.
    let mut first = Ledger::load(&store, &key).await.unwrap();
    let mut second = Ledger::load(&store, &key).await.unwrap();
    first.append(&store, &key, 3000, "x", "{}").await.unwrap();
    let err = second
        .append(&store, &key, 3001, "y", "{}")
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerStoreError::Conflict { .. }), "{err}");

    // Under another state key nothing opens.
    let err = Ledger::load(&store, &StateKey::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerStoreError::Sealed(_)), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_entry_that_does_not_link_stops_the_load() {
    let (dir, store, blobs) = host("broken").await;
    let key = StateKey::generate();
    let mut ledger = Ledger::load(&store, &key).await.unwrap();
    ledger.append(&store, &key, 1, "a", "{}").await.unwrap();
    // Entry 2 claims a different predecessor.
    let forged = LedgerEntry::next(1, &[0xee; 32], 2, "b", "{}");
    let record = "ledger/entry/00000000000000000002";
    let sealed = seal(&key, record, 1, &serde_json::to_vec(&forged).unwrap()).unwrap();
    blobs.lock().unwrap().put(record, None, 1, &sealed).unwrap();
    let err = Ledger::load(&store, &key).await.unwrap_err();
    assert!(matches!(err, LedgerStoreError::Broken { seq: 2 }), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
