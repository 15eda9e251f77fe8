//! A lying Solana RPC endpoint: HTTPS under the devnet CA (so the enclave's TLS accepts it,
//! as it would accept any real provider the operator configured), forwarding JSON-RPC to a
//! real devnet endpoint and rewriting the answers its mode says. It plays the RPC provider,
//! or a host that controls one, in the hostile-host tests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};

use crate::devnet::{devnet_binary, DevnetCa};

/// What the endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcLie {
    /// Forwards faithfully.
    Honest,
    /// Hides the wallet's history: no signatures, no transactions, every status unknown.
    HideHistory,
    /// Closes every connection (an endpoint the host blocks or that is down).
    Down,
    /// Answers honestly, but accepts every `sendTransaction` without forwarding it (a
    /// provider that drops transactions, or a congested leader that never sees them).
    DropSends,
    /// Answers itself, hiding the history, under a certificate of another CA: a host that
    /// redirects the egress connection to a server of its own.
    Impostor,
    /// Serves every transaction it is asked for with this signature added to it (the
    /// message's first unsigned account made a signer, so the bytes still decode): a debit
    /// dressed as a payment the signer already knows, so that reconciliation would skip it.
    Tag([u8; 64]),
    /// Answers honestly but says every address holds these lamports.
    Balance(u64),
    /// Answers honestly but says every transaction that landed failed (in its status and in
    /// the transaction's metadata).
    ReportFailed,
    /// Lists the wallet's history but serves no transaction (`getTransaction` answers null):
    /// an endpoint whose transaction store lags its signature index.
    Lag,
    /// Answers honestly but lists, first in every history, a signature no transaction has
    /// ([`INVENTED`]).
    Invent,
}

/// The signature [`RpcLie::Invent`] lists.
const INVENTED: [u8; 64] = [7; 64];

impl RpcLie {
    /// [`RpcLie::Tag`] with `signature` (base58, as the signer's answers give it).
    pub fn tag(signature: &str) -> Self {
        let bytes = bs58::decode(signature)
            .into_vec()
            .expect("a base58 signature");
        Self::Tag(bytes.try_into().expect("a 64-byte signature"))
    }
}

#[derive(Debug)]
struct Shared {
    mode: Mutex<RpcLie>,
    /// Woken when the endpoint goes down or is replaced by an impostor: open connections are
    /// cut then, as a host that stops relaying cuts them (clients keep connections open).
    cut: tokio::sync::Notify,
    lies: AtomicUsize,
    upstream: String,
    agent: ureq::Agent,
}

/// A running lying endpoint.
#[derive(Debug, Clone)]
pub struct LyingRpc {
    pub address: SocketAddr,
    shared: Arc<Shared>,
}

impl LyingRpc {
    /// Serves on a free loopback port, forwarding to `upstream` (a devnet URL under `ca`).
    pub fn start(ca: &DevnetCa, upstream: &str) -> Self {
        let acceptor = acceptor_under(&ca.dir, "lying-rpc");
        // Another CA, which the enclave does not trust, for the impostor.
        let impostor_ca = DevnetCa::in_dir(&ca.dir.join("impostor-ca"));
        let impostor = acceptor_under(&impostor_ca.dir, "impostor-rpc");
        let shared = Arc::new(Shared {
            mode: Mutex::new(RpcLie::Honest),
            cut: tokio::sync::Notify::new(),
            lies: AtomicUsize::new(0),
            upstream: upstream.to_owned(),
            agent: ca.agent(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let serving = Arc::clone(&shared);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = match serving.mode() {
                        RpcLie::Down => {
                            drop(tcp);
                            continue;
                        }
                        RpcLie::Impostor => impostor.clone(),
                        RpcLie::Honest
                        | RpcLie::HideHistory
                        | RpcLie::DropSends
                        | RpcLie::Tag(_)
                        | RpcLie::Balance(_)
                        | RpcLie::ReportFailed
                        | RpcLie::Lag
                        | RpcLie::Invent => acceptor.clone(),
                    };
                    let shared = Arc::clone(&serving);
                    let shared_for_cut = Arc::clone(&serving);
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let service = hyper::service::service_fn(move |request| {
                            let shared = Arc::clone(&shared);
                            async move { Ok::<_, Infallible>(answer(&shared, request).await) }
                        });
                        let cut = Arc::clone(&shared_for_cut);
                        tokio::select! {
                            _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(tls), service) => {}
                            _ = cut.cut.notified() => {}
                        }
                    });
                }
            });
        });
        Self { address, shared }
    }

    pub fn set(&self, mode: RpcLie) {
        *self.shared.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
        if matches!(mode, RpcLie::Down | RpcLie::Impostor) {
            self.shared.cut.notify_waiters();
        }
    }

    /// Answers rewritten so far.
    pub fn lies(&self) -> usize {
        self.shared.lies.load(Ordering::SeqCst)
    }

    /// `host:port` for configurations.
    pub fn host_port(&self) -> String {
        self.address.to_string()
    }
}

/// A TLS acceptor with a loopback certificate issued by the CA in `dir` (`aip-devnet ca`).
fn acceptor_under(dir: &std::path::Path, name: &str) -> tokio_rustls::TlsAcceptor {
    let name = format!("{name}-{}", std::process::id());
    let status = std::process::Command::new(devnet_binary())
        .args(["ca", "--dir"])
        .arg(dir)
        .args(["--issue", &name])
        .status()
        .expect("run aip-devnet ca --issue");
    assert!(
        status.success(),
        "issuing a certificate under {}",
        dir.display()
    );
    let read = |ext: &str| std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap();
    let certificate = CertificateDer::from_pem_slice(&read("pem")).unwrap();
    let key = PrivateKeyDer::from_pem_slice(&read("key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certificate], key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

impl Shared {
    fn mode(&self) -> RpcLie {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn answer(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if shared.mode() == RpcLie::DropSends && request["method"] == "sendTransaction" {
        shared.lies.fetch_add(1, Ordering::SeqCst);
        return json_response(&json!({
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": first_signature(&request["params"][0]),
        }));
    }
    let forwarding = Arc::clone(shared);
    let forwarded = request.clone();
    let upstream: Value = tokio::task::spawn_blocking(move || {
        forwarding
            .agent
            .post(&forwarding.upstream)
            .send_json(forwarded)
            .ok()
            .and_then(|r| r.into_json().ok())
            .unwrap_or(Value::Null)
    })
    .await
    .unwrap_or(Value::Null);
    let rewritten = match shared.mode() {
        RpcLie::HideHistory | RpcLie::Impostor => hide_history(&request, upstream, shared),
        RpcLie::Tag(signature) if request["method"] == "getTransaction" => {
            tag_transaction(upstream, &signature, shared)
        }
        RpcLie::Balance(lamports) if request["method"] == "getBalance" => {
            shared.lies.fetch_add(1, Ordering::SeqCst);
            let mut answer = upstream;
            answer["result"]["value"] = json!(lamports);
            answer
        }
        RpcLie::ReportFailed => report_failed(&request, upstream, shared),
        RpcLie::Lag if request["method"] == "getTransaction" => {
            shared.lies.fetch_add(1, Ordering::SeqCst);
            let mut answer = upstream;
            answer["result"] = Value::Null;
            answer
        }
        RpcLie::Invent if request["method"] == "getSignaturesForAddress" => {
            invent_signature(upstream, shared)
        }
        RpcLie::Honest
        | RpcLie::Down
        | RpcLie::DropSends
        | RpcLie::Tag(_)
        | RpcLie::Balance(_)
        | RpcLie::Lag
        | RpcLie::Invent => upstream,
    };
    json_response(&rewritten)
}

fn json_response(body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// The first signature (base58) of a base64 wire transaction with fewer than 128 signatures,
/// as a cluster answers `sendTransaction`.
fn first_signature(encoded: &Value) -> Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_str().unwrap_or_default())
        .unwrap_or_default();
    match bytes.get(1..65) {
        Some(signature) => json!(bs58::encode(signature).into_string()),
        None => Value::Null,
    }
}

fn hide_history(request: &Value, mut answer: Value, shared: &Shared) -> Value {
    let lie = match request["method"].as_str() {
        Some("getSignaturesForAddress") => Some(json!([])),
        Some("getTransaction") => Some(Value::Null),
        Some("getSignatureStatuses") => {
            let count = request["params"][0].as_array().map_or(1, Vec::len);
            let mut result = answer["result"].clone();
            result["value"] = Value::Array(vec![Value::Null; count]);
            Some(result)
        }
        _ => None,
    };
    if let Some(lie) = lie {
        shared.lies.fetch_add(1, Ordering::SeqCst);
        answer["result"] = lie;
    }
    answer
}

/// `answer` (a base64 `getTransaction` result) with `signature` added: the signature count
/// and the message's required signatures each one more, so the first unsigned account reads
/// as a signer and the new signature as its. The message changes, so no signature in it
/// verifies any more; only a reader that checks them notices.
fn tag_transaction(mut answer: Value, signature: &[u8; 64], shared: &Shared) -> Value {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let Some(wire) = answer["result"]["transaction"][0]
        .as_str()
        .and_then(|t| engine.decode(t).ok())
    else {
        return answer;
    };
    // One-byte signature count (fewer than 128), then the signatures, then the message (a
    // version prefix byte first when it is versioned), whose first byte is the count of
    // required signatures.
    let count = usize::from(wire.first().copied().unwrap_or(0x80));
    let message_at = 1 + 64 * count;
    if count >= 0x80 || wire.len() <= message_at + 1 {
        return answer;
    }
    let header_at = message_at + usize::from(wire[message_at] & 0x80 != 0);
    let mut tagged = vec![wire[0] + 1];
    tagged.extend_from_slice(&wire[1..message_at]);
    tagged.extend_from_slice(signature);
    let mut message = wire[message_at..].to_vec();
    message[header_at - message_at] += 1;
    tagged.extend_from_slice(&message);
    shared.lies.fetch_add(1, Ordering::SeqCst);
    answer["result"]["transaction"][0] = json!(engine.encode(tagged));
    answer
}

/// `answer` with every landed transaction's error set to a custom program error.
fn report_failed(request: &Value, mut answer: Value, shared: &Shared) -> Value {
    let failure = json!({"InstructionError": [0, {"Custom": 1}]});
    match request["method"].as_str() {
        Some("getSignatureStatuses") => {
            if let Some(statuses) = answer["result"]["value"].as_array_mut() {
                for status in statuses.iter_mut().filter(|s| !s.is_null()) {
                    status["err"] = failure.clone();
                    status["status"] = json!({"Err": failure});
                    shared.lies.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        Some("getTransaction") if !answer["result"].is_null() => {
            answer["result"]["meta"]["err"] = failure;
            shared.lies.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    }
    answer
}

/// `answer` (a `getSignaturesForAddress` page) with [`INVENTED`] listed first, as the newest.
fn invent_signature(mut answer: Value, shared: &Shared) -> Value {
    let Some(list) = answer["result"].as_array_mut() else {
        return answer;
    };
    let newest = list.first().cloned().unwrap_or_else(|| json!({"slot": 1}));
    let mut invented = newest;
    invented["signature"] = json!(bs58::encode(INVENTED).into_string());
    invented["err"] = Value::Null;
    invented["blockTime"] = json!(crate::unix_now());
    list.insert(0, invented);
    shared.lies.fetch_add(1, Ordering::SeqCst);
    answer
}
