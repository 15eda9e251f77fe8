//! The host's blob store served on a control socket, in-process (real SQLite, real socket).

use std::sync::{Arc, Mutex};

use aip_host::control_server::serve_control;
use aip_host::metrics::HostMetrics;
use aip_host::store::BlobStore;
use aip_wire::{Endpoint, Listener};

/// A store under `dir` on `dir/control.sock`; the raw store for tests that tamper with it.
pub async fn control_channel(dir: &std::path::Path) -> (Endpoint, Arc<Mutex<BlobStore>>) {
    let control = Endpoint::Unix(dir.join("control.sock"));
    let blobs = Arc::new(Mutex::new(BlobStore::open(&dir.join("store.db")).unwrap()));
    let listener = Listener::bind(&control).await.unwrap();
    tokio::spawn(serve_control(
        listener,
        Arc::clone(&blobs),
        HostMetrics::new(),
    ));
    (control, blobs)
}
