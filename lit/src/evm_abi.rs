//! The function ABI inside an `evmContractConditions` entry, restricted to the form on which
//! Lit's two serializers agree.
//!
//! The hash in the identity is computed twice: by the client from Lit's JS canonical form
//! (`canonicalEVMContractConditionFormatter`: params as `{name, type}`, `constant` defaulting
//! to `false`, then `stateMutability`), and by the node, which deserializes the request into
//! `ethabi::Function` (ethabi 18.0.0) and serializes it again. The two agree only on a subset:
//! ethabi rewrites `uint` to `uint256`, maps unknown types such as `fixed` or `function` to
//! `uint8`, drops tuple component names, keeps `internalType` when present and writes
//! `stateMutability: "nonpayable"` when absent. A function ABI outside the subset would give
//! a ciphertext that no node can ever decrypt, found only at release time, so it is refused
//! here with the reason. Inside the subset the canonical JSON is a fixed point of the node's
//! round trip; `tests/vectors/evm_contract_vectors.json` holds hashes produced by Lit's JS SDK
//! and checked against ethabi 18.0.0 (see `tests/vectors/SOURCES.md`).

use serde::{Deserialize, Serialize};

use crate::error::LitError;

/// One input or output parameter. `internalType` is accepted and dropped, as Lit's JS SDK
/// drops it; `components` is read only to refuse tuples with a clear reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiParam {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "internalType", default, skip_serializing)]
    pub internal_type: Option<String>,
    #[serde(default, skip_serializing)]
    pub components: Option<serde_json::Value>,
}

/// The function ABI in canonical field order: name, inputs, outputs, constant,
/// stateMutability. `type` (only `"function"`) and the legacy `payable` flag are accepted and
/// dropped, as the JS SDK drops them and ethabi ignores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionAbi {
    pub name: String,
    pub inputs: Vec<AbiParam>,
    pub outputs: Vec<AbiParam>,
    #[serde(default)]
    pub constant: bool,
    #[serde(rename = "stateMutability")]
    pub state_mutability: Option<String>,
    #[serde(rename = "type", default, skip_serializing)]
    pub kind: Option<String>,
    #[serde(default, skip_serializing)]
    pub payable: Option<bool>,
}

const STATE_MUTABILITIES: [&str; 4] = ["pure", "view", "nonpayable", "payable"];

impl FunctionAbi {
    /// Refuses anything on which the JS canonical form and the node's ethabi round trip
    /// would differ. `at` names the condition in error messages.
    pub fn check(&self, at: &str) -> Result<(), LitError> {
        let refuse = |what: String| Err(LitError::Conditions(format!("{at}.functionAbi: {what}")));
        if let Some(kind) = &self.kind {
            if kind != "function" {
                return refuse(format!("type {kind:?} is not \"function\""));
            }
        }
        match self.state_mutability.as_deref() {
            None => return refuse(
                "stateMutability is required (the node would default it to \"nonpayable\", the JS SDK would omit it)".into(),
            ),
            Some(s) if !STATE_MUTABILITIES.contains(&s) => {
                return refuse(format!(
                    "stateMutability {s:?} is not one of {}",
                    STATE_MUTABILITIES.join(", ")
                ))
            }
            Some(_) => {}
        }
        for (list, params) in [("inputs", &self.inputs), ("outputs", &self.outputs)] {
            for (i, param) in params.iter().enumerate() {
                if param.components.is_some() || param.kind.starts_with("tuple") {
                    return refuse(format!(
                        "{list}[{i}] is a tuple; tuple parameters are not supported (the node's ethabi drops component names)"
                    ));
                }
                if let Err(why) = check_type(&param.kind) {
                    return refuse(format!("{list}[{i}].type {:?}: {why}", param.kind));
                }
            }
        }
        Ok(())
    }
}

/// Accepts exactly the ABI type strings that ethabi 18 writes back unchanged: `address`,
/// `bool`, `string`, `bytes`, `bytes1`..`bytes32`, `uint8`..`uint256` and `int8`..`int256` in
/// steps of 8, each followed by any number of `[]` or `[k]` (k ≥ 1, no leading zero).
pub fn check_type(kind: &str) -> Result<(), String> {
    let base_end = kind.find('[').unwrap_or(kind.len());
    let (base, mut suffix) = kind.split_at(base_end);
    check_base_type(base)?;
    while !suffix.is_empty() {
        let Some(inner) = suffix.strip_prefix('[') else {
            return Err("array suffixes must be [] or [k]".into());
        };
        let close = inner
            .find(']')
            .ok_or_else(|| "unterminated array suffix".to_string())?;
        let length = &inner[..close];
        if !length.is_empty() && !is_canonical_positive(length) {
            return Err(format!(
                "array length {length:?} must be a positive decimal without leading zeros"
            ));
        }
        suffix = &inner[close + 1..];
    }
    Ok(())
}

fn check_base_type(base: &str) -> Result<(), String> {
    if matches!(base, "address" | "bool" | "string" | "bytes") {
        return Ok(());
    }
    let sized = |prefix: &str, valid: fn(u32) -> bool| {
        base.strip_prefix(prefix)
            .filter(|n| is_canonical_positive(n))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(valid)
    };
    if sized("bytes", |n| (1..=32).contains(&n))
        || sized("uint", |n| n % 8 == 0 && (8..=256).contains(&n))
        || sized("int", |n| n % 8 == 0 && (8..=256).contains(&n))
    {
        return Ok(());
    }
    Err(match base {
        "uint" | "int" => format!("write the size: {base}256 (the node rewrites {base})"),
        _ => "not an elementary ABI type this signer can hash as the node does".into(),
    })
}

fn is_canonical_positive(digits: &str) -> bool {
    !digits.is_empty() && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::check_type;

    #[test]
    fn type_grammar_table() {
        for ok in [
            "address",
            "bool",
            "string",
            "bytes",
            "bytes1",
            "bytes32",
            "uint8",
            "uint256",
            "int8",
            "int128",
            "uint8[]",
            "bytes32[2]",
            "int128[][3]",
            "address[10][20]",
        ] {
            assert_eq!(check_type(ok), Ok(()), "{ok}");
        }
        for bad in [
            "uint",
            "int",
            "byte",
            "tuple",
            "tuple[]",
            "fixed",
            "ufixed128x18",
            "function",
            "address payable",
            "Uint8",
            "uint7",
            "uint264",
            "uint0",
            "uint08",
            "bytes0",
            "bytes33",
            "uint8[0]",
            "uint8[01]",
            "uint8[ ]",
            "uint8[]]",
            "uint8[",
            "uint8]",
            "uint8[-1]",
            "",
            "string[]x",
        ] {
            assert!(check_type(bad).is_err(), "{bad} accepted");
        }
    }
}
