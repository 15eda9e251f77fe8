#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Framing over real sockets (TCP and Unix), the cap, truncation, write chunking, endpoints
//! and control messages.

use std::pin::Pin;
use std::task::{Context, Poll};

use aip_wire::control::{receive, send, ControlRequest, ControlResponse};
use aip_wire::egress::EgressReply;
use aip_wire::frame::{read_frame, write_frame, MAX_WRITE_CHUNK};
use aip_wire::{Endpoint, Listener, Stream, WireError};
use tokio::io::{AsyncWrite, AsyncWriteExt};

async fn echo_round_trip(endpoint: &Endpoint) {
    let listener = Listener::bind(endpoint).await.unwrap();
    let bound = listener.local_endpoint().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        while let Some(frame) = read_frame(&mut stream, 4 << 20).await.unwrap() {
            write_frame(&mut stream, &frame, 4 << 20).await.unwrap();
        }
    });
    let mut client = Stream::connect(&bound).await.unwrap();
    for size in [0usize, 1, MAX_WRITE_CHUNK, MAX_WRITE_CHUNK + 1, 3 << 20] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        write_frame(&mut client, &payload, 4 << 20).await.unwrap();
        let back = read_frame(&mut client, 4 << 20).await.unwrap().unwrap();
        assert_eq!(back, payload, "size {size}");
    }
    client.shutdown().await.unwrap();
    drop(client);
    server.await.unwrap();
}

#[tokio::test]
async fn frames_round_trip_over_tcp_and_unix() {
    echo_round_trip(&"tcp:127.0.0.1:0".parse().unwrap()).await;
    let dir = std::env::temp_dir().join(format!("aip-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    echo_round_trip(&Endpoint::Unix(path.clone())).await;
    // A stale socket from an earlier run is replaced; a regular file is not touched.
    echo_round_trip(&Endpoint::Unix(path.clone())).await;
    let file = dir.join("not-a-socket");
    std::fs::write(&file, b"keep").unwrap();
    let err = Listener::bind(&Endpoint::Unix(file.clone()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a socket"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Records the largest single write.
#[derive(Default)]
struct Recorder {
    bytes: Vec<u8>,
    largest_write: usize,
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.largest_write = self.largest_write.max(buf.len());
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn writes_stay_below_32_kib_and_the_cap_is_enforced_both_ways() {
    let mut recorder = Recorder::default();
    let payload = vec![7u8; 200_000];
    write_frame(&mut recorder, &payload, 1 << 20).await.unwrap();
    assert!(
        recorder.largest_write < 32 * 1024,
        "{}",
        recorder.largest_write
    );
    assert_eq!(&recorder.bytes[..4], &200_000u32.to_be_bytes());
    assert_eq!(recorder.bytes.len(), 200_004);

    // The writer refuses a payload over the cap and writes nothing.
    let mut refused = Recorder::default();
    let err = write_frame(&mut refused, &payload, 1000).await.unwrap_err();
    assert!(matches!(
        err,
        WireError::FrameTooLarge {
            length: 200_000,
            cap: 1000
        }
    ));
    assert!(refused.bytes.is_empty());

    // The reader refuses a 4 GiB announcement from the header alone (nothing follows it, so
    // any attempt to allocate and read the body would end as Truncated instead).
    let mut announce: &[u8] = &u32::MAX.to_be_bytes();
    let err = read_frame(&mut announce, 1 << 20).await.unwrap_err();
    assert!(matches!(
        err,
        WireError::FrameTooLarge {
            length: 4_294_967_295,
            ..
        }
    ));
}

#[tokio::test]
async fn truncation_and_clean_close_are_told_apart() {
    let mut empty: &[u8] = &[];
    assert!(read_frame(&mut empty, 100).await.unwrap().is_none());
    let mut half_header: &[u8] = &[0, 0];
    assert!(matches!(
        read_frame(&mut half_header, 100).await.unwrap_err(),
        WireError::Truncated {
            read: 2,
            expected: 4
        }
    ));
    let mut short_body: &[u8] = &[0, 0, 0, 10, 1, 2, 3];
    assert!(matches!(
        read_frame(&mut short_body, 100).await.unwrap_err(),
        WireError::Truncated {
            read: 3,
            expected: 10
        }
    ));
}

#[test]
fn endpoints_parse_print_and_refuse() {
    for text in [
        "vsock:16:5000",
        "tcp:127.0.0.1:8443",
        "tcp:[::1]:9",
        "unix:/run/aip/control.sock",
    ] {
        let endpoint: Endpoint = text.parse().unwrap();
        assert_eq!(endpoint.to_string(), text);
    }
    assert_eq!(
        "vsock:3:7000".parse::<Endpoint>().unwrap(),
        Endpoint::Vsock { cid: 3, port: 7000 }
    );
    for (text, needle) in [
        ("localhost:80", "unknown scheme"),
        ("tcp:localhost:80", "IP address"),
        ("vsock:3", "vsock:CID:PORT"),
        ("vsock:x:1", "CID"),
        ("vsock:3:99999999999", "port"),
        ("unix:", "empty"),
        ("8443", "expected"),
    ] {
        let err = text.parse::<Endpoint>().unwrap_err().to_string();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[tokio::test]
async fn control_messages_round_trip_and_unknown_fields_are_refused() {
    let requests = [
        ControlRequest::Put {
            key: "state/ledger/00000001".into(),
            expected: None,
            version: 1,
            data: vec![0, 255, 1, 2],
        },
        ControlRequest::Get { key: "k".into() },
        ControlRequest::List {
            prefix: "state/".into(),
        },
        ControlRequest::Time,
        ControlRequest::Health,
    ];
    for request in &requests {
        let mut buffer = Vec::new();
        send(&mut buffer, request, 1 << 20).await.unwrap();
        let mut reader: &[u8] = &buffer;
        let back: ControlRequest = receive(&mut reader, 1 << 20).await.unwrap().unwrap();
        assert_eq!(&back, request);
    }
    let json = serde_json::to_string(&requests[0]).unwrap();
    assert_eq!(
        json,
        r#"{"op":"put","key":"state/ledger/00000001","expected":null,"version":1,"data":"AP8BAg=="}"#
    );
    for bad in [
        r#"{"op":"get","key":"k","extra":1}"#,
        r#"{"op":"drop_table"}"#,
        r#"{"op":"put","key":"k","expected":null,"version":1,"data":"not base64!"}"#,
    ] {
        assert!(
            serde_json::from_str::<ControlRequest>(bad).is_err(),
            "{bad}"
        );
    }
    let reply: EgressReply =
        serde_json::from_str(r#"{"result":"refused","reason":"not allowed"}"#).unwrap();
    assert_eq!(
        reply,
        EgressReply::Refused {
            reason: "not allowed".into()
        }
    );
    let conflict: ControlResponse =
        serde_json::from_str(r#"{"result":"conflict","current":3}"#).unwrap();
    assert_eq!(conflict, ControlResponse::Conflict { current: Some(3) });
}
