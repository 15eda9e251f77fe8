//! Lit Action conditions as a Lit node evaluates them (lit-peer
//! `access_control::check_condition_via_lit_action`): fetch the action's code by its IPFS CID
//! (here: the actions this devnet knows, checked by CID), substitute the special parameters
//! (`substitute_special_params`), append Lit's wrapper, run it, and compare the response with
//! the condition's return-value test. The code runs in Node, in a fresh context with WebCrypto
//! and nothing of Node's own API (`action-worker.mjs`, in long-lived processes:
//! `action_runner.rs`), as in Lit's Deno runtime.

use std::path::PathBuf;
use std::time::Duration;

use super::action_runner::ActionRunners;
use super::session_check::SignedIn;
use aip_lit::conditions::EvmBasicCondition;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Lit's default limit for an action.
const ACTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Node processes running actions (WebCrypto's work goes to each one's thread pool too).
const RUNNERS: usize = 2;

/// The Lit Actions this network can fetch, and the Node processes that run them.
#[derive(Debug)]
pub struct LitActions {
    runners: ActionRunners,
    actions: Vec<(String, &'static str)>,
}

impl LitActions {
    /// The attested-release action, run by `node`.
    pub fn new(node: PathBuf) -> Self {
        Self {
            runners: ActionRunners::new(node, RUNNERS),
            actions: vec![(
                aip_lit::action::attested_release_cid(),
                aip_lit::action::ATTESTED_RELEASE_JS,
            )],
        }
    }

    /// Whether the condition holds for this requester. `Err` carries the reason.
    pub async fn check(
        &self,
        condition: &EvmBasicCondition,
        signed_in: &SignedIn,
    ) -> Result<(), String> {
        let cid = condition.contract_address.replace("ipfs://", "");
        let code = self
            .actions
            .iter()
            .find(|(known, _)| *known == cid)
            .map(|(_, code)| *code)
            .ok_or_else(|| format!("Lit Action {cid} is not on this network's IPFS"))?;
        let params = condition
            .parameters
            .iter()
            .map(|p| substitute(p, signed_in))
            .collect::<Result<Vec<_>, _>>()?;
        // Lit splices the parameters unescaped between double quotes, joined by `","`.
        let params = format!("\"{}\"", params.join("\",\""));
        let code_to_run = format!(
            "{code}\nconst litAsyncWrapper = async () => {{const actionTestResponse = await {}({params}); Lit.Actions.setResponse({{response: actionTestResponse.toString()}});}}\n litAsyncWrapper();",
            condition.method,
        );
        let response = self.runners.run(&code_to_run, ACTION_TIMEOUT).await?;
        if return_value_holds(
            &condition.return_value_test.comparator,
            &response,
            &condition.return_value_test.value,
        ) {
            Ok(())
        } else {
            Err(format!(
                "the Lit Action returned {response:?}; the condition wants {} {:?}",
                condition.return_value_test.comparator, condition.return_value_test.value
            ))
        }
    }
}

/// lit-peer `substitute_special_params`: `:userAddress` is the wallet's address,
/// `:currentActionIpfsId` is empty in a sign request, `:litParam:<name>` is the base64url
/// (no padding) value of the SIWE resource `litParam:<name>:<value>`, as UTF-8; anything else,
/// and a `:litParam` with no such resource, is left as it is.
fn substitute(param: &str, signed_in: &SignedIn) -> Result<String, String> {
    if param == ":userAddress" {
        return Ok(signed_in.address.clone());
    }
    if param == ":currentActionIpfsId" {
        return Ok(String::new());
    }
    if param.starts_with(":litParam") {
        for resource in &signed_in.resources {
            let parts: Vec<&str> = resource.split(':').collect();
            if parts.len() < 3 {
                return Err("Error replacing special param. Resource name is invalid and does not have enough parts.".into());
            }
            let name = format!("{}:{}", parts[0], parts[1]);
            if name == param[1..] {
                let value = &resource[name.len() + 1..];
                let decoded = URL_SAFE_NO_PAD
                    .decode(value.as_bytes())
                    .map_err(|e| format!("Error decoding special param with base64url: {e}"))?;
                return String::from_utf8(decoded)
                    .map_err(|e| format!("Error decoding special param with utf8: {e}"));
            }
        }
    }
    Ok(param.to_owned())
}

/// lit-peer `check_return_value_str`: string comparisons.
fn return_value_holds(comparator: &str, returned: &str, wanted: &str) -> bool {
    match comparator {
        ">" => returned > wanted,
        "<" => returned < wanted,
        ">=" => returned >= wanted,
        "<=" => returned <= wanted,
        "=" => returned == wanted,
        "!=" => returned != wanted,
        "contains" => returned.contains(wanted),
        "!contains" => !returned.contains(wanted),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in(resources: &[&str]) -> SignedIn {
        SignedIn {
            address: "0xAbC0000000000000000000000000000000000001".into(),
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn special_params_are_substituted_as_lit_does() {
        let m = signed_in(&["litParam:attestation:aGVsbG8", "litParam:other:d29ybGQ"]);
        assert_eq!(substitute(":litParam:attestation", &m).unwrap(), "hello");
        assert_eq!(substitute(":litParam:other", &m).unwrap(), "world");
        assert_eq!(
            substitute(":litParam:missing", &m).unwrap(),
            ":litParam:missing"
        );
        assert_eq!(substitute(":userAddress", &m).unwrap(), m.address);
        assert_eq!(substitute(":currentActionIpfsId", &m).unwrap(), "");
        assert_eq!(substitute("literal", &m).unwrap(), "literal");
        // Lit refuses a resource of fewer than three parts, and padded or non-base64url values.
        assert!(substitute(":litParam:x", &signed_in(&["urn:x"])).is_err());
        assert!(substitute(":litParam:x", &signed_in(&["litParam:x:aGVsbG8="])).is_err());
    }

    #[test]
    fn return_values_compare_as_strings() {
        assert!(return_value_holds("=", "true", "true"));
        assert!(!return_value_holds("=", "false", "true"));
        assert!(return_value_holds(">", "9", "10"));
        assert!(!return_value_holds("~", "true", "true"));
    }
}
