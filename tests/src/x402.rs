//! x402's side of a payment, run for real: the reference facilitator (`@x402/svm`'s
//! `ExactSvmScheme`, under Node, tests/x402/facilitator.mjs) verifying and settling the
//! signer's payloads on the Solana devnet, and a small resource server that answers 402 until
//! it is paid.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use solana_address::Address;

use crate::payments::PayingStack;

/// The CAIP-2 id the test stacks give their Solana devnet (it stands in for Solana's devnet).
pub const NETWORK: &str = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";

/// The `[solana]` line that lets a stack pay x402 requirements on [`NETWORK`].
pub const X402_CONFIG: &str = "x402_network = \"solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1\"";

/// A facilitator: its fee-payer key, funded on the devnet.
pub struct Facilitator {
    secret: [u8; 64],
    pub address: Address,
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
        }
    }

    /// x402's `verify` of `payload` against `requirements` (its VerifyResponse).
    pub fn verify(&self, paying: &PayingStack, payload: &Value, requirements: &Value) -> Value {
        self.run(paying, "verify", payload, requirements)
    }

    /// x402's `settle`: signs as the fee payer and sends (its SettleResponse).
    pub fn settle(&self, paying: &PayingStack, payload: &Value, requirements: &Value) -> Value {
        self.run(paying, "settle", payload, requirements)
    }

    fn run(
        &self,
        paying: &PayingStack,
        command: &str,
        payload: &Value,
        requirements: &Value,
    ) -> Value {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules/@x402/svm").exists(),
            "x402's packages are not installed: run `npm ci --prefix tests/x402` (scripts/test does)"
        );
        let request = json!({
            "command": command,
            "payload": payload,
            "requirements": requirements,
            "rpc_url": paying.rpc().url(),
            "fee_payer_secret": self.secret.to_vec(),
        });
        let mut child = Command::new("node")
            .arg(dir.join("facilitator.mjs"))
            .env(
                "NODE_EXTRA_CA_CERTS",
                paying.stack.devnet_ca.dir.join("ca.pem"),
            )
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
