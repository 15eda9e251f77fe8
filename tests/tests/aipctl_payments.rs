#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The README's payment walkthrough with the `aipctl` binary against the real stack (Lit
//! devnet, Solana devnet, aip-host, aip-enclave): create a session key on the "device",
//! enable autonomy, open a session, pay 5 USDC, hit the daily cap, revoke; then a key
//! without autonomy whose payment the device signs, and a recipient outside the allowlist.

use std::process::{Command, Output};

use aip_tests::payments::{fresh_address, PayingStack, PASSWORD, USDC};
use solana_address::Address;

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

struct Cli<'a> {
    paying: &'a PayingStack,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Output {
        let stack = &self.paying.stack;
        Command::new(&stack.binaries.aipctl)
            .args(args)
            .env("AIP_URL", format!("tcp:{}", stack.public))
            .env("AIP_PIN", hex::encode(self.paying.pin))
            .env("AIP_CLIENT_DIR", &stack.dir)
            .env("AIP_API_KEY", &self.paying.api_key)
            .env("AIP_SESSION_PASSWORD", PASSWORD)
            .output()
            .expect("run aipctl")
    }

    /// Runs and expects success; the JSON on standard output.
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aipctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "aipctl {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs and expects the signer's refusal (exit 3) naming `code`.
    fn refused(&self, args: &[&str], code: &str) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "aipctl {args:?}: {stderr}");
        assert!(stderr.contains(code), "aipctl {args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_with_aipctl() {
    let paying = PayingStack::start("aipctl").await;
    let dir = paying.stack.dir.clone();
    let (cert, key) = paying.stack.client_pem();
    std::fs::write(dir.join("client.pem"), cert).unwrap();
    std::fs::write(dir.join("client.key"), key).unwrap();
    let cli = Cli { paying: &paying };
    let key_file = dir.join("session.json");
    let key_file = key_file.to_str().unwrap();

    let created = cli.json(&[
        "session-key",
        "create",
        "--key-file",
        key_file,
        "--max-per-tx",
        "10",
        "--per-day",
        "20",
        "--expires-in",
        "7d",
        "--json",
    ]);
    let id = created["id"].as_str().unwrap().to_owned();
    let wallet: Address = created["public_key"].as_str().unwrap().parse().unwrap();
    let file = std::fs::read_to_string(key_file).unwrap();
    assert!(
        file.contains(&id) && file.contains("encrypted_blob"),
        "{file}"
    );
    paying.rpc().usdc_airdrop(&wallet, 100 * USDC).unwrap();

    let enabled = cli.json(&[
        "session-key",
        "enable-autonomy",
        "--key-file",
        key_file,
        "--max-total",
        "40",
        "--expires-in",
        "7d",
        "--json",
    ]);
    assert_eq!(enabled["autonomy"]["max_total"], 40 * USDC);
    cli.json(&[
        "session",
        "create",
        "--session-key",
        &id,
        "--agent",
        "shopping-agent",
        "--max-per-tx",
        "10",
        "--per-day",
        "20",
        "--expires-in",
        "7d",
        "--json",
    ]);

    let recipient = fresh_address().to_string();
    let pay_as = |agent: &str, amount: &str| -> Vec<String> {
        [
            "pay",
            "--session-key",
            &id,
            "--agent",
            agent,
            "--to",
            &recipient,
            "--amount",
            amount,
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let pay = |amount: &str| pay_as("shopping-agent", amount);
    let paid = cli.json(&args(&pay("5")));
    assert_eq!(paid["status"], "confirmed", "{paid}");
    assert_eq!(paying.usdc_of(&recipient.parse().unwrap()), 5 * USDC);
    assert_eq!(cli.json(&args(&pay("10")))["status"], "confirmed");
    cli.refused(&args(&pay("10")), "daily_cap");
    let sessions = cli.json(&["session", "list", "--session-key", &id, "--json"]);
    assert_eq!(sessions[0]["spent"]["day"], 15 * USDC);
    assert_eq!(sessions[0]["remaining"]["day"], 5 * USDC);
    // A second agent under the same key: its own session allows $20 today, the key the user
    // signed allows $20 a day in all, $15 of it spent.
    cli.json(&[
        "session",
        "create",
        "--session-key",
        &id,
        "--agent",
        "travel-agent",
        "--max-per-tx",
        "10",
        "--per-day",
        "20",
        "--expires-in",
        "7d",
        "--json",
    ]);
    cli.refused(&args(&pay_as("travel-agent", "10")), "daily_cap");
    let paid = cli.json(&args(&pay_as("travel-agent", "5")));
    assert_eq!(paid["status"], "confirmed", "{paid}");
    cli.refused(&args(&pay_as("travel-agent", "1")), "daily_cap");
    assert_eq!(paying.usdc_of(&recipient.parse().unwrap()), 20 * USDC);

    let revoked = cli.json(&["session-key", "revoke", "--id", &id, "--json"]);
    assert_eq!(revoked["session_key_id"], id.as_str());
    cli.refused(&args(&pay("1")), "session_revoked");
    let report = cli.json(&["analytics", "--period-days", "1", "--json"]);
    let agents = &report["agents"];
    assert_eq!(agents[0]["agent_id"], "shopping-agent");
    assert_eq!(agents[0]["success_rate"], 1.0);
    assert_eq!(
        (agents[0]["payments"].as_u64(), agents[0]["volume"].as_u64()),
        (Some(2), Some(15 * USDC))
    );
    assert_eq!(paying.usdc_of(&recipient.parse().unwrap()), 20 * USDC);

    // Without autonomy the device signs: aipctl opens the key file with the password.
    let device_file = dir.join("device.json");
    let device_file = device_file.to_str().unwrap();
    let device = cli.json(&[
        "session-key",
        "create",
        "--key-file",
        device_file,
        "--max-per-tx",
        "10",
        "--expires-in",
        "1d",
        "--json",
    ]);
    let device_id = device["id"].as_str().unwrap().to_owned();
    let device_wallet: Address = device["public_key"].as_str().unwrap().parse().unwrap();
    paying
        .rpc()
        .usdc_airdrop(&device_wallet, 50 * USDC)
        .unwrap();
    paying.rpc().airdrop(&device_wallet, 1_000_000_000).unwrap();
    cli.json(&[
        "session",
        "create",
        "--session-key",
        &device_id,
        "--agent",
        "device-agent",
        "--max-per-tx",
        "10",
        "--expires-in",
        "1d",
        "--recipient",
        &recipient,
        "--fees",
        "session",
        "--json",
    ]);
    let signed = cli.json(&[
        "pay",
        "--session-key",
        &device_id,
        "--agent",
        "device-agent",
        "--to",
        &recipient,
        "--amount",
        "2.5",
        "--key-file",
        device_file,
        "--json",
    ]);
    assert_eq!(signed["status"], "confirmed", "{signed}");
    assert_eq!(paying.usdc_of(&recipient.parse().unwrap()), 22_500_000);
    // A recipient outside the session's allowlist is refused; nothing moves.
    let stranger = fresh_address().to_string();
    cli.refused(
        &[
            "pay",
            "--session-key",
            &device_id,
            "--agent",
            "device-agent",
            "--to",
            &stranger,
            "--amount",
            "1",
        ],
        "recipient_not_allowed",
    );
    assert_eq!(paying.usdc_of(&stranger.parse().unwrap()), 0);
}
