//! What a Naga node checks of a request's session signature before it evaluates a condition
//! (lit-peer `auth/session_sigs.rs::validate_session_sig`, `auth/validators/siwe.rs`,
//! `auth/capabilities/recap.rs`), with the crates the node uses: `siwe` 0.5 parses and
//! verifies the wallet sign-in, `siwe-recap` 0.2 decodes its capabilities, `ed25519-dalek`
//! checks the session key's signature (`verify_strict`).
//!
//! Returns the wallet that signed in: the condition is evaluated with its address
//! (`:userAddress`) and its sign-in's resources (`:litParam:<name>`).

use std::str::FromStr;

use aip_lit::session_sig::{SessionKeySignedMessage, ACC_RESOURCE_PREFIX, DERIVED_VIA};
use aip_lit::siwe::AuthSig;
use siwe_recap::Capability;
use time::OffsetDateTime;

/// Lit's grace period for the session's issue and expiry times, and the longest validity.
const GRACE_S: i64 = 60;
const MAX_VALIDITY_S: i64 = 30 * 24 * 3600;
/// The wallet signatures this node reads inside capabilities (EOA `personal_sign`).
const WALLET_DERIVED_VIA: &str = aip_lit::siwe::DERIVED_VIA;

/// The wallet a request is signed in as.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// As the wallet sign-in names it.
    pub address: String,
    /// The sign-in's resources, as written.
    pub resources: Vec<String>,
}

/// What was asked for: the identity `lit-accesscontrolcondition://<hash>/<data hash>`.
#[derive(Debug, Clone, Copy)]
pub struct Requested<'a> {
    pub identity: &'a str,
    /// This node's `host:port`.
    pub node_address: &'a str,
    pub now: OffsetDateTime,
}

/// Validates `auth_sig` (a session signature) for `requested`. `Err` is the node's reason.
pub async fn validate(
    auth_sig: &serde_json::Value,
    requested: Requested<'_>,
) -> Result<SignedIn, String> {
    let session: AuthSig = serde_json::from_value(auth_sig.clone())
        .map_err(|e| format!("authSig is not an auth sig: {e}"))?;
    if session.derived_via != DERIVED_VIA {
        return Err(format!(
            "this endpoint takes a session signature (derivedVia {DERIVED_VIA}), not {:?}",
            session.derived_via
        ));
    }
    check_ed25519(&session)?;
    let message: SessionKeySignedMessage = serde_json::from_str(&session.signed_message)
        .map_err(|e| format!("Parsing SessionKeySignedMessageV2 failed: {e}"))?;
    let resource_id = requested
        .identity
        .strip_prefix(&format!("{ACC_RESOURCE_PREFIX}://"))
        .unwrap_or(requested.identity);
    if !message.resource_ability_requests.iter().any(|r| {
        r.resource.resource_prefix == ACC_RESOURCE_PREFIX
            && (r.resource.resource == "*" || r.resource.resource == resource_id)
    }) {
        return Err(format!(
            "Could not find requested resource {} in the resourceAbilityRequests",
            requested.identity
        ));
    }
    check_times(&message.issued_at, &message.expiration, requested.now)?;
    if prepare_domain_name(&message.node_address) != requested.node_address {
        return Err(format!(
            "Session key node_address {} does not match our node address {}",
            message.node_address, requested.node_address
        ));
    }
    if message.capabilities.is_empty() {
        return Err("Empty capabilities array.".into());
    }
    let mut reasons = Vec::new();
    for capability in &message.capabilities {
        match check_capability(capability, &session.address, requested).await {
            Ok(signed_in) => return Ok(signed_in),
            Err(reason) => reasons.push(reason),
        }
    }
    Err(format!(
        "Resource id not found in auth_sig capabilities: {}",
        reasons.join("; ")
    ))
}

/// lit-peer `check_ed25519_auth_sig`.
fn check_ed25519(session: &AuthSig) -> Result<(), String> {
    let key: [u8; 32] = hex::decode(&session.address)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the session key is not 32 bytes of hex")?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
        .map_err(|e| format!("the session key: {e}"))?;
    let signature = ed25519_dalek::Signature::from_str(&session.sig)
        .map_err(|e| format!("the session signature: {e}"))?;
    key.verify_strict(session.signed_message.as_bytes(), &signature)
        .map_err(|e| format!("Session key signature is not valid: {e}"))
}

/// lit-peer `validate_session_sig_time_parameters` and `check_expiration_validity`.
fn check_times(issued_at: &str, expiration: &str, now: OffsetDateTime) -> Result<(), String> {
    let parse = |text: &str, what: &str| {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map(OffsetDateTime::unix_timestamp)
            .map_err(|e| format!("Could not parse {what} of session key signed message: {e}"))
    };
    let (issued, expires) = (
        parse(issued_at, "issued_at")?,
        parse(expiration, "expiration")?,
    );
    let now = now.unix_timestamp();
    if issued > now + GRACE_S {
        return Err(format!(
            "Session key issued_at {issued_at} is in the future beyond the grace period"
        ));
    }
    if expires < issued {
        return Err(format!(
            "Session key expiration {expiration} is in behind issue_at which is {issued_at}"
        ));
    }
    if expires < now - GRACE_S {
        return Err(format!(
            "Session key expiration {expiration} is in the past beyond the grace period"
        ));
    }
    if expires > issued + MAX_VALIDITY_S {
        return Err(format!(
            "Session key expiration {expiration} is beyond the max expiry timestamp"
        ));
    }
    Ok(())
}

/// lit-peer `prepare_domain_name`.
fn prepare_domain_name(name: &str) -> String {
    name.trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .replace("localhost", "127.0.0.1")
}

/// lit-peer `SiweValidator::validate_auth_sig` for a wallet signature: the SIWE verifies at
/// `now`, names the auth sig's address and the session key as its URI, and one of its ReCap
/// capabilities (each matching the statement) grants decrypting the identity.
async fn check_capability(
    capability: &AuthSig,
    session_key: &str,
    requested: Requested<'_>,
) -> Result<SignedIn, String> {
    if capability.derived_via != WALLET_DERIVED_VIA {
        return Err(format!(
            "capability derivedVia {:?} is not a wallet signature",
            capability.derived_via
        ));
    }
    let message: siwe::Message = capability
        .signed_message
        .parse()
        .map_err(|e| format!("Error parsing SIWE message on capability sig: {e}"))?;
    let signature = hex::decode(capability.sig.trim_start_matches("0x"))
        .map_err(|e| format!("the capability's signature: {e}"))?;
    message
        .verify(
            &signature,
            &siwe::VerificationOpts {
                timestamp: Some(requested.now),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("Wallet signature of session key via SIWE is not valid: {e}"))?;
    let named = aip_lit::siwe::parse_address(&capability.address)
        .map_err(|e| format!("the capability's address: {e}"))?;
    if named != message.address {
        return Err(
            "The address in the SIWE message does not match the address in the auth sig".into(),
        );
    }
    if message.uri.as_str() != format!("lit:session:{session_key}") {
        return Err(
            "The session pubkey in the auth sig is not signed in the wallet-signed SIWE message"
                .into(),
        );
    }
    let capabilities: Vec<Capability<serde_json::Value>> = message
        .resources
        .iter()
        .filter(|u| u.as_str().starts_with(siwe_recap::RESOURCE_PREFIX))
        .flat_map(Capability::try_from)
        .collect();
    for recap in &capabilities {
        let expected = recap.to_statement();
        if let Some(statement) = &message.statement {
            if !statement.ends_with(&expected) {
                return Err(format!(
                    "Incorrect statement for capability object: expected '{expected}'"
                ));
            }
        }
    }
    let wildcard = format!("{ACC_RESOURCE_PREFIX}://*");
    let granted = capabilities.iter().any(|recap| {
        let abilities = recap.abilities();
        let key = [wildcard.as_str(), requested.identity]
            .into_iter()
            .find(|k| abilities.keys().any(|r| r.as_str() == *k));
        key.and_then(|k| abilities.iter().find(|(r, _)| r.as_str() == k))
            .is_some_and(|(_, granted)| {
                granted.keys().any(|a| {
                    let a = a.to_string();
                    a == "*/*" || a == aip_lit::recap::THRESHOLD_DECRYPTION
                })
            })
    });
    if !granted {
        return Err("Unable to verify any of the SIWE capability objects".into());
    }
    Ok(SignedIn {
        address: capability.address.clone(),
        resources: message.resources.iter().map(|r| r.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_lits_grace_and_limits() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let at = |s: i64| {
            OffsetDateTime::from_unix_timestamp(1_800_000_000 + s)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        assert!(check_times(&at(-10), &at(600), now).is_ok());
        assert!(check_times(&at(59), &at(600), now).is_ok());
        assert!(check_times(&at(61), &at(600), now).is_err());
        assert!(check_times(&at(-600), &at(-59), now).is_ok());
        assert!(check_times(&at(-600), &at(-61), now).is_err());
        assert!(check_times(&at(10), &at(5), now).is_err());
        assert!(check_times(&at(0), &at(MAX_VALIDITY_S + 1), now).is_err());
        assert!(check_times("yesterday", &at(5), now).is_err());
    }

    #[test]
    fn node_addresses_compare_as_lit_prepares_them() {
        assert_eq!(
            prepare_domain_name(" https://localhost:7470"),
            "127.0.0.1:7470"
        );
        assert_eq!(prepare_domain_name("http://10.0.0.1:443"), "10.0.0.1:443");
    }
}
