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
        (
            json!({"evmContractConditions": [{}]}),
            "evmContractConditions",
        ),
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
        r#"[{"contractAddress":"ipfs://QmCid","chain":"ethereum","standardContractType":"LitAction","method":"go","parameters":[":litParam:attestation",":litParam:allowedSets","abcd",":userAddress"],"returnValueTest":{"comparator":"=","value":"true"}}]"#
    );
    // Round trip through a request gives the same hash.
    let again =
        Conditions::from_request(&json!({ "accessControlConditions": c.to_value() })).unwrap();
    assert_eq!(again.hash_hex(), c.hash_hex());
    assert!(c
        .identity("00")
        .starts_with(&format!("lit-accesscontrolcondition://{}/", c.hash_hex())));
}

fn evm_vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/evm_contract_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Hashes produced by Lit's JS SDK 7.4.0 (raw ABIs with internalType, `type`, no `constant`;
/// operators; nested groups; unified lists) and checked against ethabi 18.0.0's round trip.
#[test]
fn evm_contract_conditions_hash_as_lits_js_sdk() {
    let vectors = evm_vectors();
    let cases = vectors["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let field = case["field"].as_str().unwrap();
        let c = Conditions::from_field(field, &case["conditions"]).unwrap();
        assert_eq!(c.field(), field);
        assert_eq!(
            c.canonical_json(),
            case["canonical"].as_str().unwrap(),
            "{}",
            case["name"]
        );
        assert_eq!(
            c.hash_hex(),
            case["hash"].as_str().unwrap(),
            "{}",
            case["name"]
        );
        // What we send the node is the canonical form, which parses back to itself.
        let again = Conditions::from_field(field, &c.to_value()).unwrap();
        assert_eq!(again.canonical_json(), c.canonical_json());
    }
}

/// Every ABI on which the JS SDK and the node's ethabi would hash differently is refused
/// with the place and the reason; nothing is silently rewritten.
#[test]
fn evm_contract_abis_outside_the_agreed_form_are_refused() {
    let vectors = evm_vectors();
    let base = vectors["cases"][0]["conditions"][0].clone();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = base.clone();
        edit(&mut c);
        json!([{"operator": "and"}, [c]])
    };
    let table: Vec<(Value, &str)> = vec![
        (
            with(&|c| c["functionAbi"]["inputs"][0]["type"] = json!("uint")),
            "inputs[0].type \"uint\": write the size: uint256",
        ),
        (
            with(&|c| c["functionAbi"]["outputs"][0]["type"] = json!("fixed128x18")),
            "outputs[0].type",
        ),
        (
            with(&|c| c["functionAbi"]["inputs"][0]["type"] = json!("uint8[0]")),
            "array length",
        ),
        (
            with(&|c| {
                c["functionAbi"]["inputs"][0] =
                    json!({"name":"t","type":"tuple","components":[{"name":"a","type":"uint8"}]})
            }),
            "tuple",
        ),
        (
            with(&|c| {
                c["functionAbi"]
                    .as_object_mut()
                    .unwrap()
                    .remove("stateMutability");
            }),
            "stateMutability is required",
        ),
        (
            with(&|c| c["functionAbi"]["stateMutability"] = json!("View")),
            "stateMutability \"View\"",
        ),
        (
            with(&|c| c["functionAbi"]["type"] = json!("event")),
            "type \"event\"",
        ),
        (
            with(&|c| c["functionAbi"]["constant"] = json!("yes")),
            "evmContractConditions",
        ),
        (
            with(&|c| c["functionAbi"]["inputs"][0]["indexed"] = json!(true)),
            "evmContractConditions",
        ),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("functionAbi");
            }),
            "evmContractConditions",
        ),
    ];
    for (conditions, needle) in table {
        let err = Conditions::from_field("evmContractConditions", &conditions)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{conditions}: {err}");
        if needle != "evmContractConditions" {
            assert!(
                err.contains("evmContractConditions[1][0].functionAbi"),
                "{err}"
            );
        }
    }
    // The same refusal inside a unified list.
    let mut unified = base.clone();
    unified["conditionType"] = json!("evmContract");
    unified["functionAbi"]["inputs"][0]["type"] = json!("int");
    let err = Conditions::from_field("unifiedAccessControlConditions", &json!([unified]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unifiedAccessControlConditions[0].functionAbi: inputs[0]"),
        "{err}"
    );
}
