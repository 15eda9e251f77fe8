//! The host store as the enclave's control channel reaches it: length-prefixed frames, each a
//! JSON request, answered by the host's own `answer` over a real (in-memory) SQLite store.
//! A model of what was stored checks every answer: a write lands only on the expected
//! version, a conflict reports the current one, reads and listings return exactly what
//! landed. A hostile enclave-side peer is not the threat (the enclave is trusted); the point
//! is that no frame makes the host panic, lose a record or answer inconsistently.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use aip_host::control_server::answer;
use aip_host::store::BlobStore;
use aip_wire::control::{ControlRequest, ControlResponse, KeyVersion};
use aip_wire::frame::{read_frame, DEFAULT_FRAME_CAP};

/// The frames of `stream`, as the host reads them, up to the first error or the clean end.
fn frames(mut stream: &[u8]) -> Vec<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let mut frames = Vec::new();
        while let Ok(Some(frame)) = read_frame(&mut stream, DEFAULT_FRAME_CAP).await {
            frames.push(frame);
        }
        frames
    })
}

/// What the store holds, as the answers so far say.
type Model = BTreeMap<String, (u64, Vec<u8>)>;

/// Checks `response` to `request` against the model, and updates it.
fn check_answer(model: &mut Model, request: &ControlRequest, response: &ControlResponse) {
    match (request, response) {
        (
            ControlRequest::Put {
                key,
                expected,
                version,
                data,
            },
            response,
        ) => {
            let current = model.get(key).map(|(v, _)| *v);
            match response {
                ControlResponse::Stored { version: stored } => {
                    assert_eq!(current, *expected, "stored over another version");
                    assert_eq!(stored, version);
                    assert!(*version > expected.unwrap_or(0), "version not increasing");
                    model.insert(key.clone(), (*version, data.clone()));
                }
                ControlResponse::Conflict { current: reported } => {
                    assert_eq!(*reported, current, "conflict reports another version");
                    assert_ne!(current, *expected, "conflict on the expected version");
                }
                ControlResponse::Failed { .. } => {}
                other => panic!("a put answered {other:?}"),
            }
        }
        (ControlRequest::Get { key }, response) => match response {
            ControlResponse::Found { version, data } => {
                assert_eq!(model.get(key), Some(&(*version, data.clone())), "get {key}");
            }
            ControlResponse::Missing => assert!(!model.contains_key(key), "{key} lost"),
            ControlResponse::Failed { .. } => assert!(!model.contains_key(key), "{key} unreadable"),
            other => panic!("a get answered {other:?}"),
        },
        (ControlRequest::List { prefix }, response) => match response {
            ControlResponse::Keys { entries } => {
                let expected: Vec<KeyVersion> = model
                    .iter()
                    .filter(|(key, _)| key.starts_with(prefix.as_str()))
                    .map(|(key, (version, _))| KeyVersion {
                        key: key.clone(),
                        version: *version,
                    })
                    .collect();
                assert_eq!(*entries, expected, "list {prefix:?}");
            }
            ControlResponse::Failed { .. } => {}
            other => panic!("a list answered {other:?}"),
        },
        (ControlRequest::Time, response) => {
            assert!(
                matches!(response, ControlResponse::Time { .. }),
                "{response:?}"
            )
        }
        (ControlRequest::Health, response) => {
            assert_eq!(*response, ControlResponse::Healthy)
        }
        // The host handles these before the store; `answer` refuses them.
        (ControlRequest::Metrics { .. } | ControlRequest::Logs { .. }, response) => {
            assert!(
                matches!(response, ControlResponse::Failed { .. }),
                "{response:?}"
            )
        }
    }
}

/// Any bytes as a stream of frames: each frame that parses as a request round-trips and is
/// answered consistently with every earlier answer; each that parses as an answer (the
/// enclave's side) round-trips.
pub fn check(data: &[u8]) {
    let _ = answers(data);
}

/// The host's answers to the requests in `data`, each checked as [`check`] says.
pub fn answers(data: &[u8]) -> Vec<ControlResponse> {
    let mut answers = Vec::new();
    let store = Mutex::new(BlobStore::open(Path::new(":memory:")).expect("an in-memory store"));
    let mut model = Model::new();
    for frame in frames(data) {
        if let Ok(response) = serde_json::from_slice::<ControlResponse>(&frame) {
            let again = serde_json::to_vec(&response).expect("serialises");
            assert_eq!(
                serde_json::from_slice::<ControlResponse>(&again).ok(),
                Some(response)
            );
        }
        let Ok(request) = serde_json::from_slice::<ControlRequest>(&frame) else {
            continue;
        };
        let again = serde_json::to_vec(&request).expect("serialises");
        assert_eq!(
            serde_json::from_slice::<ControlRequest>(&again)
                .ok()
                .as_ref(),
            Some(&request)
        );
        let response = answer(&store, request.clone());
        check_answer(&mut model, &request, &response);
        answers.push(response);
    }
    answers
}

fn frame(request: &ControlRequest) -> Vec<u8> {
    let body = serde_json::to_vec(request).expect("serialises");
    let mut framed = u32::try_from(body.len())
        .expect("small")
        .to_be_bytes()
        .to_vec();
    framed.extend_from_slice(&body);
    framed
}

/// Sessions of requests as the enclave sends them: writes, a conflict, reads and listings.
pub fn seeds(_testdata: &Path) -> Vec<Vec<u8>> {
    let put = |key: &str, expected, version, data: &[u8]| ControlRequest::Put {
        key: key.into(),
        expected,
        version,
        data: data.to_vec(),
    };
    let sessions = [
        vec![
            put("state/accounts/sk_1", None, 1, b"sealed-1"),
            put("state/accounts/sk_1", Some(1), 2, b"sealed-2"),
            put("state/accounts/sk_1", Some(1), 3, b"stale"),
            ControlRequest::Get {
                key: "state/accounts/sk_1".into(),
            },
            put("state/ledger/000001", None, 1, b"entry"),
            ControlRequest::List {
                prefix: "state/".into(),
            },
            ControlRequest::List {
                prefix: "state/accounts".into(),
            },
        ],
        vec![
            ControlRequest::Health,
            ControlRequest::Time,
            ControlRequest::Get {
                key: "missing".into(),
            },
            put("a..b", None, 1, b"x"),
            put("k", None, 0, b"x"),
            ControlRequest::Logs {
                lines: vec!["{}".into()],
                dropped: 0,
            },
        ],
    ];
    sessions
        .iter()
        .map(|requests| requests.iter().flat_map(frame).collect())
        .collect()
}
