//! The host store under concurrent writers, over a real Unix socket to real SQLite on disk
//! (WAL, synchronous FULL): writes per second, fsyncs (commits with writes) per write and
//! mean latency, for writers that share one connection (the enclave before it kept several:
//! every write waited for the previous one's fsync) and for writers with a connection each
//! (the committer groups what arrives together under one fsync).
//!
//! `cargo bench -p aip-host --bench store_writes [-- WRITES_PER_WRITER]` (default 200).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aip_host::control_server::serve_control;
use aip_host::metrics::HostMetrics;
use aip_host::store::BlobStore;
use aip_wire::control::{receive, send, ControlRequest, ControlResponse};
use aip_wire::frame::DEFAULT_FRAME_CAP;
use aip_wire::{Endpoint, Listener, Stream};

/// A sealed account record is about this size.
const RECORD_LEN: usize = 2048;

async fn put(stream: &mut Stream, key: &str, version: u64) {
    let request = ControlRequest::Put {
        key: key.into(),
        expected: (version > 1).then_some(version - 1),
        version,
        data: vec![7u8; RECORD_LEN],
    };
    send(stream, &request, DEFAULT_FRAME_CAP).await.unwrap();
    let answer: ControlResponse = receive(stream, DEFAULT_FRAME_CAP).await.unwrap().unwrap();
    assert_eq!(answer, ControlResponse::Stored { version });
}

/// `writers` tasks each writing `each` versions of its own record over `connections`
/// connections (writer i uses connection i mod `connections`, waiting for it when shared).
async fn run(run: usize, writers: usize, connections: usize, each: u64) {
    let dir = std::env::temp_dir().join(format!("aip-store-bench-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(Mutex::new(BlobStore::open(&dir.join("store.db")).unwrap()));
    let endpoint = Endpoint::Unix(dir.join("control.sock"));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let metrics = HostMetrics::new();
    let server = tokio::spawn(serve_control(listener, store, Arc::clone(&metrics)));
    let mut streams = Vec::new();
    for _ in 0..connections {
        let stream = Stream::connect(&endpoint).await.unwrap();
        streams.push(Arc::new(tokio::sync::Mutex::new(stream)));
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let stream = Arc::clone(&streams[writer % connections]);
        tasks.spawn(async move {
            let mut waited = Duration::ZERO;
            for version in 1..=each {
                let at = Instant::now();
                put(
                    &mut *stream.lock().await,
                    &format!("state/w{writer}"),
                    version,
                )
                .await;
                waited += at.elapsed();
            }
            waited
        });
    }
    let mut waited = Duration::ZERO;
    while let Some(done) = tasks.join_next().await {
        waited += done.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let writes = writers as u64 * each;
    println!(
        "{writers:>3} writers on {connections:>2} connection(s): {:>6.0} writes/s, {:.2} fsyncs per write, mean latency {:.2} ms",
        writes as f64 / elapsed,
        metrics.store_groups.get() as f64 / writes as f64,
        waited.as_secs_f64() * 1000.0 / writes as f64,
    );
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; a number is the writes per writer.
    let each = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    println!("host store writes ({RECORD_LEN} B records, {each} per writer, fsynced)");
    let cases = [(1, 1), (16, 1), (16, 8), (16, 16), (64, 8)];
    for (run_no, (writers, connections)) in cases.into_iter().enumerate() {
        run(run_no, writers, connections, each).await;
    }
}
