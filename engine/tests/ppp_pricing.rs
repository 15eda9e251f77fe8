//! PPP pricing: every country's ratio pinned to the World Bank's 2023 figure (the data file's
//! values, checked here independently), and the documented order of the bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aip_engine::pricing::{
    ppp_factor, ppp_factors, suggest, PppConfig, PricingError, PricingRequest, UserProfile,
};

const RATIOS_2023: [(&str, f64); 27] = [
    ("US", 1.0),
    ("GB", 0.829565847485324),
    ("DE", 0.760701673664719),
    ("FR", 0.726997449278444),
    ("IT", 0.653105713815698),
    ("ES", 0.619125765929423),
    ("NL", 0.799548411643151),
    ("SE", 0.801993557135082),
    ("CH", 1.07544101770749),
    ("CA", 0.866671984047712),
    ("AU", 0.936294740809541),
    ("JP", 0.673903150861434),
    ("KR", 0.612982311278757),
    ("PL", 0.447049683050537),
    ("MX", 0.543954273273232),
    ("BR", 0.487923600908259),
    ("AR", 0.467617700489386),
    ("CO", 0.323915017839991),
    ("CL", 0.513549690571114),
    ("TR", 0.294121216465806),
    ("ZA", 0.394585278201557),
    ("EG", 0.186675472131846),
    ("NG", 0.256581617405342),
    ("KE", 0.308355911772777),
    ("IN", 0.244192422211422),
    ("ID", 0.31644228340369),
    ("VN", 0.286078085397872),
];

fn request(price: f64, country: Option<&str>, config: Option<PppConfig>) -> PricingRequest {
    PricingRequest {
        base_price: price,
        agent_id: None,
        product_id: None,
        currency: None,
        user_profile: Some(UserProfile {
            location_country: country.map(str::to_owned),
        }),
        ppp_config: config,
    }
}

#[test]
fn each_countrys_factor_is_the_world_banks_2023_ratio() {
    assert_eq!(ppp_factors().len(), 27);
    for (country, ratio) in RATIOS_2023 {
        let factor = ppp_factor(country).unwrap_or_else(|| panic!("{country} missing"));
        assert_eq!(factor.ratio, ratio, "{country}");
        // $100.00 at that ratio, to the cent, half up.
        let suggestion = suggest(&request(100.0, Some(country), None)).unwrap();
        assert_eq!(
            suggestion.suggested_amount,
            (10_000.0 * ratio).round() / 100.0,
            "{country}"
        );
        assert_eq!(suggestion.country_ratio, Some(ratio));
        assert_eq!(suggestion.ppp_adjusted, country != "US", "{country}");
    }
    assert_eq!(ppp_factor("br").unwrap().name, "Brazil");
    assert_eq!(ppp_factor("KR").unwrap().name, "Korea, Rep.");
}

#[test]
fn the_bounds_apply_in_their_documented_order() {
    let config = |min, max, floor, discount| PppConfig {
        enabled: true,
        min_factor: min,
        max_factor: max,
        floor_price: floor,
        max_discount_percent: discount,
    };
    // (name, country, config, suggested, factor)
    let rows = [
        (
            "India unbounded",
            "IN",
            config(None, None, None, None),
            24.42,
            0.244192422211422,
        ),
        (
            "min_factor raises",
            "IN",
            config(Some(0.5), None, None, None),
            50.0,
            0.5,
        ),
        (
            "max_factor lowers",
            "CH",
            config(None, Some(1.0), None, None),
            100.0,
            1.0,
        ),
        (
            "max discount 40%",
            "IN",
            config(None, None, None, Some(40.0)),
            60.0,
            0.6,
        ),
        // min_factor first (0.3), then the discount limit lifts it to 0.6.
        (
            "min, then discount",
            "IN",
            config(Some(0.3), None, None, Some(40.0)),
            60.0,
            0.6,
        ),
        // The discount limit after max_factor: max 0.5 then the 30% limit lifts to 0.7.
        (
            "max, then discount",
            "CH",
            config(None, Some(0.5), None, Some(30.0)),
            70.0,
            0.7,
        ),
        // The floor applies last, to the price, not the factor.
        (
            "floor last",
            "EG",
            config(Some(0.2), None, Some(25.0), None),
            25.0,
            0.2,
        ),
        (
            "floor below",
            "EG",
            config(None, None, Some(10.0), None),
            18.67,
            0.186675472131846,
        ),
    ];
    for (name, country, config, amount, factor) in rows {
        let s = suggest(&request(100.0, Some(country), Some(config))).unwrap();
        assert_eq!(s.suggested_amount, amount, "{name}: {}", s.reasoning);
        assert_eq!(s.adjustment_factor, Some(factor), "{name}");
    }
    // Cents round half up: $9.99 in India is 2.43951... -> $2.44.
    let s = suggest(&request(9.99, Some("IN"), None)).unwrap();
    assert_eq!(s.suggested_amount, 2.44);
}

#[test]
fn unknown_missing_and_disabled_answer_the_base_price_with_the_reason() {
    let unknown = suggest(&request(50.0, Some("ZZ"), None)).unwrap();
    assert_eq!(
        (unknown.suggested_amount, unknown.adjustment_factor),
        (50.0, Some(1.0))
    );
    assert!(!unknown.ppp_adjusted);
    assert!(
        unknown.reasoning.contains("No PPP data for country \"ZZ\""),
        "{}",
        unknown.reasoning
    );
    let missing = suggest(&request(50.0, None, None)).unwrap();
    assert!(missing.reasoning.contains("No location_country"));
    let disabled = PppConfig {
        enabled: false,
        ..PppConfig::default()
    };
    let off = suggest(&request(50.0, Some("IN"), Some(disabled))).unwrap();
    assert_eq!((off.suggested_amount, off.adjustment_factor), (50.0, None));
    assert!(!off.ppp_adjusted);
}

#[test]
fn bad_input_is_refused() {
    for price in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
        assert_eq!(
            suggest(&request(price, None, None)),
            Err(PricingError::BasePrice)
        );
    }
    let eur = PricingRequest {
        currency: Some("EUR".into()),
        ..request(10.0, None, None)
    };
    assert!(matches!(suggest(&eur), Err(PricingError::Currency(_))));
    let bad = [
        PppConfig {
            min_factor: Some(0.0),
            ..PppConfig::default()
        },
        PppConfig {
            max_factor: Some(11.0),
            ..PppConfig::default()
        },
        PppConfig {
            min_factor: Some(0.8),
            max_factor: Some(0.5),
            ..PppConfig::default()
        },
        PppConfig {
            max_discount_percent: Some(100.0),
            ..PppConfig::default()
        },
        PppConfig {
            floor_price: Some(-1.0),
            ..PppConfig::default()
        },
    ];
    for config in bad {
        assert!(
            matches!(
                suggest(&request(10.0, Some("IN"), Some(config.clone()))),
                Err(PricingError::Config(_))
            ),
            "{config:?}"
        );
    }
    // Unknown fields are refused, not ignored.
    let text = r#"{"base_price": 10, "ppp_config": {"enabled": true, "ceiling_price": 5}}"#;
    assert!(serde_json::from_str::<PricingRequest>(text).is_err());
}
