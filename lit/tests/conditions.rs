#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Canonical conditions: Lit's own hash vector, the node's field order and precedence.

use aip_lit::conditions::{attested_release, Conditions};
use serde_json::{json, Value};

#[test]
fn lit_hash_vector() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/testdata/lit/acc_hash_vectors.json"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for vector in v["vectors"].as_array().unwrap() {
        let canonical = vector["canonical_json"].as_str().unwrap();
        // Feed the conditions with shuffled keys, spaces and an unknown field: the canonical
        // form and hash must still be Lit's.
        let parsed: Value = serde_json::from_str(canonical).unwrap();
        let mut shuffled = parsed.clone();
        shuffled[0]["extraField"] = json!("dropped by the node");
        let text =
            serde_json::to_string_pretty(&json!({ "accessControlConditions": shuffled })).unwrap();
        let conditions = Conditions::from_request(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(conditions.canonical_json(), canonical);
        assert_eq!(
            conditions.hash_hex(),
            vector["sha256_hex"].as_str().unwrap()
        );
    }
}

#[test]
fn operators_groups_and_precedence() {
    let basic = json!({"contractAddress":"","chain":"ethereum","standardContractType":"","method":"eth_getBalance","parameters":[":userAddress","latest"],"returnValueTest":{"value":"0","comparator":">="}});
    let sol = json!({"method":"getBalance","params":[":userAddress"],"chain":"solana","returnValueTest":{"key":"","comparator":">=","value":"1"}});
    let request = json!({
        "unifiedAccessControlConditions": [ {"conditionType":"evmBasic", "contractAddress":"","chain":"ethereum","standardContractType":"","method":"eth_getBalance","parameters":[":userAddress","latest"],"returnValueTest":{"comparator":">=","value":"0"}}, {"operator":"or"}, [ {"conditionType":"solRpc", "method":"getBalance","params":[":userAddress"],"chain":"solana","returnValueTest":{"key":"","comparator":">=","value":"1"}} ] ],
        "solRpcConditions": [sol],
    });
    // solRpcConditions take precedence over unified ones.
    let c = Conditions::from_request(&request).unwrap();
    assert_eq!(c.field(), "solRpcConditions");
    assert_eq!(
        c.canonical_json(),
        r#"[{"method":"getBalance","params":[":userAddress"],"pdaParams":null,"pdaInterface":null,"pdaKey":null,"chain":"solana","returnValueTest":{"key":"","comparator":">=","value":"1"}}]"#
    );

    let unified = Conditions::from_field(
        "unifiedAccessControlConditions",
        &request["unifiedAccessControlConditions"],
    )
    .unwrap();
    let canonical = unified.canonical_json();
    assert!(!canonical.contains("conditionType"), "{canonical}");
    assert!(
        canonical.contains(r#"{"operator":"or"},[{"method":"getBalance""#),
        "{canonical}"
    );
    assert!(
        canonical.starts_with(r#"[{"contractAddress":"","chain":"ethereum""#),
        "{canonical}"
    );

    let access = Conditions::from_request(&json!({"accessControlConditions": [basic.clone(), {"operator":"and"}, basic], "solRpcConditions": []})).unwrap();
    assert_eq!(access.field(), "accessControlConditions");
    assert!(access
        .canonical_json()
        .contains(r#"},{"operator":"and"},{"#));
}

#[test]
fn refusals_are_specific() {
    for (request, needle) in [
        (json!({}), "none of"),
        (json!({"accessControlConditions": []}), "empty"),
        (
            json!({"accessControlConditions": [{"operator":"AND"}]}),
            "accessControlConditions",
        ),
        (
            json!({"accessControlConditions": [{"chain":"ethereum"}]}),
            "accessControlConditions",
        ),
        (json!({"evmContractConditions": [{}]}), "not supported"),
    ] {
        let err = Conditions::from_request(&request).unwrap_err().to_string();
        assert!(err.contains(needle), "{request}: {err}");
    }
}

#[test]
fn the_attested_release_condition_has_the_designed_shape() {
    let c = attested_release("QmCid", "abcd");
    assert_eq!(
        c.canonical_json(),
        r#"[{"contractAddress":"ipfs://QmCid","chain":"ethereum","standardContractType":"LitAction","method":"go","parameters":[":litParam:attestation","abcd"],"returnValueTest":{"comparator":"=","value":"true"}}]"#
    );
    // Round trip through a request gives the same hash.
    let again =
        Conditions::from_request(&json!({ "accessControlConditions": c.to_value() })).unwrap();
    assert_eq!(again.hash_hex(), c.hash_hex());
    assert!(c
        .identity("00")
        .starts_with(&format!("lit-accesscontrolcondition://{}/", c.hash_hex())));
}
