//! Access-control conditions and their canonical form.
//!
//! The identity a Lit node signs contains SHA-256 of the conditions *as the node re-serializes
//! them*: it deserializes the request into typed structs (unknown fields dropped, a fixed field
//! order, no spaces) and serializes them again with serde_json. These types mirror the node's
//! (LIT-Protocol/lit-peer, lit-node-core `control_condition_item.rs`), so `canonical_json`
//! reproduces its bytes. Items are a condition, an operator (`{"operator":"and"|"or"}`) or a
//! nested group (an array), as in the node's untagged `ControlConditionItem`.
//!
//! Supported: `accessControlConditions` (EVM basic, including Lit Action conditions),
//! `evmContractConditions` (function ABIs restricted to the form on which Lit's JS SDK and the
//! node's ethabi agree, see [`crate::evm_abi`]), `solRpcConditions`, and
//! `unifiedAccessControlConditions` of those three kinds (`conditionType` is dropped, as the
//! node does). Cosmos conditions are refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::LitError;
use crate::evm_abi::FunctionAbi;

/// `returnValueTest` of EVM basic conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnValueTest {
    pub comparator: String,
    pub value: String,
}

/// `returnValueTest` of Solana RPC conditions (with the result key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnValueTestV2 {
    pub key: String,
    pub comparator: String,
    pub value: String,
}

/// An `accessControlConditions` entry (the node's JsonAccessControlCondition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvmBasicCondition {
    pub contract_address: String,
    pub chain: String,
    pub standard_contract_type: String,
    pub method: String,
    pub parameters: Vec<String>,
    pub return_value_test: ReturnValueTest,
}

/// `pdaInterface` of a Solana RPC condition. The node keeps `fields` in a HashMap (no fixed
/// order); here they are serialized sorted by name, which matches whenever there is one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolPdaInterface {
    pub offset: u64,
    pub fields: BTreeMap<String, u64>,
}

/// A `solRpcConditions` entry (the node's SolRpcConditionV2Options; absent options are
/// serialized as null, as the node does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolRpcCondition {
    pub method: String,
    pub params: Vec<Value>,
    pub pda_params: Option<Vec<String>>,
    pub pda_interface: Option<SolPdaInterface>,
    pub pda_key: Option<String>,
    pub chain: String,
    pub return_value_test: ReturnValueTestV2,
}

/// An `evmContractConditions` entry (the node's EVMContractCondition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvmContractCondition {
    pub contract_address: String,
    pub function_name: String,
    pub function_params: Vec<String>,
    pub function_abi: FunctionAbi,
    pub chain: String,
    pub return_value_test: ReturnValueTestV2,
}

/// A unified condition: tried as EVM basic first, then Solana RPC, then EVM contract (the
/// node's order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UnifiedCondition {
    EvmBasic(EvmBasicCondition),
    SolRpc(SolRpcCondition),
    EvmContract(EvmContractCondition),
}

/// Boolean operators between conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Operator {
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorItem {
    pub operator: Operator,
}

/// A condition, an operator, or a nested group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Item<T> {
    Condition(T),
    Operator(OperatorItem),
    Group(Vec<Item<T>>),
}

/// One kind of condition list, as a request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditions {
    AccessControl(Vec<Item<EvmBasicCondition>>),
    EvmContract(Vec<Item<EvmContractCondition>>),
    SolRpc(Vec<Item<SolRpcCondition>>),
    Unified(Vec<Item<UnifiedCondition>>),
}

/// The request fields that may carry conditions, in Lit's order of precedence.
const FIELDS: [&str; 4] = [
    "accessControlConditions",
    "evmContractConditions",
    "solRpcConditions",
    "unifiedAccessControlConditions",
];

fn parse_list<T: for<'de> Deserialize<'de>>(
    field: &str,
    value: &Value,
) -> Result<Vec<Item<T>>, LitError> {
    let items: Vec<Item<T>> = serde_json::from_value(value.clone())
        .map_err(|e| LitError::Conditions(format!("{field}: {e}")))?;
    if items.is_empty() {
        return Err(LitError::Conditions(format!("{field} is empty")));
    }
    Ok(items)
}

/// Runs `check` on every condition of a list, nested groups included, stopping at the first
/// error; `at` names each condition by its path (`evmContractConditions[2][0]`).
pub fn check_each<T, E>(
    at: &str,
    items: &[Item<T>],
    check: &mut impl FnMut(&str, &T) -> Result<(), E>,
) -> Result<(), E> {
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}[{i}]");
        match item {
            Item::Condition(c) => check(&here, c)?,
            Item::Group(group) => check_each(&here, group, check)?,
            Item::Operator(_) => {}
        }
    }
    Ok(())
}

impl Conditions {
    /// Picks the conditions from a request object (`{"accessControlConditions": [...], ...}`)
    /// by Lit's precedence: accessControlConditions > evmContractConditions >
    /// solRpcConditions > unifiedAccessControlConditions.
    pub fn from_request(request: &Value) -> Result<Self, LitError> {
        let field = FIELDS
            .iter()
            .find(|f| request.get(**f).is_some_and(|v| !v.is_null()))
            .ok_or_else(|| {
                LitError::Conditions(format!("none of {} is present", FIELDS.join(", ")))
            })?;
        Self::from_field(field, &request[*field])
    }

    /// Parses one condition list of the named kind.
    pub fn from_field(field: &str, value: &Value) -> Result<Self, LitError> {
        match field {
            "accessControlConditions" => parse_list(field, value).map(Conditions::AccessControl),
            "solRpcConditions" => parse_list(field, value).map(Conditions::SolRpc),
            "unifiedAccessControlConditions" => {
                let items = parse_list(field, value)?;
                check_each(field, &items, &mut |at, c: &UnifiedCondition| match c {
                    UnifiedCondition::EvmContract(c) => c.function_abi.check(at),
                    UnifiedCondition::EvmBasic(_) | UnifiedCondition::SolRpc(_) => Ok(()),
                })?;
                Ok(Conditions::Unified(items))
            }
            "evmContractConditions" => {
                let items = parse_list(field, value)?;
                check_each(field, &items, &mut |at, c: &EvmContractCondition| {
                    c.function_abi.check(at)
                })?;
                Ok(Conditions::EvmContract(items))
            }
            other => Err(LitError::Conditions(format!(
                "unknown condition field {other:?}"
            ))),
        }
    }

    /// The request field these conditions travel in.
    pub fn field(&self) -> &'static str {
        match self {
            Conditions::AccessControl(_) => "accessControlConditions",
            Conditions::EvmContract(_) => "evmContractConditions",
            Conditions::SolRpc(_) => "solRpcConditions",
            Conditions::Unified(_) => "unifiedAccessControlConditions",
        }
    }

    /// The conditions as the node re-serializes them.
    pub fn canonical_json(&self) -> String {
        // Serializing these plain structs to a String cannot fail.
        match self {
            Conditions::AccessControl(items) => serde_json::to_string(items),
            Conditions::EvmContract(items) => serde_json::to_string(items),
            Conditions::SolRpc(items) => serde_json::to_string(items),
            Conditions::Unified(items) => serde_json::to_string(items),
        }
        .unwrap_or_default()
    }

    /// SHA-256 of the canonical JSON, lowercase hex: the first part of the identity.
    pub fn hash_hex(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The identity nodes sign for a plaintext with this data hash.
    pub fn identity(&self, data_to_encrypt_hash_hex: &str) -> String {
        crate::identity::identity(&self.hash_hex(), data_to_encrypt_hash_hex)
    }

    /// The canonical conditions as a JSON value, for building requests.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.canonical_json()).unwrap_or(Value::Null)
    }
}

/// The attested-release condition of docs/design.md: a Lit Action (`ipfs://<CID>`) that verifies
/// the enclave's evidence against the allowed measurement sets whose hash is given.
pub fn attested_release(action_cid: &str, allowed_sets_hash_hex: &str) -> Conditions {
    Conditions::AccessControl(vec![Item::Condition(EvmBasicCondition {
        contract_address: format!("ipfs://{action_cid}"),
        chain: "ethereum".into(),
        standard_contract_type: "LitAction".into(),
        method: "go".into(),
        parameters: vec![
            ":litParam:attestation".into(),
            ":litParam:allowedSets".into(),
            allowed_sets_hash_hex.into(),
            ":userAddress".into(),
        ],
        return_value_test: ReturnValueTest {
            comparator: "=".into(),
            value: "true".into(),
        },
    })])
}
