#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The measured configuration: a valid one parses, its identity (what a policy pins) is of its
//! values without the allowed-sets hash, and its bound digest covers both; each invalid edit
//! is refused with the field named.

use aip_enclave::config::{MeasuredConfig, Platform};

/// Allowed sets as a policy's canonical JSON has them.
const SETS: &str =
    r#"{"allowDebug":false,"allowMigrationAgent":false,"entries":[{"kind":"nitro","name":"a"}]}"#;

fn valid() -> String {
    let (key, _) = aip_lit::node::deal(2, 3).unwrap();
    format!(
        r#"deployment = "eu-1"
root_api_key_sha256 = "{}"
server_name = "localhost"
platform = "dev"
operator_ca_pem = """
-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----
"""

[transport]
ingress = "unix:/run/aip/ingress.sock"
control = "vsock:3:5001"
egress = "tcp:127.0.0.1:5002"

[egress_tls]
web_pki = true

[lit]
network_public_key = "{}"
threshold = 2
nodes = ["127.0.0.1:7470", "127.0.0.1:7471", "lit-node.example:443"]
action_cid = "QmTestCid"
allowed_sets = '''{}'''

[solana]
rpc = ["rpc-a.example:443", "rpc-b.example:443"]
rpc_quorum = 2
usdc_mints = ["EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"]
"#,
        "cd".repeat(32),
        key.to_hex(),
        SETS
    )
}

#[test]
fn a_valid_config_parses_with_the_digest_of_its_bytes() {
    let text = valid();
    let measured = MeasuredConfig::from_toml(&text).unwrap();
    assert_eq!(measured.config.platform, Platform::Dev);
    assert_eq!(measured.config.max_body_bytes, 64 * 1024);
    assert_eq!(measured.config.lit.node_timeout_ms, 10_000);
    assert_eq!(
        measured.config.lit_nodes()[2],
        ("lit-node.example".to_owned(), 443)
    );
    // The binding carries the identity and the allowed sets' hash together.
    use sha2::Digest;
    let allowed_sets: [u8; 32] = sha2::Sha256::digest(SETS.as_bytes()).into();
    assert_eq!(measured.config.lit.allowed_sets_sha256(), allowed_sets);
    assert_eq!(
        measured.sha256,
        aip_attestation::bound_config_digest(&measured.identity, &allowed_sets)
    );
    // The identity is of the meaning, not the bytes: a comment changes nothing, a value does.
    let commented = MeasuredConfig::from_toml(&format!("# rotated\n{text}")).unwrap();
    assert_eq!(commented.identity, measured.identity);
    let other_node = text.replacen("127.0.0.1:7471", "127.0.0.1:7472", 1);
    assert_ne!(
        MeasuredConfig::from_toml(&other_node).unwrap().identity,
        measured.identity
    );
    // The allowed sets are outside the identity (they are the policy that pins the identity)
    // but inside what is bound.
    let other_sets = text.replacen("\"name\":\"a\"", "\"name\":\"b\"", 1);
    let other_sets = MeasuredConfig::from_toml(&other_sets).unwrap();
    assert_eq!(other_sets.identity, measured.identity);
    assert_ne!(other_sets.sha256, measured.sha256);
    // Payments per release: its default is the identity of a configuration that leaves it
    // out (configurations from before it existed keep theirs); another value is another one.
    assert_eq!(measured.config.lit.payments_per_release, 32);
    let with = |n: usize| {
        let text = text.replacen("[lit]", &format!("[lit]\npayments_per_release = {n}"), 1);
        MeasuredConfig::from_toml(&text).unwrap()
    };
    assert_eq!(with(32).identity, measured.identity);
    assert_ne!(with(1).identity, measured.identity);
    assert_eq!(with(1).config.lit.payments_per_release, 1);
}

#[test]
fn invalid_configs_are_refused_with_the_field() {
    let text = valid();
    for (from, to, needle) in [
        ("threshold = 2", "threshold = 4", "lit.threshold"),
        ("threshold = 2", "threshold = 1", "lit.threshold"),
        ("\"127.0.0.1:7471\"", "\"127.0.0.1:7470\"", "twice"),
        (
            "\"lit-node.example:443\"",
            "\"https://lit-node.example\"",
            "host:port",
        ),
        (
            "\"lit-node.example:443\"",
            "\"lit-node.example:0\"",
            "host:port",
        ),
        (
            "action_cid = \"QmTestCid\"",
            "action_cid = \"ipfs://Qm\"",
            "action_cid",
        ),
        ("platform = \"dev\"", "platform = \"tdx\"", "TOML"),
        (
            "control = \"vsock:3:5001\"",
            "control = \"vsock:3\"",
            "TOML",
        ),
        (
            "server_name = \"localhost\"",
            "server_name = \"\"",
            "server_name",
        ),
        (
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN KEY-----",
            "operator_ca_pem",
        ),
        ("[lit]", "[lit]\nunknown = 1", "TOML"),
        (
            "[lit]",
            "[lit]\npayments_per_release = 0",
            "lit.payments_per_release",
        ),
        (
            "[lit]",
            "[lit]\npayments_per_release = 257",
            "lit.payments_per_release",
        ),
        ("\"entries\":[", "\"entrees\":[", "lit.allowed_sets"),
        (
            "web_pki = true",
            "web_pki = false",
            "egress_tls trusts nothing",
        ),
        (
            "web_pki = true",
            "ca_pem = \"not a certificate\"",
            "egress_tls.ca_pem",
        ),
        ("[egress_tls]\nweb_pki = true\n", "", "TOML"),
        ("rpc_quorum = 2", "rpc_quorum = 1", "solana.rpc_quorum"),
        ("rpc_quorum = 2", "rpc_quorum = 3", "solana.rpc_quorum"),
        (
            "\"rpc-b.example:443\"",
            "\"rpc-a.example:443\"",
            "solana.rpc lists an endpoint twice",
        ),
        (
            "\"rpc-b.example:443\"",
            "\"http://rpc-b.example\"",
            "is not host:port",
        ),
        (
            "deployment = \"eu-1\"",
            "deployment = \"eu 1\"",
            "deployment",
        ),
        ("deployment = \"eu-1\"", "deployment = \"\"", "deployment"),
        ("deployment = \"eu-1\"\n", "", "TOML"),
        (
            "root_api_key_sha256 = \"cdcd",
            "root_api_key_sha256 = \"CDcd",
            "root_api_key_sha256",
        ),
        (
            "root_api_key_sha256 = \"cdcd",
            "root_api_key_sha256 = \"cd",
            "root_api_key_sha256",
        ),
        (
            "server_name = \"localhost\"",
            "server_name = \"localhost\"\nmax_body_bytes = 10",
            "max_body_bytes",
        ),
        (
            "server_name = \"localhost\"",
            "server_name = \"localhost\"\ndebug = true",
            "TOML",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let edited = text.replacen(from, to, 1);
        let err = MeasuredConfig::from_toml(&edited).unwrap_err();
        let shown = format!(
            "{err}: {}",
            std::error::Error::source(&err)
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        assert!(shown.contains(needle), "{to}: {shown}");
    }
    let mut broken_key = text.clone();
    let start = broken_key.find("network_public_key = \"").unwrap() + 22;
    broken_key.replace_range(start..start + 4, "zzzz");
    let err = MeasuredConfig::from_toml(&broken_key)
        .unwrap_err()
        .to_string();
    assert!(err.contains("lit.network_public_key"), "{err}");
}
