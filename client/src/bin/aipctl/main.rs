//! aipctl: the operator's and device owner's command line.
//!
//! `aipctl lit acc-hash FILE [--data-hash HEX]`: canonical conditions, their hash, identity.
//! `aipctl lit encrypt --network-key HEX --conditions FILE (--plaintext TEXT | --plaintext-hex HEX)`
//! `aipctl lit decrypt --network-key HEX --identity STR --ciphertext B64 --share JSON... [--format utf8|hex]`
//!
//! `aipctl operator init --dir DIR`: an operator CA and a client certificate.
//! `aipctl keys create --url --pin --client-dir [--api-key] --label --scope...`
//! `aipctl ledger verify --url --pin --client-dir --api-key --signing-key HEX`
//! `aipctl session-key create|enable-autonomy|show|revoke`, `aipctl session create|list`,
//! `aipctl pay [--dry-run]`, `aipctl payment show|sign|approve`, `aipctl intent
//! create|show|confirm|cancel`, `aipctl pricing suggest`, `aipctl x402 pay --url URL`,
//! `aipctl analytics`, `aipctl service`
//! (the payment endpoints; the device's password from AIP_SESSION_PASSWORD).
//!
//! Exit codes: 0 success, 1 an input file cannot be read, 2 usage, 3 refused (Lit refused
//! the input or the shares do not release it; the signer refused the request; the ledger does
//! not verify), 4 the signer is unreachable or TLS failed.

mod intents;
mod payments;
mod pricing;
mod progress;
mod service;
mod x402;

use std::path::PathBuf;
use std::process::ExitCode;

use aip_client::lit::{conditions_from_json, decrypt_with_shares, encrypt_for};
use aip_lit::NetworkKey;
use clap::{Parser, Subcommand, ValueEnum};
use zeroize::Zeroizing;

const EXIT_UNREADABLE: u8 = 1;
const EXIT_REFUSED: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "aipctl",
    version,
    about = "aip-signer operator and device tool"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lit Protocol helpers.
    #[command(subcommand)]
    Lit(LitCommand),
    /// The operator's PKI.
    #[command(subcommand)]
    Operator(service::OperatorCommand),
    /// API keys of a running signer.
    #[command(subcommand)]
    Keys(service::KeysCommand),
    /// The signer's ledger.
    #[command(subcommand)]
    Ledger(service::LedgerCommand),
    /// Session keys: create on this device, enable autonomy, show, revoke.
    #[command(subcommand)]
    SessionKey(payments::SessionKeyCommand),
    /// Agents' spending sessions.
    #[command(subcommand)]
    Session(payments::SessionCommand),
    /// Pay: the enclave signs within the session, or hands the transaction to this device.
    Pay(payments::PayArgs),
    /// A payment: show it, sign it on this device, approve it.
    #[command(subcommand)]
    Payment(payments::PaymentCommand),
    /// Payment intents: create, show, confirm from a session key, cancel.
    #[command(subcommand)]
    Intent(intents::IntentCommand),
    /// PPP pricing: a price adjusted to the buyer's country.
    #[command(subcommand)]
    Pricing(pricing::PricingCommand),
    /// Resources that answer HTTP 402 (x402), paid through the signer.
    #[command(subcommand)]
    X402(x402::X402Command),
    /// Payments, volume and success rate by agent, and payment intents' conversion.
    Analytics {
        #[command(flatten)]
        connection: service::Connection,
        /// The last N days (today included); all time if absent.
        #[arg(long)]
        period_days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// The signer's fee payer and USDC mints.
    Service {
        #[command(flatten)]
        connection: service::Connection,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LitCommand {
    /// Print the canonical conditions, their SHA-256, and the identity for a data hash.
    AccHash {
        /// JSON: a request object with a conditions field, or a bare accessControlConditions list.
        file: PathBuf,
        /// dataToEncryptHash (hex) to build the identity with.
        #[arg(long)]
        data_hash: Option<String>,
    },
    /// Encrypt a secret under conditions to the network key, as Lit's JS SDK does.
    Encrypt {
        #[arg(long)]
        network_key: String,
        #[arg(long)]
        conditions: PathBuf,
        #[arg(
            long,
            conflicts_with = "plaintext_hex",
            required_unless_present = "plaintext_hex"
        )]
        plaintext: Option<String>,
        #[arg(long)]
        plaintext_hex: Option<String>,
    },
    /// Combine shares, verify against the network key and decrypt.
    Decrypt {
        #[arg(long)]
        network_key: String,
        #[arg(long)]
        identity: String,
        #[arg(long)]
        ciphertext: String,
        /// A node's share JSON (v1 or v2); give it once per share.
        #[arg(long = "share", required = true)]
        shares: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Utf8)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Utf8,
    Hex,
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("aipctl: {message}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Lit(command) => lit(command),
        Command::Operator(command) => service::operator(command),
        Command::Keys(command) => service::keys(command),
        Command::Ledger(command) => service::ledger(command),
        Command::SessionKey(command) => payments::session_key(command),
        Command::Session(command) => payments::session(command),
        Command::Pay(args) => payments::pay(args),
        Command::Payment(command) => payments::payment(command),
        Command::Intent(command) => intents::intent(command),
        Command::Pricing(command) => pricing::pricing(command),
        Command::X402(command) => x402::x402(command),
        Command::Analytics {
            connection,
            period_days,
            json,
        } => payments::analytics(connection, period_days, json),
        Command::Service { connection, json } => payments::service_info(connection, json),
    }
}

fn read_json(path: &std::path::Path) -> Result<serde_json::Value, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(
            EXIT_UNREADABLE,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| fail(EXIT_REFUSED, format!("{} is not JSON: {e}", path.display())))
}

fn lit(command: LitCommand) -> ExitCode {
    match command {
        LitCommand::AccHash { file, data_hash } => {
            let value = match read_json(&file) {
                Ok(v) => v,
                Err(code) => return code,
            };
            match conditions_from_json(&value) {
                Ok(conditions) => {
                    println!("field     {}", conditions.field());
                    println!("canonical {}", conditions.canonical_json());
                    println!("sha256    {}", conditions.hash_hex());
                    if let Some(data_hash) = data_hash {
                        println!("identity  {}", conditions.identity(&data_hash));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(EXIT_REFUSED, e),
            }
        }
        LitCommand::Encrypt {
            network_key,
            conditions,
            plaintext,
            plaintext_hex,
        } => {
            let key = match NetworkKey::from_hex(&network_key) {
                Ok(k) => k,
                Err(e) => return fail(EXIT_REFUSED, e),
            };
            let value = match read_json(&conditions) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let secret = match (plaintext, plaintext_hex) {
                (Some(text), _) => Zeroizing::new(text.into_bytes()),
                (None, Some(h)) => match hex::decode(h) {
                    Ok(bytes) => Zeroizing::new(bytes),
                    Err(e) => return fail(2, format!("--plaintext-hex: {e}")),
                },
                (None, None) => return fail(2, "give --plaintext or --plaintext-hex"),
            };
            match conditions_from_json(&value).and_then(|c| encrypt_for(&key, &c, &secret)) {
                Ok(out) => {
                    let json = serde_json::json!({
                        "ciphertext": out.ciphertext,
                        "dataToEncryptHash": out.data_to_encrypt_hash,
                        "identity": out.identity,
                    });
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(EXIT_REFUSED, e),
            }
        }
        LitCommand::Decrypt {
            network_key,
            identity,
            ciphertext,
            shares,
            format,
        } => {
            let key = match NetworkKey::from_hex(&network_key) {
                Ok(k) => k,
                Err(e) => return fail(EXIT_REFUSED, e),
            };
            match decrypt_with_shares(&key, &identity, &ciphertext, &shares) {
                Ok(plaintext) => {
                    match format {
                        Format::Hex => println!("{}", hex::encode(plaintext.as_slice())),
                        Format::Utf8 => match std::str::from_utf8(&plaintext) {
                            Ok(text) => println!("{text}"),
                            Err(_) => {
                                return fail(
                                    EXIT_REFUSED,
                                    "the plaintext is not UTF-8; use --format hex",
                                )
                            }
                        },
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(EXIT_REFUSED, e),
            }
        }
    }
}
