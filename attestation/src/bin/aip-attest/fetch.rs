//! `aip-attest fetch`: first contact with a running signer.

use std::path::PathBuf;
use std::process::ExitCode;

use aip_attestation::fetch::{fetch, FetchError};
use aip_attestation::{clock, FailureClass};
use aip_wire::Endpoint;
use base64::Engine as _;
use serde_json::json;

use super::{fail, read, trust, EXIT_BAD_CONFIG, EXIT_UNREADABLE};

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// The signer: tcp:IP:PORT (the host's public port) or unix:PATH.
    #[arg(long)]
    url: Endpoint,
    /// Client certificate (PEM) issued by the operator CA.
    #[arg(long)]
    client_cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long)]
    client_key: PathBuf,
    /// Measurement policy (TOML) the evidence must match.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Trust dev evidence under this dev root (PEM). Never for production.
    #[arg(long)]
    trust_dev_root: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: FetchArgs) -> ExitCode {
    let (verifier, policy) = match trust(args.trust_dev_root.as_deref(), args.policy.as_deref()) {
        Ok(trust) => trust,
        Err(code) => return code,
    };
    let text = |path: &PathBuf| read(path).map(|b| String::from_utf8_lossy(&b).into_owned());
    let (cert, key) = match (text(&args.client_cert), text(&args.client_key)) {
        (Ok(cert), Ok(key)) => (cert, zeroize::Zeroizing::new(key)),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(EXIT_UNREADABLE, format!("no runtime: {e}")),
    };
    let now = clock::now();
    let outcome = runtime.block_on(fetch(
        &args.url,
        Some((&cert, &key)),
        &verifier,
        policy.as_ref(),
        now,
    ));
    match outcome {
        Ok(signer) => {
            let pin_b64 = base64::engine::general_purpose::STANDARD.encode(signer.spki_sha256);
            if args.json {
                let value = json!({
                    "valid": true,
                    "spkiSha256": hex::encode(signer.spki_sha256),
                    "curlPinnedPubkey": format!("sha256//{pin_b64}"),
                    "signingPublicKey": hex::encode(signer.keys.signing_public_key),
                    "configSha256": hex::encode(signer.keys.config_sha256),
                    "verified": signer.verified,
                });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            } else {
                println!(
                    "valid: the signer at {} is attested and holds this TLS key",
                    args.url
                );
                println!("TLS key sha256     {}", hex::encode(signer.spki_sha256));
                println!("curl               --pinnedpubkey sha256//{pin_b64}");
                println!(
                    "signing key        {}",
                    hex::encode(signer.keys.signing_public_key)
                );
                println!(
                    "config sha256      {}",
                    hex::encode(signer.keys.config_sha256)
                );
                println!("platform           {}", signer.verified.platform);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            let code = match &error {
                FetchError::Evidence(e) => e.class().exit_code(),
                FetchError::KeyMismatch => FailureClass::Binding.exit_code(),
                FetchError::Tls(_) => EXIT_BAD_CONFIG,
                _ => EXIT_UNREADABLE,
            };
            fail(code, aip_wire::process::error_chain(&error))
        }
    }
}
