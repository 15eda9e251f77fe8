//! x402's side of a payment, run for real: the reference facilitator (`@x402/svm`'s
//! `ExactSvmScheme`, under Node, tests/x402/facilitator.mjs) verifying and settling the
//! signer's payloads on the Solana devnet, and a resource that answers 402 until it is paid
//! (the same code behind a small HTTP server).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use solana_address::Address;

use crate::payments::PayingStack;
use crate::service::DEVNET_USDC_MINT;

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

/// A resource behind 402 (tests/x402/resource-server.mjs: x402's own facilitator code behind
/// a small HTTP server), asking `amount` of the devnet's USDC for `pay_to`. Killed on drop.
#[derive(Debug)]
pub struct ResourceServer {
    pub url: String,
    /// The facilitator's fee payer (funded by the server from the devnet).
    pub fee_payer: Address,
    child: std::process::Child,
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ResourceServer {
    pub fn start(paying: &PayingStack, pay_to: &Address, amount: u64, body: &str) -> Self {
        let dir = harness_dir();
        let mut child = Command::new("node")
            .arg(dir.join("resource-server.mjs"))
            .args(["--rpc", paying.rpc().url(), "--pay-to", &pay_to.to_string()])
            .args(["--amount", &amount.to_string(), "--asset", DEVNET_USDC_MINT])
            .args(["--network", NETWORK, "--body", body])
            .env(
                "NODE_EXTRA_CA_CERTS",
                paying.stack.devnet_ca.dir.join("ca.pem"),
            )
            .stdout(Stdio::piped())
            .spawn()
            .expect("run node (tests/x402/resource-server.mjs)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the resource server printed {line:?}: {e}"));
        Self {
            url: started["url"].as_str().unwrap().to_owned(),
            fee_payer: started["fee_payer"].as_str().unwrap().parse().unwrap(),
            child,
        }
    }
}
