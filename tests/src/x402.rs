//! x402's side of a payment, run for real: the reference facilitator (`@x402/svm`'s
//! `ExactSvmScheme`, under Node, tests/x402/facilitator.mjs) verifying and settling the
//! signer's payloads on the Solana devnet, and a small resource server that answers 402 until
//! it is paid.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{json, Value};
use solana_address::Address;

use crate::payments::PayingStack;

/// The CAIP-2 id the test stacks give their Solana devnet (it stands in for Solana's devnet).
pub const NETWORK: &str = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";

/// The `[solana]` line that lets a stack pay x402 requirements on [`NETWORK`].
pub const X402_CONFIG: &str = "x402_network = \"solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1\"";

/// A facilitator: its fee-payer key, funded on the devnet.
#[derive(Clone)]
pub struct Facilitator {
    secret: [u8; 64],
    pub address: Address,
    rpc_url: String,
    devnet_ca: PathBuf,
}

impl std::fmt::Debug for Facilitator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facilitator")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("x402")
}

impl Facilitator {
    /// A fresh fee payer with 1 SOL.
    pub fn funded(paying: &PayingStack) -> Self {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let address = Address::new_from_array(key.verifying_key().to_bytes());
        paying.rpc().airdrop(&address, 1_000_000_000).unwrap();
        Self {
            secret: key.to_keypair_bytes(),
            address,
            rpc_url: paying.rpc().url().to_owned(),
            devnet_ca: paying.stack.devnet_ca.dir.join("ca.pem"),
        }
    }

    /// x402's `verify` of `payload` against `requirements` (its VerifyResponse).
    pub fn verify(&self, payload: &Value, requirements: &Value) -> Value {
        self.run("verify", payload, requirements)
    }

    /// x402's `settle`: signs as the fee payer and sends (its SettleResponse).
    pub fn settle(&self, payload: &Value, requirements: &Value) -> Value {
        self.run("settle", payload, requirements)
    }

    fn run(&self, command: &str, payload: &Value, requirements: &Value) -> Value {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules/@x402/svm").exists(),
            "x402's packages are not installed: run `npm ci --prefix tests/x402` (scripts/test does)"
        );
        let request = json!({
            "command": command,
            "payload": payload,
            "requirements": requirements,
            "rpc_url": self.rpc_url,
            "fee_payer_secret": self.secret.to_vec(),
        });
        let mut child = Command::new("node")
            .arg(dir.join("facilitator.mjs"))
            .env("NODE_EXTRA_CA_CERTS", &self.devnet_ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run node (tests/x402/facilitator.mjs)");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(request.to_string().as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "x402's facilitator failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "x402's facilitator answered {:?}: {e}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}

/// A resource server for one resource: 402 with x402 v2 requirements (the `PAYMENT-REQUIRED`
/// header) until a request carries a `PAYMENT-SIGNATURE` that x402's facilitator verifies and
/// settles, then the resource with the settlement in `PAYMENT-RESPONSE`. Stops when dropped.
#[derive(Debug)]
pub struct ResourceServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ResourceServer {
    /// Serves `body` at `/resource` for what `required` (a PaymentRequired document) asks.
    pub async fn start(facilitator: Facilitator, required: Value, body: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/resource", listener.local_addr().unwrap());
        let shared = std::sync::Arc::new((facilitator, required));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let shared = std::sync::Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = std::sync::Arc::clone(&shared);
                        async move {
                            let (facilitator, required) = &*shared;
                            Ok::<_, std::convert::Infallible>(
                                answer(facilitator.clone(), required.clone(), &request, body).await,
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, task }
    }
}

fn encode(value: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

async fn answer(
    facilitator: Facilitator,
    required: Value,
    request: &hyper::Request<hyper::body::Incoming>,
    body: &'static str,
) -> hyper::Response<http_body_util::Full<hyper::body::Bytes>> {
    let respond = |status: u16, headers: Vec<(&str, String)>, text: String| {
        let mut response = hyper::Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(name, value);
        }
        response
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(text)))
            .unwrap()
    };
    let ask = |error: &str| {
        let mut document = required.clone();
        document["error"] = json!(error);
        respond(
            402,
            vec![("PAYMENT-REQUIRED", encode(&document))],
            "{}".into(),
        )
    };
    let Some(header) = request.headers().get("PAYMENT-SIGNATURE") else {
        return ask("PAYMENT-SIGNATURE header is required");
    };
    let Some(payload) = header
        .to_str()
        .ok()
        .and_then(|h| base64::engine::general_purpose::STANDARD.decode(h).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    else {
        return ask("the PAYMENT-SIGNATURE header does not decode");
    };
    // The requirement the payment says it accepted must be one this resource offers.
    let requirements = payload["accepted"].clone();
    let offered = required["accepts"]
        .as_array()
        .is_some_and(|a| a.contains(&requirements));
    if !offered {
        return ask("the payment accepted requirements this resource does not offer");
    }
    let settled = tokio::task::spawn_blocking(move || {
        let verified = facilitator.verify(&payload, &requirements);
        if verified["isValid"] != json!(true) {
            return verified;
        }
        facilitator.settle(&payload, &requirements)
    })
    .await
    .unwrap();
    if settled["success"] != json!(true) {
        return ask(&format!("payment refused: {settled}"));
    }
    respond(
        200,
        vec![("PAYMENT-RESPONSE", encode(&settled))],
        body.to_owned(),
    )
}
