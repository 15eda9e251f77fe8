// Mirrors lit-node-core's condition types (serde derive + ethabi 18.0.0) to re-serialize
// canonical JSON the way the node does.
use serde::{Deserialize, Serialize};
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rvt2 { key: String, comparator: String, value: String }
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rvt { comparator: String, value: String }
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Evm { contract_address: String, function_name: String, function_params: Vec<String>, function_abi: ethabi::Function, chain: String, return_value_test: Rvt2 }
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Basic { contract_address: String, chain: String, standard_contract_type: String, method: String, parameters: Vec<String>, return_value_test: Rvt }
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Op { operator: String }
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Item<T> { Condition(T), Operator(Op), Group(Vec<Item<T>>) }
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Unified { Basic(Basic), Evm(Evm) }
fn main() {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap()).unwrap();
    for case in v["cases"].as_array().unwrap() {
        let canonical = case["canonical"].as_str().unwrap();
        let again = if case["field"] == "evmContractConditions" {
            serde_json::to_string(&serde_json::from_str::<Vec<Item<Evm>>>(canonical).unwrap()).unwrap()
        } else {
            serde_json::to_string(&serde_json::from_str::<Vec<Item<Unified>>>(canonical).unwrap()).unwrap()
        };
        println!("{} fixed_point={}", case["name"], again == canonical);
    }
}
