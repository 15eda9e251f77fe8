//! PPP pricing (AIP-1's `POST /v1/pricing/suggest`): a price adjusted to the buyer's country's
//! price level, from the World Bank's price level ratio (PPP conversion factor over the market
//! exchange rate, `data/ppp_price_level_ratio_2023.csv`: 27 countries, with its source and
//! year), within the seller's bounds.
//!
//! The order is fixed, and the reasoning lists each step that changed the price:
//! 1. the country's ratio (1 for a country without data, or no country, said so);
//! 2. `min_factor`, then `max_factor`, bound the ratio;
//! 3. `max_discount_percent` raises the factor to `1 - max/100` if it is below;
//! 4. the price is `base × factor`, rounded half up to the cent;
//! 5. `floor_price` raises the price to it.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use thiserror::Error;

const TABLE: &str = include_str!("../data/ppp_price_level_ratio_2023.csv");
/// The year of the ratios.
pub const PPP_YEAR: u16 = 2023;
/// Largest base price accepted, USD.
const MAX_PRICE: f64 = 1_000_000_000.0;

/// One country's price level ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct PppFactor {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub iso3: String,
    pub name: String,
    pub ratio: f64,
}

/// The 27 countries of the data file.
pub fn ppp_factors() -> &'static [PppFactor] {
    static FACTORS: OnceLock<Vec<PppFactor>> = OnceLock::new();
    FACTORS.get_or_init(|| {
        TABLE
            .lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with("country,"))
            .filter_map(|line| {
                let (rest, ratio) = line.rsplit_once(',')?;
                let mut fields = rest.splitn(3, ',');
                Some(PppFactor {
                    country: fields.next()?.to_owned(),
                    iso3: fields.next()?.to_owned(),
                    name: fields.next()?.trim_matches('"').to_owned(),
                    ratio: ratio.parse().ok()?,
                })
            })
            .collect()
    })
}

/// The ratio for an ISO alpha-2 code (any case).
pub fn ppp_factor(country: &str) -> Option<&'static PppFactor> {
    ppp_factors()
        .iter()
        .find(|f| f.country.eq_ignore_ascii_case(country))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingRequest {
    /// USD.
    pub base_price: f64,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub product_id: Option<String>,
    /// Only USD is priced.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub user_profile: Option<UserProfile>,
    #[serde(default)]
    pub ppp_config: Option<PppConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserProfile {
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub location_country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PppConfig {
    #[serde(default = "enabled")]
    pub enabled: bool,
    #[serde(default)]
    pub min_factor: Option<f64>,
    #[serde(default)]
    pub max_factor: Option<f64>,
    /// USD.
    #[serde(default)]
    pub floor_price: Option<f64>,
    #[serde(default)]
    pub max_discount_percent: Option<f64>,
}

fn enabled() -> bool {
    true
}

impl Default for PppConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_factor: None,
            max_factor: None,
            floor_price: None,
            max_discount_percent: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingSuggestion {
    /// USD, to the cent.
    pub suggested_amount: f64,
    pub currency: String,
    /// The factor applied to the base price (after the bounds); `None` when PPP is off.
    pub adjustment_factor: Option<f64>,
    pub ppp_adjusted: bool,
    pub reasoning: String,
    /// The country's ratio as the data has it, and its year.
    pub country_ratio: Option<f64>,
    pub data_year: u16,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum PricingError {
    #[error("base_price must be a positive number of USD up to 1e9")]
    BasePrice,
    #[error("only USD prices are suggested (currency {0:?})")]
    Currency(String),
    #[error("{0}")]
    Config(&'static str),
}

/// The suggestion for `request` (see the module's order of steps).
pub fn suggest(request: &PricingRequest) -> Result<PricingSuggestion, PricingError> {
    let price = request.base_price;
    if !(price.is_finite() && price > 0.0 && price <= MAX_PRICE) {
        return Err(PricingError::BasePrice);
    }
    let currency = request.currency.clone().unwrap_or_else(|| "USD".into());
    if !currency.eq_ignore_ascii_case("USD") {
        return Err(PricingError::Currency(currency));
    }
    let config = request.ppp_config.clone().unwrap_or_default();
    check(&config)?;
    let base_cents = (price * 100.0).round();
    let dollars = |cents: f64| cents / 100.0;
    if !config.enabled {
        return Ok(PricingSuggestion {
            suggested_amount: dollars(base_cents),
            currency,
            adjustment_factor: None,
            ppp_adjusted: false,
            reasoning: "PPP adjustment disabled: the base price.".into(),
            country_ratio: None,
            data_year: PPP_YEAR,
        });
    }
    let country = request
        .user_profile
        .as_ref()
        .and_then(|p| p.location_country.as_deref());
    let (mut factor, country_ratio, mut reasoning) = match country.map(|c| (c, ppp_factor(c))) {
        Some((_, Some(known))) => (
            known.ratio,
            Some(known.ratio),
            format!(
                "{} ({}): price level ratio {:.4} ({} World Bank, PA.NUS.PPPC.RF).",
                known.name, known.country, known.ratio, PPP_YEAR
            ),
        ),
        Some((code, None)) => (
            1.0,
            None,
            format!("No PPP data for country {code:?}: factor 1, the base price."),
        ),
        None => (
            1.0,
            None,
            "No location_country in user_profile: factor 1, the base price.".into(),
        ),
    };
    let mut note = |text: String| {
        reasoning.push(' ');
        reasoning.push_str(&text);
    };
    if let Some(min) = config.min_factor.filter(|min| factor < *min) {
        factor = min;
        note(format!("Factor raised to min_factor {min}."));
    }
    if let Some(max) = config.max_factor.filter(|max| factor > *max) {
        factor = max;
        note(format!("Factor lowered to max_factor {max}."));
    }
    if let Some(percent) = config.max_discount_percent {
        let least = 1.0 - percent / 100.0;
        if factor < least {
            factor = least;
            note(format!("Discount limited to {percent}%."));
        }
    }
    let mut cents = (base_cents * factor).round();
    if let Some(floor) = config.floor_price {
        let floor_cents = (floor * 100.0).round();
        if cents < floor_cents {
            cents = floor_cents;
            note(format!(
                "Raised to the floor price ${:.2}.",
                dollars(floor_cents)
            ));
        }
    }
    Ok(PricingSuggestion {
        suggested_amount: dollars(cents),
        currency,
        adjustment_factor: Some(factor),
        ppp_adjusted: (cents - base_cents).abs() >= 1.0,
        reasoning,
        country_ratio,
        data_year: PPP_YEAR,
    })
}

fn check(config: &PppConfig) -> Result<(), PricingError> {
    let factor_ok = |f: Option<f64>| f.is_none_or(|f| f.is_finite() && f > 0.0 && f <= 10.0);
    if !factor_ok(config.min_factor) || !factor_ok(config.max_factor) {
        return Err(PricingError::Config(
            "min_factor and max_factor must be greater than 0 and at most 10",
        ));
    }
    if let (Some(min), Some(max)) = (config.min_factor, config.max_factor) {
        if min > max {
            return Err(PricingError::Config("min_factor is above max_factor"));
        }
    }
    if config
        .max_discount_percent
        .is_some_and(|p| !(p.is_finite() && (0.0..100.0).contains(&p)))
    {
        return Err(PricingError::Config(
            "max_discount_percent must be at least 0 and below 100",
        ));
    }
    if config
        .floor_price
        .is_some_and(|p| !(p.is_finite() && (0.0..=MAX_PRICE).contains(&p)))
    {
        return Err(PricingError::Config("floor_price must be 0 to 1e9 USD"));
    }
    Ok(())
}
