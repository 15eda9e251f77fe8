//! `aipctl pricing suggest --base-price USD --country XX`: AIP-1's PPP pricing helper.

use std::process::ExitCode;

use aip_engine::pricing::{PppConfig, PricingRequest, UserProfile};
use clap::Subcommand;

use crate::payments::{finish, print, refused, runtime};
use crate::service::Connection;

#[derive(Subcommand, Debug)]
pub enum PricingCommand {
    /// A price adjusted to the buyer's country's price level (World Bank, 2023).
    Suggest {
        #[command(flatten)]
        connection: Connection,
        /// USD.
        #[arg(long)]
        base_price: f64,
        /// ISO 3166-1 alpha-2.
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        min_factor: Option<f64>,
        #[arg(long)]
        max_factor: Option<f64>,
        /// USD.
        #[arg(long)]
        floor_price: Option<f64>,
        #[arg(long)]
        max_discount_percent: Option<f64>,
        /// The base price, unadjusted.
        #[arg(long)]
        no_ppp: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn pricing(command: PricingCommand) -> ExitCode {
    let PricingCommand::Suggest {
        connection,
        base_price,
        country,
        min_factor,
        max_factor,
        floor_price,
        max_discount_percent,
        no_ppp,
        json,
    } = command;
    finish((|| {
        let request = PricingRequest {
            base_price,
            agent_id: None,
            product_id: None,
            currency: None,
            user_profile: Some(UserProfile {
                location_country: country,
            }),
            ppp_config: Some(PppConfig {
                enabled: !no_ppp,
                min_factor,
                max_factor,
                floor_price,
                max_discount_percent,
            }),
        };
        let suggestion = runtime()?
            .block_on(connection.signer()?.suggest_price(&request))
            .map_err(refused)?;
        print(json, &suggestion, |s| {
            println!("${:.2} ({})", s.suggested_amount, s.reasoning);
        });
        Ok(())
    })())
}
