//! `aip-enclave`: the enclave binary: `serve` boots and serves the API; `explain-tx` and
//! `dev-policy` are operator and auditor tooling.

mod pid1;
mod serve;

use std::io::Read;
use std::process::ExitCode;

use aip_enclave::solana::text::{decode_text, TextEncoding};
use aip_enclave::solana::{explain_decoded, Decoded};
use clap::{Parser, Subcommand};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "aip-enclave", version, about = "aip-signer enclave")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot (config -> keys -> attestation -> state key via Lit -> state) and serve the API.
    /// Any failed stage stops the boot with exit code 20 and a logged stage and reason.
    Serve {
        /// The measured configuration (TOML).
        #[arg(
            long,
            required_unless_present = "config_from",
            conflicts_with = "config_from"
        )]
        config: Option<std::path::PathBuf>,
        /// Read the configuration from the host at this endpoint instead (one frame; what a
        /// Nitro enclave does, with nothing but its binary in the image). Its identity is bound
        /// into every attestation and pinned by the measurement policy, so a host that serves
        /// another configuration gets an enclave the Lit nodes release nothing to.
        #[arg(long)]
        config_from: Option<aip_wire::Endpoint>,
        /// Dev attestation only: the dev PKI directory (root key created on first use).
        #[arg(long)]
        dev_pki: Option<std::path::PathBuf>,
    },
    /// Print the measurement policy entry of this binary under dev attestation (dev builds),
    /// pinning the identity of CONFIG when given, with the dev root of the dev PKI in DIR
    /// when given (the attested-release Lit Action trusts dev evidence only under the dev
    /// root its allowed sets name).
    DevPolicy {
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        #[arg(long)]
        dev_pki: Option<std::path::PathBuf>,
    },
    /// Print the identity of a configuration: the `config = "..."` a measurement policy entry
    /// pins (everything in it but `lit.allowed_sets`, the policy itself).
    ConfigIdentity {
        #[arg(long)]
        config: std::path::PathBuf,
    },
    /// Print the dev attestation root (PEM), creating the dev PKI in DIR if needed (dev
    /// builds). The Lit devnet and verifiers trust it with --trust-dev-root.
    DevRoot {
        #[arg(long)]
        dev_pki: std::path::PathBuf,
    },
    /// Print, as JSON, what the policy engine sees in a transaction or message.
    ///
    /// Reads base64, base58 or hex (auto-detected) from FILE or standard input. Exit codes:
    /// 0 explained and signable; 1 explained but refused (the reason and the explanation are
    /// printed); 3 not a transaction (bad encoding or malformed); 4 input unreadable.
    ExplainTx {
        /// File to read; `-` or nothing for standard input.
        file: Option<String>,
        /// Override the detected text encoding: base64, base58 or hex.
        #[arg(long)]
        encoding: Option<TextEncoding>,
    },
}

const EXIT_REFUSED: u8 = 1;
const EXIT_UNDECODABLE: u8 = 3;
const EXIT_UNREADABLE: u8 = 4;

fn main() -> ExitCode {
    aip_wire::process::init_json_logs_to(aip_enclave::log_shipping::ToQueue);
    // As a Nitro enclave's or SEV-SNP guest's /init there are no arguments: prepare the
    // machine, then serve with the configuration the host hands over.
    if std::process::id() == 1 {
        return pid1::run();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            config_from,
            dev_pki,
        } => {
            let source = match (config, config_from) {
                (Some(path), None) => serve::ConfigSource::File(path),
                (None, Some(endpoint)) => serve::ConfigSource::Host(endpoint),
                // clap already refuses both and neither; say so rather than guess.
                _ => {
                    eprintln!("aip-enclave serve: give exactly one of --config and --config-from");
                    return ExitCode::from(2);
                }
            };
            serve::run(&source, dev_pki)
        }
        Command::DevPolicy { config, dev_pki } => print_or_fail(
            config
                .as_deref()
                .map(config_identity)
                .transpose()
                .and_then(|identity| serve::dev::policy(identity.as_ref(), dev_pki.as_deref())),
        ),
        Command::ConfigIdentity { config } => {
            print_or_fail(config_identity(&config).map(|identity| hex::encode(identity) + "\n"))
        }
        Command::DevRoot { dev_pki } => print_or_fail(serve::dev::root_pem(&dev_pki)),
        Command::ExplainTx { file, encoding } => explain_tx(file.as_deref(), encoding),
    }
}

/// The identity of the configuration in `path` (it must be a valid configuration).
fn config_identity(path: &std::path::Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    aip_enclave::config::MeasuredConfig::from_toml(&text)
        .map(|measured| measured.identity)
        .map_err(|e| aip_wire::process::error_chain(&e))
}

fn explain_tx(file: Option<&str>, encoding: Option<TextEncoding>) -> ExitCode {
    let text = match read_input(file) {
        Ok(text) => text,
        Err(error) => {
            return fail(
                EXIT_UNREADABLE,
                "input_unreadable",
                &error.to_string(),
                None,
            )
        }
    };
    let bytes = match decode_text(&text, encoding) {
        Ok(bytes) => bytes,
        Err(error) => return fail(EXIT_UNDECODABLE, "bad_encoding", &error.to_string(), None),
    };
    let decoded = match Decoded::from_bytes(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => return fail(EXIT_UNDECODABLE, error.code(), &error.to_string(), None),
    };
    let explanation = explain_decoded(&decoded);
    let rendered = match serde_json::to_value(&explanation) {
        Ok(value) => value,
        Err(error) => return fail(EXIT_UNDECODABLE, "internal", &error.to_string(), None),
    };
    match explanation.refusals.first() {
        Some(refusal) => fail(
            EXIT_REFUSED,
            refusal.code(),
            &refusal.to_string(),
            Some(rendered),
        ),
        None => {
            println!("{}", pretty(&rendered));
            ExitCode::SUCCESS
        }
    }
}

fn read_input(file: Option<&str>) -> std::io::Result<String> {
    // Refuse to read more than a transaction could possibly be before decoding anything.
    const MAX_TEXT: u64 = 64 * 1024;
    let mut text = String::new();
    match file {
        None | Some("-") => std::io::stdin().take(MAX_TEXT).read_to_string(&mut text)?,
        Some(path) => std::fs::File::open(path)?
            .take(MAX_TEXT)
            .read_to_string(&mut text)?,
    };
    Ok(text)
}

/// Prints `{"error":{"code","message"}}` (plus the explanation when there is one) and exits.
fn fail(exit: u8, code: &str, message: &str, explanation: Option<serde_json::Value>) -> ExitCode {
    let mut body = json!({"error": {"code": code, "message": message}});
    if let (Some(explanation), Some(object)) = (explanation, body.as_object_mut()) {
        object.insert("explanation".to_string(), explanation);
    }
    println!("{}", pretty(&body));
    ExitCode::from(exit)
}

fn print_or_fail(text: Result<String, String>) -> ExitCode {
    match text {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(reason) => fail(2, "dev_unavailable", &reason, None),
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
