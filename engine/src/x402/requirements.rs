//! A 402 answer's `PaymentRequired` document (x402 v2) and the choice among its `accepts`.
//!
//! Each requirement is kept verbatim beside what was read from it: the payment payload echoes
//! it as `accepted`, and a resource server compares that echo with what it asked for.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use solana_address::Address;
use thiserror::Error;

/// The protocol version this signer speaks.
pub const X402_VERSION: u64 = 2;

/// The keys of an `exact` SVM requirement's `extra` that the scheme defines
/// (`scheme_exact_svm.md`, "PaymentRequirements for exact"); any other is not understood.
const EXTRA_KEYS: [&str; 4] = [
    "feePayer",
    "memo",
    "recentBlockhash",
    "lastValidBlockHeight",
];

/// Longest `extra.memo` the scheme allows (bytes of UTF-8).
const MAX_MEMO_BYTES: usize = 256;

/// The body of a 402 answer (or the decoded `PAYMENT-REQUIRED` header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    pub x402_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `{url, description?, mimeType?}`, echoed in the payload.
    pub resource: Value,
    pub accepts: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// The requirement the signer will pay, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// The requirement as the server sent it (the payload's `accepted`).
    pub accepted: Value,
    /// The resource as the server described it.
    pub resource: Value,
    /// `resource.url`: recorded as the payment's origin.
    pub resource_url: String,
    pub network: String,
    pub amount: u64,
    pub asset: Address,
    pub pay_to: Address,
    pub fee_payer: Address,
    pub memo: Option<String>,
    pub max_timeout_seconds: u64,
}

/// Why no requirement can be paid. Each has a stable code for the API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum X402Error {
    #[error("x402 version {0} is not supported; this signer speaks version {X402_VERSION}")]
    Version(u64),
    #[error("the 402 answer offers no payment requirements")]
    NothingOffered,
    #[error("no requirement uses the exact scheme (offered: {0})")]
    Scheme(String),
    #[error(
        "no exact requirement is on {served}, the network this signer pays on (offered: {offered})"
    )]
    Network { served: String, offered: String },
    #[error("no exact requirement on {network} pays in an allowed mint (offered: {offered})")]
    Asset { network: String, offered: String },
    #[error("requirement {index}: {field} {problem}")]
    Malformed {
        index: usize,
        field: &'static str,
        problem: String,
    },
    #[error("requirement {index}: extra.{key} is not defined by the exact scheme on Solana; refusing what is not understood")]
    UnknownExtra { index: usize, key: String },
}

impl X402Error {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Version(_) => "x402_version_unsupported",
            Self::NothingOffered | Self::Scheme(_) => "x402_scheme_unsupported",
            Self::Network { .. } => "x402_network_unsupported",
            Self::Asset { .. } => "x402_asset_not_allowed",
            Self::Malformed { .. } | Self::UnknownExtra { .. } => "x402_requirements_invalid",
        }
    }
}

/// The first requirement of `required` the signer can pay: scheme `exact`, on `network`
/// (CAIP-2, e.g. `solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp`), in one of `mints`. A matching
/// requirement that is malformed is refused outright rather than skipped: a server that sends
/// one is not paid on a guess.
pub fn select(
    required: &PaymentRequired,
    network: &str,
    mints: &[Address],
) -> Result<Selected, X402Error> {
    if required.x402_version != X402_VERSION {
        return Err(X402Error::Version(required.x402_version));
    }
    if required.accepts.is_empty() {
        return Err(X402Error::NothingOffered);
    }
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let listed = |key: &str| {
        required
            .accepts
            .iter()
            .map(|a| text(a, key).unwrap_or_else(|| "?".into()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let exact: Vec<(usize, &Value)> = required
        .accepts
        .iter()
        .enumerate()
        .filter(|(_, a)| text(a, "scheme").as_deref() == Some("exact"))
        .collect();
    if exact.is_empty() {
        return Err(X402Error::Scheme(listed("scheme")));
    }
    let on_network: Vec<(usize, &Value)> = exact
        .into_iter()
        .filter(|(_, a)| text(a, "network").as_deref() == Some(network))
        .collect();
    if on_network.is_empty() {
        return Err(X402Error::Network {
            served: network.to_owned(),
            offered: listed("network"),
        });
    }
    for (index, accepted) in &on_network {
        let Some(asset) = text(accepted, "asset").and_then(|a| a.parse::<Address>().ok()) else {
            continue;
        };
        if mints.contains(&asset) {
            return read(*index, accepted, asset, &required.resource, network);
        }
    }
    Err(X402Error::Asset {
        network: network.to_owned(),
        offered: listed("asset"),
    })
}

fn read(
    index: usize,
    accepted: &Value,
    asset: Address,
    resource: &Value,
    network: &str,
) -> Result<Selected, X402Error> {
    let malformed = |field: &'static str, problem: &str| X402Error::Malformed {
        index,
        field,
        problem: problem.to_owned(),
    };
    let field = |key: &'static str| {
        accepted
            .get(key)
            .ok_or_else(|| malformed(key, "is missing"))
    };
    let address = |value: &Value, key: &'static str| {
        value
            .as_str()
            .and_then(|a| a.parse::<Address>().ok())
            .ok_or_else(|| malformed(key, "is not a base58 address"))
    };
    // A decimal string of base units, as the scheme writes it; not zero.
    let amount = field("amount")?
        .as_str()
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.parse::<u64>().ok())
        .filter(|a| *a > 0)
        .ok_or_else(|| malformed("amount", "is not a positive integer string of base units"))?;
    let pay_to = address(field("payTo")?, "payTo")?;
    let max_timeout_seconds = field("maxTimeoutSeconds")?
        .as_u64()
        .ok_or_else(|| malformed("maxTimeoutSeconds", "is not a whole number"))?;
    let extra: &Map<String, Value> = field("extra")?
        .as_object()
        .ok_or_else(|| malformed("extra", "is not an object"))?;
    if let Some(key) = extra.keys().find(|k| !EXTRA_KEYS.contains(&k.as_str())) {
        return Err(X402Error::UnknownExtra {
            index,
            key: key.clone(),
        });
    }
    let fee_payer = address(
        extra
            .get("feePayer")
            .ok_or_else(|| malformed("extra.feePayer", "is missing"))?,
        "extra.feePayer",
    )?;
    let memo = match extra.get("memo") {
        None => None,
        Some(Value::String(memo)) if memo.len() <= MAX_MEMO_BYTES && !memo.is_empty() => {
            Some(memo.clone())
        }
        Some(_) => return Err(malformed("extra.memo", "is not a string of 1 to 256 bytes")),
    };
    let resource_url = resource
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or(X402Error::Malformed {
            index,
            field: "resource.url",
            problem: "is missing".into(),
        })?
        .to_owned();
    Ok(Selected {
        accepted: accepted.clone(),
        resource: resource.clone(),
        resource_url,
        network: network.to_owned(),
        amount,
        asset,
        pay_to,
        fee_payer,
        memo,
        max_timeout_seconds,
    })
}
