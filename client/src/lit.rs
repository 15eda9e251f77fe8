//! Device-side Lit helpers: encrypt a secret under conditions as Lit's JS SDK does, and the
//! operator's offline decrypt from shares.

pub use aip_lit::ciphertext::{encrypt_for, Encrypted};
use aip_lit::{release, Ciphertext, Conditions, DecryptionShare, LitError, NetworkKey};
use serde_json::Value;
use zeroize::Zeroizing;

/// Decrypts from node shares (JSON, either dialect); every share given is used and the
/// combined signature must verify against the network key.
pub fn decrypt_with_shares(
    network_key: &NetworkKey,
    identity: &str,
    ciphertext_b64: &str,
    shares_json: &[String],
) -> Result<Zeroizing<Vec<u8>>, LitError> {
    let ciphertext = Ciphertext::from_base64(ciphertext_b64)?;
    let shares = shares_json
        .iter()
        .enumerate()
        .map(|(i, json)| DecryptionShare::from_json(i, json))
        .collect::<Result<Vec<_>, _>>()?;
    release(
        network_key,
        identity.as_bytes(),
        &ciphertext,
        &shares,
        shares.len(),
    )
}

/// Conditions from a file's JSON: a request object with one of the condition fields, or a
/// bare list (read as accessControlConditions).
pub fn conditions_from_json(value: &Value) -> Result<Conditions, LitError> {
    if value.is_array() {
        Conditions::from_field("accessControlConditions", value)
    } else {
        Conditions::from_request(value)
    }
}
