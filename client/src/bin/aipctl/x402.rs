//! `aipctl x402 pay --url URL --session-key ID --agent ID`: fetch a resource, answer its 402
//! through the signer (within the agent's session), fetch it again with the payment, print it.

use std::process::ExitCode;

use aip_client::x402_resource::{get_paying, Fetched, ResourceError};
use aip_wire::session::usd;
use clap::Subcommand;
use serde_json::json;

use crate::payments::{finish, print, refused, runtime};
use crate::service::{Connection, SignerConnection, EXIT_REFUSED, EXIT_UNREACHABLE};

#[derive(Subcommand, Debug)]
pub enum X402Command {
    /// GET a URL; if it answers 402, pay it through the signer and GET it again with the
    /// payment. Prints the resource's body (with --json: the payment and the answer).
    Pay {
        #[command(flatten)]
        connection: SignerConnection,
        /// The resource (http:// or https://).
        #[arg(long)]
        url: String,
        /// The session key whose intent the payment must fit.
        #[arg(long)]
        session_key: String,
        /// The agent whose session pays.
        #[arg(long)]
        agent: String,
        /// The same key again never pays twice (default: a new payment each run).
        #[arg(long)]
        idempotency_key: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn x402(command: X402Command) -> ExitCode {
    let X402Command::Pay {
        connection,
        url,
        session_key,
        agent,
        idempotency_key,
        json,
    } = command;
    finish((|| {
        let signer = Connection::from(connection).signer()?;
        let key = idempotency_key.unwrap_or_else(fresh_key);
        let fetched = runtime()?
            .block_on(get_paying(&signer, &url, &agent, &session_key, &key))
            .map_err(failed)?;
        match fetched {
            Fetched::Unpaid(answer) => {
                let body = String::from_utf8_lossy(&answer.body).into_owned();
                print(
                    json,
                    &json!({"paid": false, "status": answer.status, "body": body}),
                    |_| {
                        eprintln!("{url} asked for no payment (HTTP {})", answer.status);
                        println!("{body}");
                    },
                );
            }
            Fetched::Paid {
                payment,
                answer,
                settlement,
            } => {
                let body = String::from_utf8_lossy(&answer.body).into_owned();
                let out = json!({
                    "paid": true,
                    "payment": payment,
                    "status": answer.status,
                    "settlement": settlement,
                    "body": body,
                });
                print(json, &out, |_| {
                    eprintln!(
                        "paid ${} to {} for {} (payment {}, signature {})",
                        usd(payment.amount),
                        payment.recipient,
                        payment.resource,
                        payment.payment_id,
                        payment.payer_signature
                    );
                    println!("{body}");
                });
            }
        }
        Ok(())
    })())
}

fn fresh_key() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    format!("x402-{}", hex::encode(bytes))
}

fn failed(error: ResourceError) -> (u8, String) {
    match error {
        ResourceError::Signer(error) => refused(error),
        ResourceError::Connect(..) | ResourceError::Tls(..) | ResourceError::Http(..) => {
            (EXIT_UNREACHABLE, aip_wire::process::error_chain(&error))
        }
        other => (EXIT_REFUSED, aip_wire::process::error_chain(&other)),
    }
}
