//! The attested-release Lit Action condition, evaluated natively (the JavaScript twin is
//! lit/actions/attested-release.js): the node releases its share only to evidence from an
//! allowed measurement, fresh against this node's own challenge, and seals it with HPKE to the
//! key the evidence binds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aip_attestation::{clock, BoundKeys, Checks, Evidence, MeasurementPolicy, Verifier};
use aip_lit::conditions::EvmBasicCondition;
use aip_lit::wire::{challenges_nonce, AttestationParam};
use base64::Engine as _;
use serde_json::Value;

/// A challenge is good for this long after the handshake that issued it, and once.
const CHALLENGE_LIFETIME: Duration = Duration::from_secs(300);
/// Outstanding challenges per node; a flood of handshakes cannot grow memory past this.
const MAX_CHALLENGES: usize = 4096;

/// The network-wide configuration of the attested release.
///
/// The measurement policy is read from its file at every request: a deployment's policy pins
/// the enclave's configuration identity, and that configuration names the nodes, so the file
/// is written after the network has started (as an operator would publish a new policy).
/// Like the production action, it refuses a policy with an entry that does not pin the
/// configuration: such an entry would release keys to its image under any configuration,
/// including one naming the host's own Lit network or RPC endpoints.
#[derive(Debug)]
pub struct AttestedRelease {
    verifier: Verifier,
    policy_path: PathBuf,
    action_address: String,
}

/// The policy as read for one request, with its hash.
struct LoadedPolicy {
    policy: MeasurementPolicy,
    hash: String,
}

impl AttestedRelease {
    /// From a measurement policy file (TOML, read at each request) and, for dev evidence, a
    /// dev root (PEM).
    pub fn new(
        policy_path: &Path,
        dev_root_pem: Option<&[u8]>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let mut verifier = Verifier::new()?;
        if let Some(pem) = dev_root_pem {
            verifier = verifier.trust_dev_root(pem)?;
        }
        Ok(Self {
            verifier,
            policy_path: policy_path.to_owned(),
            action_address: format!("ipfs://{}", aip_lit::action::attested_release_cid()),
        })
    }

    pub fn policy_path(&self) -> &Path {
        &self.policy_path
    }

    fn load(&self) -> Result<LoadedPolicy, String> {
        let text = std::fs::read_to_string(&self.policy_path).map_err(|e| {
            format!(
                "no measurement policy yet ({}: {e})",
                self.policy_path.display()
            )
        })?;
        let policy = MeasurementPolicy::from_toml(&text)
            .map_err(|e| format!("the measurement policy is not valid: {e}"))?;
        if !policy.pins_every_config() {
            return Err(
                "the measurement policy has an entry that does not pin the enclave configuration (config = ...): an attested release requires it"
                    .into(),
            );
        }
        Ok(LoadedPolicy {
            hash: policy.allowed_sets_sha256_hex(),
            policy,
        })
    }

    /// Checks the condition and the attestation parameter against the current policy.
    /// Returns the HPKE key to seal the share to.
    pub fn check(
        &self,
        condition: &EvmBasicCondition,
        js_params: Option<&Value>,
        challenges: &Challenges,
    ) -> Result<[u8; 32], String> {
        let loaded = self.load()?;
        self.check_condition(condition, &loaded.hash)?;
        self.check_attestation(js_params, challenges, &loaded.policy)
    }

    /// Checks the condition's shape against this network's action and allowed sets.
    fn check_condition(
        &self,
        condition: &EvmBasicCondition,
        policy_hash: &str,
    ) -> Result<(), String> {
        if condition.contract_address != self.action_address {
            return Err(format!(
                "unknown Lit Action {}: this network runs the attested release {}",
                condition.contract_address, self.action_address
            ));
        }
        let expected_parameters = [":litParam:attestation".to_owned(), policy_hash.to_owned()];
        if condition.method != "go" || condition.parameters != expected_parameters {
            return Err(format!(
                "the condition pins other allowed measurement sets (or parameters); this network's are {policy_hash}"
            ));
        }
        if condition.return_value_test.comparator != "="
            || condition.return_value_test.value != "true"
        {
            return Err("the attested-release condition must test for \"true\"".into());
        }
        Ok(())
    }

    /// Verifies the attestation parameter: this node's challenge, the nonce, the evidence.
    /// Returns the HPKE key to seal the share to.
    fn check_attestation(
        &self,
        js_params: Option<&Value>,
        challenges: &Challenges,
        policy: &MeasurementPolicy,
    ) -> Result<[u8; 32], String> {
        let raw = js_params
            .and_then(|p| p.get("attestation"))
            .ok_or("the request has no jsParams.attestation")?;
        let param: AttestationParam = match raw {
            Value::String(text) => serde_json::from_str(text),
            other => serde_json::from_value(other.clone()),
        }
        .map_err(|e| format!("jsParams.attestation: {e}"))?;

        let decoded: Vec<Vec<u8>> = param
            .challenges
            .iter()
            .map(|c| hex::decode(c).ok().filter(|b| b.len() == 32))
            .collect::<Option<_>>()
            .ok_or("every challenge must be 32 bytes of hex")?;
        challenges.consume_one_of(&decoded)?;
        let nonce = challenges_nonce(&decoded);

        let hex32 = |field: &str, text: &str| -> Result<[u8; 32], String> {
            let mut out = [0u8; 32];
            hex::decode_to_slice(text, &mut out)
                .map_err(|_| format!("boundKeys.{field} is not 32 bytes of hex"))?;
            Ok(out)
        };
        let keys = BoundKeys {
            tls_spki_der: base64::engine::general_purpose::STANDARD
                .decode(&param.bound_keys.tls_spki_der)
                .map_err(|_| "boundKeys.tlsSpkiDer is not base64")?,
            signing_public_key: hex32("signingPublicKey", &param.bound_keys.signing_public_key)?,
            hpke_public_key: hex32("hpkePublicKey", &param.bound_keys.hpke_public_key)?,
            config_sha256: hex32("configSha256", &param.bound_keys.config_sha256)?,
        };
        let evidence =
            Evidence::from_json(&param.evidence).map_err(|e| format!("evidence: {e}"))?;
        let checks = Checks {
            at: clock::now(),
            policy: Some(policy),
            nonce: Some(&nonce),
            bound_keys: Some(&keys),
        };
        self.verifier
            .verify(&evidence, &checks)
            .map_err(|e| format!("attestation refused ({}): {e}", e.class().as_str()))?;
        Ok(keys.hpke_public_key)
    }
}

/// The challenges one node has issued and not yet seen used.
#[derive(Debug, Default)]
pub struct Challenges(Mutex<HashMap<[u8; 32], Instant>>);

impl Challenges {
    /// Records a challenge issued now. Fails when too many are outstanding.
    pub fn issue(&self, challenge: [u8; 32]) -> Result<(), String> {
        let mut map = self.0.lock().map_err(|_| "challenge store poisoned")?;
        let now = Instant::now();
        map.retain(|_, issued| now.duration_since(*issued) < CHALLENGE_LIFETIME);
        if map.len() >= MAX_CHALLENGES {
            return Err("too many outstanding challenges; retry later".into());
        }
        map.insert(challenge, now);
        Ok(())
    }

    /// Removes this node's challenge from `candidates`; refuses when none is fresh.
    fn consume_one_of(&self, candidates: &[Vec<u8>]) -> Result<(), String> {
        let mut map = self.0.lock().map_err(|_| "challenge store poisoned")?;
        let now = Instant::now();
        for candidate in candidates {
            let Ok(key) = <[u8; 32]>::try_from(candidate.as_slice()) else {
                continue;
            };
            if let Some(issued) = map.remove(&key) {
                if now.duration_since(issued) < CHALLENGE_LIFETIME {
                    return Ok(());
                }
            }
        }
        Err("no fresh, unused challenge of this node is among the challenges".into())
    }
}
