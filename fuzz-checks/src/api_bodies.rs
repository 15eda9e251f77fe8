//! The API's JSON bodies: the requests the enclave parses from a backend (strictly: unknown
//! fields refused), the answers the SDK parses from the enclave, and the intent the enclave
//! keeps in its records. The first input byte picks the type, the rest is the JSON.

use std::path::Path;

use aip_engine::policy::intent::Intent;
use aip_engine::pricing::PricingRequest;
use aip_engine::x402::PaymentRequired;
use aip_wire::payments::{
    Approve, ConfirmPaymentIntent, CreatePaymentIntent, CreateSession, EnableAutonomy, Limits,
    PaymentAnswer, RegisterDeviceBound, SessionKeyView, SessionView, SmartPayment, SubmitSigned,
    X402Pay,
};
use ed25519_dalek::SigningKey;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The types, by the selector byte (modulo their count).
pub const KINDS: [&str; 16] = [
    "RegisterDeviceBound",
    "EnableAutonomy",
    "CreateSession",
    "SmartPayment",
    "SubmitSigned",
    "Approve",
    "Limits",
    "PaymentAnswer",
    "SessionView",
    "SessionKeyView",
    "Intent",
    "X402Pay",
    "PaymentRequired",
    "CreatePaymentIntent",
    "ConfirmPaymentIntent",
    "PricingRequest",
];

/// Parses `json` as `T`; if it parses, the value survives a round trip through JSON
/// unchanged (no field lost, renamed or defaulted differently on the way back).
fn round_trip<T: Serialize + DeserializeOwned>(json: &[u8]) -> Option<T> {
    let value: T = serde_json::from_slice(json).ok()?;
    let first = serde_json::to_value(&value).expect("a parsed body serialises");
    let again: T = serde_json::from_value(first.clone()).expect("a serialised body parses back");
    assert_eq!(
        serde_json::to_value(&again).expect("serialises"),
        first,
        "round trip"
    );
    Some(value)
}

/// Limits are never beyond themselves.
fn limits_hold(limits: &Limits) {
    assert_eq!(limits.exceeds(limits), None, "limits exceed themselves");
}

/// Parses `json` as the type `kind` names (an index into [`KINDS`]); `true` if it parsed.
pub fn parse(kind: usize, json: &[u8]) -> bool {
    match kind % KINDS.len() {
        0 => round_trip::<RegisterDeviceBound>(json).map(|r| limits_hold(&r.limits)),
        1 => round_trip::<EnableAutonomy>(json).map(drop),
        2 => round_trip::<CreateSession>(json).map(|r| limits_hold(&r.limits)),
        3 => round_trip::<SmartPayment>(json).map(drop),
        4 => round_trip::<SubmitSigned>(json).map(drop),
        5 => round_trip::<Approve>(json).map(drop),
        6 => round_trip::<Limits>(json).map(|l| limits_hold(&l)),
        7 => round_trip::<PaymentAnswer>(json).map(|answer| {
            // The SDK checks a receipt against the enclave's key: a wrong or malformed
            // signature is refused, never a panic.
            if let Some(receipt) = answer.receipt {
                let key = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
                let _ = receipt.verify(&key);
            }
        }),
        8 => round_trip::<SessionView>(json).map(|s| limits_hold(&s.limits)),
        9 => round_trip::<SessionKeyView>(json).map(|k| limits_hold(&k.limits)),
        10 => round_trip::<Intent>(json).map(|intent| {
            let _ = intent.invariant();
        }),
        11 => round_trip::<X402Pay>(json).map(drop),
        // A resource server's 402 document: choosing among its requirements never panics,
        // and what is chosen builds (or is refused) without panicking either.
        12 => round_trip::<PaymentRequired>(json).map(|required| {
            let mint: solana_address::Address = MINT.parse().expect("the example mint");
            if let Ok(chosen) = aip_engine::x402::select(&required, NETWORK, &[mint]) {
                let key: solana_address::Address = KEY.parse().expect("the example key");
                let made = aip_engine::x402::ExactSvmPayment::new(
                    &chosen,
                    key,
                    6,
                    solana_hash::Hash::new_from_array([1; 32]),
                    [2; 16],
                );
                let _ = made.payment.build();
            }
        }),
        13 => round_trip::<CreatePaymentIntent>(json).map(drop),
        14 => round_trip::<ConfirmPaymentIntent>(json).map(drop),
        _ => round_trip::<PricingRequest>(json).map(|request| {
            if let Ok(suggestion) = aip_engine::pricing::suggest(&request) {
                assert!(suggestion.suggested_amount >= 0.0, "a negative price");
            }
        }),
    }
    .is_some()
}

/// First byte: the type; the rest: its JSON.
pub fn check(data: &[u8]) {
    if let Some((kind, json)) = data.split_first() {
        parse(usize::from(*kind), json);
    }
}

const LIMITS: &str = r#"{"max_per_transaction":10000000,"max_per_day":100000000,"max_per_week":null,"max_per_month":300000000,"require_approval_above":50000000,"expires_at":1893456000,"max_fee_lamports_per_transaction":3000000,"max_fee_lamports_per_day":10000000}"#;
const KEY: &str = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
const MINT: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const NETWORK: &str = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";

/// One valid body of each type, by [`KINDS`] index.
pub fn examples() -> Vec<(usize, String)> {
    let receipt = format!(
        r#"{{"receipt":{{"payment_id":"pay_1","agent_id":"agent","session_key_id":"sk_1","amount":5000000,"mint":"{MINT}","recipient":"{KEY}","signature":"5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW","message_sha256":"{}","ledger_seq":3,"at_ms":1700000000000}},"enclave_signature":"{}"}}"#,
        "ab".repeat(32),
        "cd".repeat(64)
    );
    vec![
        (
            0,
            format!(
                r#"{{"public_key":"{KEY}","encrypted_blob":"AAEC","limits":{LIMITS},"possession_signature":"{}"}}"#,
                "ef".repeat(64)
            ),
        ),
        (
            1,
            format!(
                r#"{{"max_total":100000000,"expires_at":1893456000,"delegation_signature":"{}","ciphertext":"qg==","data_to_encrypt_hash":"{}","conditions":[{{"conditionType":"evmBasic"}}]}}"#,
                "01".repeat(64),
                "02".repeat(32)
            ),
        ),
        (
            2,
            format!(
                r#"{{"session_key_id":"sk_1","agent_id":"agent","limits":{LIMITS},"allowed_recipients":["{KEY}"],"max_payments_per_day":20,"fees":{{"mode":"service"}}}}"#
            ),
        ),
        (
            3,
            format!(
                r#"{{"agent_id":"agent","session_key_id":"sk_1","recipient":"{KEY}","amount":5000000,"mint":"{MINT}","memo":"order 42","gasless":true,"idempotency_key":"order-42"}}"#
            ),
        ),
        (4, r#"{"transaction":"AQID"}"#.to_owned()),
        (5, format!(r#"{{"signature":"{}"}}"#, "03".repeat(64))),
        (6, LIMITS.to_owned()),
        (
            7,
            format!(
                r#"{{"payment_id":"pay_1","status":"confirmed","amount":5000000,"recipient":"{KEY}","signature":null,"transaction":null,"approval_digest":"{}","receipt":{receipt},"denial":null}}"#,
                "04".repeat(32)
            ),
        ),
        (
            8,
            format!(
                r#"{{"id":"ses_1","session_key_id":"sk_1","agent_id":"agent","limits":{LIMITS},"fees":{{"mode":"session"}},"revoked_at":null,"spent":{{"day":1,"week":2,"month":3}},"remaining":{{"day":5,"week":null,"month":7,"autonomy":9}}}}"#
            ),
        ),
        (
            9,
            format!(
                r#"{{"id":"sk_1","public_key":"{KEY}","limits":{LIMITS},"created_at":1700000000,"revoked_at":null,"autonomy":{{"max_total":100,"expires_at":1893456000,"committed":5}}}}"#
            ),
        ),
        (
            10,
            format!(
                r#"{{"session_key":"{KEY}","asset":{{"kind":"tokens","mints":["{MINT}"],"decimals":6}},"caps":{{"per_transaction":10000000,"day":100000000,"week":null,"month":null}},"require_approval_above":null,"max_payments":{{"day":20,"week":null,"month":null}},"starts_at":1700000000,"expires_at":1700604800,"revoked_at":null,"allowed_recipients":null,"allowed_programs":null,"fee_policy":{{"mode":"session"}},"fee_caps":{{"per_transaction":3000000,"day":10000000,"week":null,"month":null}}}}"#
            ),
        ),
        (
            11,
            format!(
                r#"{{"agent_id":"agent","session_key_id":"sk_1","payment_required":{},"idempotency_key":"k"}}"#,
                payment_required()
            ),
        ),
        (12, payment_required()),
        (
            13,
            format!(
                r#"{{"amount":5000000,"agent_id":"agent","recipient":"{KEY}","description":"Pro","metadata":{{"order":"A-1"}},"expires_in":3600}}"#
            ),
        ),
        (
            14,
            r#"{"client_secret":"pi_1_secret_ab","session_key_id":"sk_1"}"#.to_owned(),
        ),
        (
            15,
            r#"{"base_price":99.0,"user_profile":{"location_country":"BR"},"ppp_config":{"enabled":true,"min_factor":0.3,"max_factor":1.0,"floor_price":10.0,"max_discount_percent":60.0}}"#.to_owned(),
        ),
    ]
}

/// An x402 v2 402 document for the example mint on the test network.
fn payment_required() -> String {
    format!(
        r#"{{"x402Version":2,"resource":{{"url":"https://api.example/weather"}},"accepts":[{{"scheme":"exact","network":"{NETWORK}","amount":"1000","asset":"{MINT}","payTo":"{KEY}","maxTimeoutSeconds":60,"extra":{{"feePayer":"2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4"}}}}]}}"#
    )
}

/// The examples, each behind its selector byte.
pub fn seeds(_testdata: &Path) -> Vec<Vec<u8>> {
    examples()
        .into_iter()
        .map(|(kind, json)| {
            let mut seed = vec![u8::try_from(kind).expect("few kinds")];
            seed.extend_from_slice(json.as_bytes());
            seed
        })
        .collect()
}
