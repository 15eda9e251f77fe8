#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The measured configuration: a valid one parses and its digest is of the exact bytes;
//! each invalid edit is refused with the field named.

use aip_enclave::config::{MeasuredConfig, Platform};

fn valid() -> String {
    let (key, _) = aip_lit::node::deal(2, 3).unwrap();
    format!(
        r#"server_name = "localhost"
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

[lit]
network_public_key = "{}"
threshold = 2
nodes = ["127.0.0.1:7470", "127.0.0.1:7471", "lit-node.example:443"]
action_cid = "QmTestCid"
allowed_sets_sha256 = "{}"
"#,
        key.to_hex(),
        "ab".repeat(32)
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
    use sha2::Digest;
    assert_eq!(
        measured.sha256,
        <[u8; 32]>::from(sha2::Sha256::digest(text.as_bytes()))
    );
    // A comment changes the digest: the binding is over the bytes, not the meaning.
    let commented = format!("# rotated\n{text}");
    assert_ne!(
        MeasuredConfig::from_toml(&commented).unwrap().sha256,
        measured.sha256
    );
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
