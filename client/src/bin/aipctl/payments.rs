//! `aipctl session-key ...`, `aipctl session ...`, `aipctl pay`, `aipctl payment ...`,
//! `aipctl analytics agents`, `aipctl service`: the payment endpoints from the command line,
//! with the device's side (session key file, password, Lit encryption, signatures) done here.
//!
//! The session key file holds the public key and the password-sealed blob, never the key in
//! clear; the password comes from `AIP_SESSION_PASSWORD`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aip_client::device::{DeviceKeyError, SessionKey};
use aip_client::signer::{Signer, SignerError};
use aip_wire::payments::{
    parse_usd, CreateSession, DryRunAnswer, DryRunDecision, FeeMode, Limits, PaymentAnswer,
    PaymentStatus, SmartPayment, SubmitSigned,
};
use aip_wire::session::usd;
use base64::Engine as _;
use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::progress::{step, step_async};
use crate::service::{fail, Connection, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_UNREADABLE};

#[derive(Subcommand, Debug)]
pub enum SessionKeyCommand {
    /// Generate a session key on this device, seal it with the password, register it.
    Create {
        #[command(flatten)]
        connection: Connection,
        /// Where to write the session key file (public key and sealed blob).
        #[arg(long)]
        key_file: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
        #[arg(long)]
        json: bool,
    },
    /// Let the enclave sign on its own, up to a total, until an expiry.
    EnableAutonomy {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        key_file: PathBuf,
        /// Most the enclave may spend autonomously in total, in USD.
        #[arg(long, value_parser = usd_arg)]
        max_total: u64,
        /// How long the delegation lasts: 30m, 12h, 7d.
        #[arg(long, value_parser = duration_arg)]
        expires_in: i64,
        #[arg(long)]
        json: bool,
    },
    Show {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long)]
        json: bool,
    },
    Revoke {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct LimitArgs {
    /// USD.
    #[arg(long, value_parser = usd_arg)]
    max_per_tx: u64,
    #[arg(long, value_parser = usd_arg)]
    per_day: Option<u64>,
    #[arg(long, value_parser = usd_arg)]
    per_week: Option<u64>,
    #[arg(long, value_parser = usd_arg)]
    per_month: Option<u64>,
    /// Payments above this many USD need the user's approval.
    #[arg(long, value_parser = usd_arg)]
    approval_above: Option<u64>,
    /// 30m, 12h, 7d.
    #[arg(long, value_parser = duration_arg)]
    expires_in: i64,
    /// Lamports one payment may cost in fees and rent, whoever pays (the default covers a
    /// recipient token account's rent, 2,039,280 lamports, and the fees).
    #[arg(long, default_value_t = 2_100_000)]
    max_fee_lamports: u64,
    /// Lamports all payments may cost in fees and rent per rolling day.
    #[arg(long, default_value_t = 21_000_000)]
    max_fee_lamports_per_day: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_per_transaction: self.max_per_tx,
            max_per_day: self.per_day,
            max_per_week: self.per_week,
            max_per_month: self.per_month,
            require_approval_above: self.approval_above,
            expires_at: now() + self.expires_in,
            max_fee_lamports_per_transaction: self.max_fee_lamports,
            max_fee_lamports_per_day: self.max_fee_lamports_per_day,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Fees {
    /// The service's fee payer pays fees and rent (gasless).
    Service,
    /// The session wallet pays (within the limits' fee caps).
    Session,
    /// The session wallet while it holds the SOL, else the service (per payment).
    Auto,
}

#[derive(Subcommand, Debug)]
pub enum SessionCommand {
    /// An agent's spending session under a session key.
    Create {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        session_key: String,
        #[arg(long)]
        agent: String,
        #[command(flatten)]
        limits: LimitArgs,
        /// Allowed recipient wallet (repeatable; none: any recipient).
        #[arg(long = "recipient")]
        recipients: Vec<String>,
        #[arg(long)]
        max_payments_per_day: Option<u32>,
        #[arg(long, value_enum, default_value_t = Fees::Service)]
        fees: Fees,
        #[arg(long)]
        json: bool,
    },
    /// Sessions with what they have spent and have left.
    List {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        session_key: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct PayArgs {
    #[command(flatten)]
    connection: Connection,
    #[arg(long)]
    session_key: String,
    #[arg(long)]
    agent: String,
    /// Recipient wallet.
    #[arg(long)]
    to: String,
    /// USD.
    #[arg(long, value_parser = usd_arg)]
    amount: u64,
    /// Defaults to the signer's USDC mint.
    #[arg(long)]
    mint: Option<String>,
    #[arg(long)]
    memo: Option<String>,
    #[arg(long)]
    gasless: Option<bool>,
    /// For a session whose fees are `auto`: the service pays if the wallet lacks the SOL.
    #[arg(long, conflicts_with = "gasless")]
    auto_gasless: bool,
    /// Defaults to a fresh random key (no retry protection across invocations).
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Sign on this device when the signer asks for it (and approve with --approve).
    #[arg(long)]
    key_file: Option<PathBuf>,
    #[arg(long, requires = "key_file")]
    approve: bool,
    /// Only ask what the policy would decide: nothing is reserved, signed or recorded.
    #[arg(long, conflicts_with = "key_file")]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub enum PaymentCommand {
    Show {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Sign the payment's transaction with the session key and submit it.
    Sign {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Approve a payment above the approval threshold with the session key.
    Approve {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// What the device keeps: the public key and the sealed blob (and the id once registered).
#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    session_key_id: String,
    public_key: String,
    encrypted_blob: String,
}

pub(crate) fn usd_arg(text: &str) -> Result<u64, String> {
    parse_usd(text).ok_or_else(|| format!("{text:?} is not a USD amount (at most 6 decimals)"))
}

pub(crate) fn duration_arg(text: &str) -> Result<i64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: use a number with s, m, h or d")),
    };
    number
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?}: use a positive number with s, m, h or d"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(crate) type Outcome = Result<(), (u8, String)>;

pub(crate) fn refused(error: SignerError) -> (u8, String) {
    match error {
        SignerError::Unreachable(_) | SignerError::Tls(_) => {
            (EXIT_UNREACHABLE, aip_wire::process::error_chain(&error))
        }
        other => (EXIT_REFUSED, other.to_string()),
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, (u8, String)> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (EXIT_UNREACHABLE, format!("no runtime: {e}")))
}

pub(crate) fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => fail(code, message),
    }
}

pub(crate) fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) {
    if json {
        println!("{}", serde_json::to_string(value).unwrap_or_default());
    } else {
        human(value);
    }
}

fn password() -> Result<Zeroizing<String>, (u8, String)> {
    std::env::var("AIP_SESSION_PASSWORD")
        .map(Zeroizing::new)
        .map_err(|_| {
            (
                2,
                "set AIP_SESSION_PASSWORD to the session key's password".into(),
            )
        })
}

fn read_key_file(path: &Path) -> Result<KeyFile, (u8, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| (EXIT_UNREADABLE, format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        (
            EXIT_REFUSED,
            format!("{} is not a session key file: {e}", path.display()),
        )
    })
}

/// Opens the device's session key with the password (Argon2id, 64 MiB).
fn open_key(file: &KeyFile) -> Result<SessionKey, (u8, String)> {
    let password = password()?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&file.encrypted_blob)
        .map_err(|_| (EXIT_REFUSED, "the key file's blob is not base64".to_owned()))?;
    let public: [u8; 32] = bs58::decode(&file.public_key)
        .into_vec()
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or((
            EXIT_REFUSED,
            "the key file's public key is not an address".to_owned(),
        ))?;
    step("opening the session key (Argon2id, 64 MiB)", || {
        SessionKey::open(&blob, &password, &public)
    })
    .map_err(|e| (EXIT_REFUSED, e.to_string()))
}

fn show_key(view: &aip_wire::payments::SessionKeyView) {
    println!("session key  {}", view.id);
    println!("public key   {}", view.public_key);
    println!(
        "limits       ${} per payment{}, until {}",
        usd(view.limits.max_per_transaction),
        view.limits
            .max_per_day
            .map(|d| format!(", ${} per day", usd(d)))
            .unwrap_or_default(),
        aip_wire::session::rfc3339_utc(view.limits.expires_at).unwrap_or_default()
    );
    match (&view.autonomy, view.revoked_at) {
        (_, Some(at)) => println!(
            "revoked      {}",
            aip_wire::session::rfc3339_utc(at).unwrap_or_default()
        ),
        (Some(a), None) => println!(
            "autonomy     ${} of ${} committed, until {}",
            usd(a.committed),
            usd(a.max_total),
            aip_wire::session::rfc3339_utc(a.expires_at).unwrap_or_default()
        ),
        (None, None) => println!("autonomy     off (the device signs each payment)"),
    }
}

pub fn session_key(command: SessionKeyCommand) -> ExitCode {
    finish(session_key_outcome(command))
}

fn session_key_outcome(command: SessionKeyCommand) -> Outcome {
    let runtime = runtime()?;
    match command {
        SessionKeyCommand::Create {
            connection,
            key_file,
            limits,
            json,
        } => {
            if key_file.exists() {
                return Err((
                    EXIT_REFUSED,
                    format!("{} exists; not overwriting", key_file.display()),
                ));
            }
            let signer = connection.signer()?;
            let password = password()?;
            let key = SessionKey::generate();
            let request = step("sealing the session key (Argon2id, 64 MiB)", || {
                key.register_request(&password, limits.limits())
            })
            .map_err(|e| (EXIT_REFUSED, e.to_string()))?;
            let view = runtime
                .block_on(signer.register_device_bound(&request))
                .map_err(refused)?;
            let file = KeyFile {
                session_key_id: view.id.clone(),
                public_key: request.public_key.clone(),
                encrypted_blob: request.encrypted_blob.clone(),
            };
            let text = serde_json::to_string_pretty(&file).unwrap_or_default();
            std::fs::write(&key_file, text)
                .map_err(|e| (EXIT_UNREADABLE, format!("{}: {e}", key_file.display())))?;
            print(json, &view, |v| {
                show_key(v);
                println!("key file     {}", key_file.display());
            });
            Ok(())
        }
        SessionKeyCommand::EnableAutonomy {
            connection,
            key_file,
            max_total,
            expires_in,
            json,
        } => {
            let signer = connection.signer()?;
            let file = read_key_file(&key_file)?;
            let key = open_key(&file)?;
            let target = runtime
                .block_on(signer.encryption_target())
                .map_err(refused)?;
            let request = key
                .autonomy_request(&file.session_key_id, max_total, now() + expires_in, &target)
                .map_err(|e| (EXIT_REFUSED, e.to_string()))?;
            drop(key);
            let view = step_async(
                &runtime,
                "enabling autonomy (the enclave proves the Lit release)",
                signer.enable_autonomy(&file.session_key_id, &request),
            )
            .map_err(refused)?;
            print(json, &view, show_key);
            Ok(())
        }
        SessionKeyCommand::Show {
            connection,
            id,
            json,
        } => {
            let view = runtime
                .block_on(connection.signer()?.session_key(&id))
                .map_err(refused)?;
            print(json, &view, show_key);
            Ok(())
        }
        SessionKeyCommand::Revoke {
            connection,
            id,
            json,
        } => {
            let revoked = runtime
                .block_on(connection.signer()?.revoke(&id))
                .map_err(refused)?;
            print(json, &revoked, |r| {
                println!(
                    "session key {} revoked; {} unsigned reservation(s) released",
                    r.session_key_id, r.released_reservations
                );
            });
            Ok(())
        }
    }
}

fn show_session(view: &aip_wire::payments::SessionView) {
    let left = |v: Option<u64>| v.map_or("no cap".to_owned(), |v| format!("${}", usd(v)));
    println!(
        "session {} agent {} (key {}){}",
        view.id,
        view.agent_id,
        view.session_key_id,
        if view.revoked_at.is_some() {
            " REVOKED"
        } else {
            ""
        }
    );
    println!(
        "  spent today ${}, left today {}, this week {}, this month {}",
        usd(view.spent.day),
        left(view.remaining.day),
        left(view.remaining.week),
        left(view.remaining.month)
    );
    if let Some(autonomy) = view.remaining.autonomy {
        println!("  autonomy left ${}", usd(autonomy));
    }
}

pub fn session(command: SessionCommand) -> ExitCode {
    finish(session_outcome(command))
}

fn session_outcome(command: SessionCommand) -> Outcome {
    let runtime = runtime()?;
    match command {
        SessionCommand::Create {
            connection,
            session_key,
            agent,
            limits,
            recipients,
            max_payments_per_day,
            fees,
            json,
        } => {
            let request = CreateSession {
                session_key_id: session_key,
                agent_id: agent,
                limits: limits.limits(),
                allowed_recipients: (!recipients.is_empty()).then_some(recipients),
                max_payments_per_day,
                fees: match fees {
                    Fees::Service => FeeMode::Service,
                    Fees::Session => FeeMode::Session,
                    Fees::Auto => FeeMode::Auto,
                },
            };
            let view = runtime
                .block_on(connection.signer()?.create_session(&request))
                .map_err(refused)?;
            print(json, &view, show_session);
            Ok(())
        }
        SessionCommand::List {
            connection,
            session_key,
            json,
        } => {
            let list = runtime
                .block_on(connection.signer()?.sessions(session_key.as_deref()))
                .map_err(refused)?;
            print(json, &list, |list| list.iter().for_each(show_session));
            Ok(())
        }
    }
}

fn show_payment(answer: &PaymentAnswer) {
    let what = format!("${} to {}", usd(answer.amount), answer.recipient);
    match answer.status {
        PaymentStatus::Confirmed | PaymentStatus::Submitted => {
            println!(
                "paid {what}: {} ({:?})",
                answer.signature.as_deref().unwrap_or("?"),
                answer.status
            );
            if let Some(receipt) = &answer.receipt {
                println!(
                    "receipt: ledger entry {}, signed by the enclave",
                    receipt.receipt.ledger_seq
                );
            }
        }
        PaymentStatus::RequiresSignature => println!(
            "{what}: the device must sign; run aipctl payment sign --id {}",
            answer.payment_id
        ),
        PaymentStatus::ApprovalRequired => println!(
            "{what}: needs the user's approval; run aipctl payment approve --id {}",
            answer.payment_id
        ),
        PaymentStatus::Denied => println!("{what}: denied"),
        PaymentStatus::Failed => println!(
            "{what}: landed but failed on chain ({}); no tokens moved",
            answer.signature.as_deref().unwrap_or("?")
        ),
        PaymentStatus::Expired => println!(
            "{what}: expired before it landed; nothing was paid and its reservation was released"
        ),
        PaymentStatus::Authorized => println!(
            "{what}: signed for an x402 resource; its facilitator submits it ({})",
            answer.signature.as_deref().unwrap_or("?")
        ),
    }
    println!("payment id {}", answer.payment_id);
}

fn show_dry_run(answer: &DryRunAnswer) {
    let what = format!(
        "${} (fees and rent {} lamports)",
        usd(answer.amount),
        answer.fee_lamports
    );
    match answer.decision {
        DryRunDecision::Allow => println!(
            "{what}: would be allowed{}",
            if answer.autonomous {
                ", signed by the enclave"
            } else {
                ", signed on the device"
            }
        ),
        DryRunDecision::ApprovalRequired => println!(
            "{what}: would need the user's approval (above ${})",
            usd(answer.approval_threshold.unwrap_or_default())
        ),
        DryRunDecision::Deny => match &answer.denial {
            Some(denial) => println!(
                "{what}: would be denied by {}: {}",
                denial.rule, denial.detail
            ),
            None => println!("{what}: would be denied"),
        },
    }
    let left = |v: Option<u64>| v.map_or("no cap".to_owned(), |v| format!("${}", usd(v)));
    println!(
        "left today {}, this week {}, this month {}",
        left(answer.remaining.day),
        left(answer.remaining.week),
        left(answer.remaining.month)
    );
}

/// The device refuses to sign or approve: the message with its causes.
fn refused_locally(error: DeviceKeyError) -> (u8, String) {
    (EXIT_REFUSED, aip_wire::process::error_chain(&error))
}

/// The device signs (after approving, if asked) a payment the signer handed back, each only
/// after decoding it and showing the user what it does.
async fn device_steps(
    signer: &Signer,
    mut answer: PaymentAnswer,
    key: &SessionKey,
    approve: bool,
) -> Result<PaymentAnswer, (u8, String)> {
    if answer.status == PaymentStatus::ApprovalRequired && approve {
        let review = key.review(&answer).map_err(refused_locally)?;
        eprintln!("approving: {}", review.describe());
        answer = signer
            .approve(&answer.payment_id, &key.approve(&review))
            .await
            .map_err(refused)?;
    }
    if answer.status == PaymentStatus::RequiresSignature {
        let review = key.review(&answer).map_err(refused_locally)?;
        eprintln!("signing: {}", review.describe());
        let signed = key.sign_reviewed(&review).map_err(refused_locally)?;
        answer = signer
            .submit_signed(
                &answer.payment_id,
                &SubmitSigned {
                    transaction: base64::engine::general_purpose::STANDARD.encode(signed),
                },
            )
            .await
            .map_err(refused)?;
    }
    Ok(answer)
}

pub fn pay(args: PayArgs) -> ExitCode {
    finish(pay_outcome(args))
}

fn pay_outcome(args: PayArgs) -> Outcome {
    let runtime = runtime()?;
    let signer = args.connection.signer()?;
    let mint = match args.mint {
        Some(mint) => mint,
        None => runtime
            .block_on(signer.service())
            .map_err(refused)?
            .usdc_mints
            .first()
            .cloned()
            .ok_or((EXIT_REFUSED, "the signer lists no USDC mint".to_owned()))?,
    };
    let idempotency_key = args.idempotency_key.unwrap_or_else(|| {
        let mut bytes = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        hex::encode(bytes)
    });
    let request = SmartPayment {
        agent_id: args.agent,
        session_key_id: args.session_key,
        recipient: args.to,
        amount: args.amount,
        mint,
        memo: args.memo,
        gasless: args.gasless,
        auto_detect_gasless: args.auto_gasless,
        idempotency_key,
        transaction: None,
        dry_run: args.dry_run,
    };
    if request.dry_run {
        let decision = runtime
            .block_on(signer.smart_payment_dry_run(&request))
            .map_err(refused)?;
        print(args.json, &decision, show_dry_run);
        return Ok(());
    }
    let mut answer =
        step_async(&runtime, "paying", signer.smart_payment(&request)).map_err(refused)?;
    if let Some(path) = &args.key_file {
        if matches!(
            answer.status,
            PaymentStatus::RequiresSignature | PaymentStatus::ApprovalRequired
        ) {
            let key = open_key(&read_key_file(path)?)?;
            answer = runtime.block_on(device_steps(&signer, answer, &key, args.approve))?;
        }
    }
    print(args.json, &answer, show_payment);
    Ok(())
}

pub fn payment(command: PaymentCommand) -> ExitCode {
    finish(payment_outcome(command))
}

fn payment_outcome(command: PaymentCommand) -> Outcome {
    let runtime = runtime()?;
    let (connection, id, key_file, approve, json) = match command {
        PaymentCommand::Show {
            connection,
            id,
            json,
        } => (connection, id, None, false, json),
        PaymentCommand::Sign {
            connection,
            id,
            key_file,
            json,
        } => (connection, id, Some(key_file), false, json),
        PaymentCommand::Approve {
            connection,
            id,
            key_file,
            json,
        } => (connection, id, Some(key_file), true, json),
    };
    let signer = connection.signer()?;
    let mut answer = runtime.block_on(signer.payment(&id)).map_err(refused)?;
    if let Some(path) = key_file {
        let key = open_key(&read_key_file(&path)?)?;
        answer = runtime.block_on(device_steps(&signer, answer, &key, approve))?;
    }
    print(json, &answer, show_payment);
    Ok(())
}

pub fn analytics(connection: Connection, period_days: Option<u32>, json: bool) -> ExitCode {
    finish((|| {
        let report = runtime()?
            .block_on(connection.signer()?.analytics(period_days))
            .map_err(refused)?;
        print(json, &report, |report| {
            let percent =
                |rate: Option<f64>| rate.map_or("-".to_owned(), |r| format!("{:.0}%", r * 100.0));
            for agent in &report.agents {
                println!(
                    "{}: {} payment(s), ${}, {} succeeded",
                    agent.agent_id,
                    agent.payments,
                    usd(agent.volume),
                    percent(agent.success_rate)
                );
            }
            println!(
                "intents: {} created, {} paid ({} converted)",
                report.intents.created,
                report.intents.paid,
                percent(report.intents.conversion_rate)
            );
        });
        Ok(())
    })())
}

pub fn service_info(connection: Connection, json: bool) -> ExitCode {
    finish((|| {
        let info = runtime()?
            .block_on(connection.signer()?.service())
            .map_err(refused)?;
        print(json, &info, |info| {
            println!("fee payer   {}", info.fee_payer);
            println!("USDC mints  {}", info.usdc_mints.join(", "));
        });
        Ok(())
    })())
}
