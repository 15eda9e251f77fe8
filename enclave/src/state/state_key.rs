//! The state key's life: created on the first boot, kept only as a Lit ciphertext under the
//! attested-release condition, recovered on every later boot by an enclave whose measurement
//! the nodes accept. The operator never holds it.
//!
//! A first boot proves the key recoverable before using it: it stores the ciphertext and then
//! releases it through Lit once. An enclave that could create a key but not recover it (a
//! measurement outside the policy, a wrong condition) would otherwise seal state that no later
//! boot can open.

use serde::{Deserialize, Serialize};

use super::host_store::{HostStore, HostStoreError, Written};
use super::sealed::{SealError, StateKey};
use crate::release::{EnclaveIdentity, LitNetwork, ReleaseError};

/// Where the ciphertext lives in the host's store (not sealed: it is already Lit-encrypted).
pub const STATE_KEY_RECORD: &str = "enclave/state-key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredStateKey {
    ciphertext: String,
    data_to_encrypt_hash: String,
    /// SHA-256 of the conditions it was encrypted under (for the operator's diagnostics).
    conditions_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateKeyError {
    #[error("the host's store")]
    Store(#[from] HostStoreError),
    #[error("the stored state key record is not readable")]
    Record(#[source] serde_json::Error),
    #[error("encrypting the new state key to the Lit network")]
    Encrypt(#[source] aip_lit::LitError),
    #[error("releasing the state key through Lit")]
    Release(#[from] ReleaseError),
    #[error("the released state key")]
    Key(#[from] SealError),
    #[error(
        "another enclave stored a state key first (version {current:?}); restart to recover it"
    )]
    Raced { current: Option<u64> },
    #[error("the state key released through Lit is not the one just created")]
    Mismatch,
}

/// Whether this boot created the key or recovered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Created,
    Recovered,
}

/// The state key of this deployment.
pub async fn recover_or_create(
    store: &HostStore,
    lit: &LitNetwork,
    me: &EnclaveIdentity,
) -> Result<(StateKey, Origin), StateKeyError> {
    if let Some((_, bytes)) = store.get(STATE_KEY_RECORD).await? {
        let stored: StoredStateKey =
            serde_json::from_slice(&bytes).map_err(StateKeyError::Record)?;
        let key = release(lit, me, &stored).await?;
        return Ok((key, Origin::Recovered));
    }
    let key = StateKey::generate();
    let encrypted = aip_lit::encrypt_for(&lit.network_key, &lit.conditions, key.expose())
        .map_err(StateKeyError::Encrypt)?;
    let stored = StoredStateKey {
        ciphertext: encrypted.ciphertext,
        data_to_encrypt_hash: encrypted.data_to_encrypt_hash,
        conditions_hash: lit.conditions.hash_hex(),
    };
    let bytes = serde_json::to_vec(&stored).map_err(StateKeyError::Record)?;
    match store.put(STATE_KEY_RECORD, None, 1, bytes).await? {
        Written::Stored { .. } => {}
        Written::Conflict { current } => return Err(StateKeyError::Raced { current }),
    }
    // Prove it comes back before anything is sealed with it.
    let recovered = release(lit, me, &stored).await?;
    if recovered.expose() != key.expose() {
        return Err(StateKeyError::Mismatch);
    }
    Ok((key, Origin::Created))
}

async fn release(
    lit: &LitNetwork,
    me: &EnclaveIdentity,
    stored: &StoredStateKey,
) -> Result<StateKey, StateKeyError> {
    let (plaintext, tally) = lit
        .release(me, &stored.ciphertext, &stored.data_to_encrypt_hash)
        .await?;
    tracing::info!(
        valid_shares = tally.valid,
        answered = tally.answered,
        "state key released through Lit"
    );
    Ok(StateKey::from_bytes(&plaintext)?)
}
