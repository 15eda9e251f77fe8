//! `aipctl intent create|show|confirm|cancel`: payment intents (AIP-1). The client secret is
//! printed once, at creation; `confirm` reads it from AIP_INTENT_SECRET (or --client-secret),
//! so it need not appear in a process list.

use std::process::ExitCode;

use aip_wire::payments::{ConfirmPaymentIntent, CreatePaymentIntent, PaymentIntentView};
use aip_wire::session::usd;
use clap::Subcommand;

use crate::payments::{duration_arg, finish, print, refused, runtime, usd_arg};
use crate::service::Connection;

#[derive(Subcommand, Debug)]
pub enum IntentCommand {
    /// Create an intent: what will be paid, by which agent's session, to which wallet.
    Create {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        agent: String,
        /// The wallet paid.
        #[arg(long)]
        to: String,
        /// USD.
        #[arg(long, value_parser = usd_arg)]
        amount: u64,
        #[arg(long)]
        description: Option<String>,
        /// How long it can be confirmed (60s to 30d; default 24h).
        #[arg(long, value_parser = duration_arg)]
        expires_in: Option<i64>,
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
    /// Pay it from a session key (the first confirmation binds the intent to it).
    Confirm {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long, env = "AIP_INTENT_SECRET", hide_env_values = true)]
        client_secret: String,
        #[arg(long)]
        session_key: String,
        #[arg(long)]
        json: bool,
    },
    Cancel {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn intent(command: IntentCommand) -> ExitCode {
    finish((|| {
        let runtime = runtime()?;
        let (view, json) = match command {
            IntentCommand::Create {
                connection,
                agent,
                to,
                amount,
                description,
                expires_in,
                json,
            } => {
                let request = CreatePaymentIntent {
                    amount,
                    mint: None,
                    agent_id: agent,
                    recipient: to,
                    description,
                    metadata: None,
                    expires_in: expires_in.and_then(|s| u64::try_from(s).ok()),
                };
                let signer = connection.signer()?;
                let view = runtime
                    .block_on(signer.create_payment_intent(&request))
                    .map_err(refused)?;
                (view, json)
            }
            IntentCommand::Show {
                connection,
                id,
                json,
            } => {
                let signer = connection.signer()?;
                (
                    runtime
                        .block_on(signer.payment_intent(&id))
                        .map_err(refused)?,
                    json,
                )
            }
            IntentCommand::Confirm {
                connection,
                id,
                client_secret,
                session_key,
                json,
            } => {
                let request = ConfirmPaymentIntent {
                    client_secret,
                    session_key_id: session_key,
                };
                let signer = connection.signer()?;
                let view = runtime
                    .block_on(signer.confirm_payment_intent(&id, &request))
                    .map_err(refused)?;
                (view, json)
            }
            IntentCommand::Cancel {
                connection,
                id,
                json,
            } => {
                let signer = connection.signer()?;
                (
                    runtime
                        .block_on(signer.cancel_payment_intent(&id))
                        .map_err(refused)?,
                    json,
                )
            }
        };
        print(json, &view, show);
        Ok(())
    })())
}

fn show(view: &PaymentIntentView) {
    println!(
        "{}: ${} to {} by {} ({:?})",
        view.id,
        usd(view.amount),
        view.recipient,
        view.agent_id,
        view.status
    );
    if let Some(secret) = &view.client_secret {
        println!("client secret (shown once): {secret}");
    }
    if let Some(payment) = &view.payment_id {
        println!("payment {payment}");
    }
    if let Some(error) = &view.last_payment_error {
        println!("last payment error: {}: {}", error.rule, error.detail);
    }
}
