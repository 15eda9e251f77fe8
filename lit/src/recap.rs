//! ReCap (EIP-5573) capabilities, as Lit's nodes read them from a sign-in: the resource
//! `urn:recap:<base64url(JCS JSON)>` and the sentence the SIWE statement must end with.
//!
//! A Naga session signature is only as good as the wallet sign-in it carries: the node
//! (lit-peer `auth/capabilities/recap.rs`) decodes every `urn:recap:` resource with the
//! `siwe-recap` 0.2 crate, requires the statement to end with each capability's sentence, and
//! needs one capability granting `Threshold/Decryption` (or `*/*`) on
//! `lit-accesscontrolcondition://<condition hash>/<data hash>` (or `lit-accesscontrolcondition://*`).
//!
//! The encoding is `siwe-recap`'s: `{"att":{resource:{ability:[{}]}},"prf":[]}` serialised by
//! JCS (RFC 8785: sorted keys, no whitespace), base64url without padding; the statement is
//! `I further authorize the stated URI to perform the following actions on my behalf:` and one
//! ` (n) '<namespace>': '<name>', … for '<resource>'.` per resource and namespace, in sorted
//! order. Checked byte for byte against the crate's own test message (tests below).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The URI scheme prefix of a ReCap resource.
pub const RESOURCE_PREFIX: &str = "urn:recap:";
/// Lit's ReCap ability for decrypting under access-control conditions.
pub const THRESHOLD_DECRYPTION: &str = "Threshold/Decryption";

const STATEMENT_PREFIX: &str =
    "I further authorize the stated URI to perform the following actions on my behalf:";

/// A set of delegated abilities without caveats or proofs: resource URI -> abilities
/// (`namespace/name`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recap {
    attenuations: BTreeMap<String, Vec<String>>,
}

impl Recap {
    /// Grants `ability` on `resource`. Resource and ability must be the URI and
    /// `namespace/name` strings as they will be signed (no escaping is applied).
    pub fn with(mut self, resource: &str, ability: &str) -> Self {
        let abilities = self.attenuations.entry(resource.to_owned()).or_default();
        if !abilities.iter().any(|a| a == ability) {
            abilities.push(ability.to_owned());
            abilities.sort();
        }
        self
    }

    /// The capability to decrypt one identity (`lit-accesscontrolcondition://<hash>/<data hash>`).
    pub fn decryption_of(identity: &str) -> Self {
        Self::default().with(identity, THRESHOLD_DECRYPTION)
    }

    /// JCS of the capability: keys sorted at every level, no whitespace. Every key and value
    /// here is a plain string, so sorted maps and `serde_json`'s escaping are exactly JCS.
    fn canonical_json(&self) -> String {
        let att: BTreeMap<&str, BTreeMap<&str, [serde_json::Value; 1]>> = self
            .attenuations
            .iter()
            .map(|(resource, abilities)| {
                let caveats = abilities
                    .iter()
                    .map(|a| (a.as_str(), [serde_json::json!({})]))
                    .collect();
                (resource.as_str(), caveats)
            })
            .collect();
        serde_json::json!({ "att": att, "prf": [] }).to_string()
    }

    /// The SIWE resource that carries this capability.
    pub fn resource(&self) -> String {
        format!(
            "{RESOURCE_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.canonical_json())
        )
    }

    /// The sentence the sign-in's statement must end with.
    pub fn statement(&self) -> String {
        let mut lines = Vec::new();
        for (resource, abilities) in &self.attenuations {
            let mut by_namespace: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for ability in abilities {
                let (namespace, name) = ability.split_once('/').unwrap_or((ability, ""));
                by_namespace.entry(namespace).or_default().push(name);
            }
            for (namespace, names) in by_namespace {
                let names: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                lines.push(format!(
                    "'{namespace}': {} for '{resource}'.",
                    names.join(", ")
                ));
            }
        }
        let numbered: String = lines
            .iter()
            .enumerate()
            .map(|(n, line)| format!(" ({}) {line}", n + 1))
            .collect();
        format!("{STATEMENT_PREFIX}{numbered}")
    }

    /// `statement` followed by this capability's sentence, as `siwe-recap` appends it.
    pub fn append_to(&self, statement: &str) -> String {
        if statement.is_empty() {
            self.statement()
        } else {
            format!("{statement} {}", self.statement())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `siwe-recap` 0.2.0's `tests/siwe_with_caps.txt` (the message its `build_delegation`
    /// test produces): statement and resource, byte for byte.
    #[test]
    fn the_siwe_recap_crates_own_message() {
        let recap = Recap::default()
            .with("urn:credential:type:type1", "credential/present")
            .with("kepler:ens:example.eth://default/kv", "kv/list")
            .with("kepler:ens:example.eth://default/kv", "kv/get")
            .with("kepler:ens:example.eth://default/kv", "kv/metadata");
        let recap = ["kv/list", "kv/get", "kv/metadata", "kv/put", "kv/delete"]
            .iter()
            .fold(recap, |r, a| {
                r.with("kepler:ens:example.eth://default/kv/public", a)
                    .with("kepler:ens:example.eth://default/kv/dapp-space", a)
            });
        assert_eq!(
            recap.statement(),
            "I further authorize the stated URI to perform the following actions on my behalf: (1) 'kv': 'get', 'list', 'metadata' for 'kepler:ens:example.eth://default/kv'. (2) 'kv': 'delete', 'get', 'list', 'metadata', 'put' for 'kepler:ens:example.eth://default/kv/dapp-space'. (3) 'kv': 'delete', 'get', 'list', 'metadata', 'put' for 'kepler:ens:example.eth://default/kv/public'. (4) 'credential': 'present' for 'urn:credential:type:type1'."
        );
        assert_eq!(
            recap.resource(),
            "urn:recap:eyJhdHQiOnsia2VwbGVyOmVuczpleGFtcGxlLmV0aDovL2RlZmF1bHQva3YiOnsia3YvZ2V0Ijpbe31dLCJrdi9saXN0Ijpbe31dLCJrdi9tZXRhZGF0YSI6W3t9XX0sImtlcGxlcjplbnM6ZXhhbXBsZS5ldGg6Ly9kZWZhdWx0L2t2L2RhcHAtc3BhY2UiOnsia3YvZGVsZXRlIjpbe31dLCJrdi9nZXQiOlt7fV0sImt2L2xpc3QiOlt7fV0sImt2L21ldGFkYXRhIjpbe31dLCJrdi9wdXQiOlt7fV19LCJrZXBsZXI6ZW5zOmV4YW1wbGUuZXRoOi8vZGVmYXVsdC9rdi9wdWJsaWMiOnsia3YvZGVsZXRlIjpbe31dLCJrdi9nZXQiOlt7fV0sImt2L2xpc3QiOlt7fV0sImt2L21ldGFkYXRhIjpbe31dLCJrdi9wdXQiOlt7fV19LCJ1cm46Y3JlZGVudGlhbDp0eXBlOnR5cGUxIjp7ImNyZWRlbnRpYWwvcHJlc2VudCI6W3t9XX19LCJwcmYiOltdfQ"
        );
    }

    #[test]
    fn the_decryption_capability_names_one_identity() {
        let identity = "lit-accesscontrolcondition://ab/cd";
        let recap = Recap::decryption_of(identity);
        assert_eq!(
            recap.statement(),
            "I further authorize the stated URI to perform the following actions on my behalf: (1) 'Threshold': 'Decryption' for 'lit-accesscontrolcondition://ab/cd'."
        );
        let encoded = recap.resource();
        let json = URL_SAFE_NO_PAD
            .decode(encoded.strip_prefix(RESOURCE_PREFIX).unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"att":{"lit-accesscontrolcondition://ab/cd":{"Threshold/Decryption":[{}]}},"prf":[]}"#
        );
        assert_eq!(
            recap.append_to("aip-signer"),
            format!("aip-signer {}", recap.statement())
        );
    }
}
