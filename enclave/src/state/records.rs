//! Sealed JSON records with compare-and-set versions: the one way the payment state (session
//! keys, sessions, payments, the fee payer) is read from and written to the host's store.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::host_store::{HostStore, HostStoreError, Written};
use super::sealed::{open, seal, SealError, StateKey};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the host's store")]
    Store(#[from] HostStoreError),
    #[error("sealed record")]
    Sealed(#[from] SealError),
    #[error("record {0:?} does not hold what this enclave wrote")]
    Malformed(String),
    #[error("record {record:?} changed under us (now version {current:?}); nothing was written")]
    Conflict {
        record: String,
        current: Option<u64>,
    },
    /// A write that held several callers' changes (`payments::registry`) failed; each is told.
    #[error("the write that held this change")]
    Shared(#[source] std::sync::Arc<RecordError>),
}

/// Reads and opens `name`: its version and value, or `None` if absent.
pub async fn read<T: DeserializeOwned>(
    store: &HostStore,
    key: &StateKey,
    name: &str,
) -> Result<Option<(u64, T)>, RecordError> {
    let Some((version, sealed)) = store.get(name).await? else {
        return Ok(None);
    };
    let bytes = open(key, name, version, &sealed)?;
    let value =
        serde_json::from_slice(&bytes).map_err(|_| RecordError::Malformed(name.to_owned()))?;
    Ok(Some((version, value)))
}

/// Seals and writes `value` as the version after `expected` (`None`: the record must not
/// exist). Returns the new version once the host reports it durable.
pub async fn write<T: Serialize>(
    store: &HostStore,
    key: &StateKey,
    name: &str,
    expected: Option<u64>,
    value: &T,
) -> Result<u64, RecordError> {
    let version = expected.map_or(1, |v| v.saturating_add(1));
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|_| RecordError::Malformed(name.to_owned()))?,
    );
    let sealed = seal(key, name, version, &bytes)?;
    match store.put(name, expected, version, sealed).await? {
        Written::Stored { version } => Ok(version),
        Written::Conflict { current } => Err(RecordError::Conflict {
            record: name.to_owned(),
            current,
        }),
    }
}
