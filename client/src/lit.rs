//! Device-side Lit helpers: encrypt a secret under conditions as Lit's JS SDK does, and the
//! operator's offline decrypt from shares.

use aip_lit::identity::data_to_encrypt_hash;
use aip_lit::{encrypt, release, Ciphertext, Conditions, DecryptionShare, LitError, NetworkKey};
use serde_json::Value;
use zeroize::Zeroizing;

/// What a device uploads: the Lit encryption of a secret and how to find its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// base64 of the time-lock ciphertext.
    pub ciphertext: String,
    /// `dataToEncryptHash`: SHA-256 of the plaintext, hex.
    pub data_to_encrypt_hash: String,
    /// The identity the nodes will sign.
    pub identity: String,
}

/// Encrypts `plaintext` under `conditions` to the network key, as the JS SDK's `encrypt`.
pub fn encrypt_for(
    network_key: &NetworkKey,
    conditions: &Conditions,
    plaintext: &[u8],
) -> Result<Encrypted, LitError> {
    let data_hash = data_to_encrypt_hash(plaintext);
    let identity = conditions.identity(&data_hash);
    let ciphertext = encrypt(network_key, plaintext, identity.as_bytes())?;
    Ok(Encrypted {
        ciphertext: ciphertext.to_base64(),
        data_to_encrypt_hash: data_hash,
        identity,
    })
}

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
