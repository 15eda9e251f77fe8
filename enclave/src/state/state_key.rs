//! The state key: derived, never stored (docs/design.md, "State, ledger, rollback").
//!
//! Lit time-lock encryption is public-key: anyone with the network key and the (public)
//! attested-release condition can encrypt a key of their choosing. A state key kept as a Lit
//! ciphertext in the host's store therefore lets the host plant a ciphertext of a key it knows,
//! and a measured enclave would "recover" it and seal everything with it. So there is nothing
//! to plant: the state key is HKDF-SHA256 of the network's threshold signature over a fixed
//! identity, the attested-release condition with the deployment's label as its data hash.
//! Only an enclave that satisfies the condition obtains the signature shares; the combined
//! signature is verified against the pinned network key before anything is derived from it,
//! so a lying node or host cannot substitute another value.
//!
//! A consequence, by design: a new measurement policy (a new condition) or another deployment
//! label is another state key. Image rotation keeps its state by listing both measurements in
//! one policy (the policy's sets carry expiries).

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::sealed::{SealError, StateKey};
use crate::release::{EnclaveIdentity, LitNetwork, ReleaseError};

/// Domain of the identity's data hash and of the HKDF salt.
const STATE_KEY_DOMAIN: &[u8] = b"aip-signer/state-key/v1";

/// A ciphertext record at this name was how earlier builds kept the key. It is never read:
/// whatever the host keeps there is ignored (a planted key gains nothing).
pub const LEGACY_STATE_KEY_RECORD: &str = "enclave/state-key";

#[derive(Debug, thiserror::Error)]
pub enum StateKeyError {
    #[error("obtaining the network's signature over the state-key identity")]
    Release(#[from] ReleaseError),
    #[error("deriving the state key")]
    Derive,
    #[error("the derived state key")]
    Key(#[from] SealError),
}

/// The data hash (hex) whose identity under the attested-release condition roots the state
/// key of `deployment`.
pub fn state_key_data_hash(deployment: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(STATE_KEY_DOMAIN);
    hasher.update([0u8]);
    hasher.update(deployment.as_bytes());
    hex::encode(hasher.finalize())
}

/// The state key of `deployment`, from the Lit network as this enclave.
pub async fn derive_state_key(
    lit: &LitNetwork,
    me: &EnclaveIdentity,
    deployment: &str,
) -> Result<StateKey, StateKeyError> {
    let data_hash = state_key_data_hash(deployment);
    let (signature, tally) = lit.sign_identity(me, &data_hash).await?;
    tracing::info!(
        valid_shares = tally.valid,
        answered = tally.answered,
        "state key derived from the network's signature"
    );
    let identity = lit.conditions.identity(&data_hash);
    let root = signature.to_secret_bytes();
    state_key_from_signature(&root, identity.as_bytes())
}

/// HKDF-SHA256 (salt: the domain, info: the identity) of the compressed signature.
pub fn state_key_from_signature(
    signature: &[u8; 96],
    identity: &[u8],
) -> Result<StateKey, StateKeyError> {
    let mut okm = zeroize::Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(STATE_KEY_DOMAIN), signature)
        .expand(identity, okm.as_mut())
        .map_err(|_| StateKeyError::Derive)?;
    Ok(StateKey::from_bytes(okm.as_ref())?)
}
