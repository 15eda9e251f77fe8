//! The enclave's ledger, kept in the host's store as sealed records: each entry under
//! `ledger/entry/{seq:020}` (sealed, so the host learns nothing of payments), and the head
//! under `ledger/head` (sealed {seq, hash}).
//!
//! Appending writes the entry first (compare-and-set: the slot must be empty), then moves the
//! head (compare-and-set on its version). A crash between the two leaves an entry beyond the
//! head; loading rolls the head forward over entries that link to it, so an appended entry is
//! never lost and never written twice. The entry format and its verification are aip-wire's
//! (shared with auditors).

use aip_wire::ledger::LedgerEntry;
use serde::{Deserialize, Serialize};

use crate::state::host_store::{HostStore, HostStoreError, Written};
use crate::state::sealed::{open, seal, SealError, StateKey};

pub const HEAD_RECORD: &str = "ledger/head";

fn entry_record(seq: u64) -> String {
    format!("ledger/entry/{seq:020}")
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerStoreError {
    #[error("the host's store")]
    Store(#[from] HostStoreError),
    #[error("a sealed ledger record")]
    Sealed(#[from] SealError),
    #[error("ledger record {record} is not readable")]
    Record { record: String },
    #[error("ledger entry {seq} does not link to the head before it")]
    Broken { seq: u64 },
    #[error("the ledger moved under this enclave ({what}); another writer shares its store")]
    Conflict { what: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    seq: u64,
    hash: [u8; 32],
}

/// The head as this enclave knows it, and the store version of the head record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ledger {
    pub seq: u64,
    pub hash: [u8; 32],
    head_version: Option<u64>,
}

impl Ledger {
    /// Loads the head and rolls it forward over entries written after it.
    pub async fn load(store: &HostStore, key: &StateKey) -> Result<Self, LedgerStoreError> {
        let mut ledger = match store.get(HEAD_RECORD).await? {
            None => Ledger {
                seq: 0,
                hash: [0; 32],
                head_version: None,
            },
            Some((version, sealed)) => {
                let head: Head = read(&open(key, HEAD_RECORD, version, &sealed)?, HEAD_RECORD)?;
                Ledger {
                    seq: head.seq,
                    hash: head.hash,
                    head_version: Some(version),
                }
            }
        };
        while let Some(entry) = read_entry(store, key, ledger.seq + 1).await? {
            let (seq, hash) = aip_wire::ledger::verify_chain(
                (ledger.seq, ledger.hash),
                std::slice::from_ref(&entry),
            )
            .map_err(|_| LedgerStoreError::Broken {
                seq: ledger.seq + 1,
            })?;
            ledger.move_head(store, key, seq, hash).await?;
        }
        Ok(ledger)
    }

    /// Appends an entry; it is durable in the host's store when this returns.
    pub async fn append(
        &mut self,
        store: &HostStore,
        key: &StateKey,
        at_ms: u64,
        kind: &str,
        body: &str,
    ) -> Result<LedgerEntry, LedgerStoreError> {
        let entry = LedgerEntry::next(self.seq, &self.hash, at_ms, kind, body);
        let record = entry_record(entry.seq);
        let bytes = serde_json::to_vec(&entry).map_err(|_| LedgerStoreError::Record {
            record: record.clone(),
        })?;
        match store
            .put(&record, None, 1, seal(key, &record, 1, &bytes)?)
            .await?
        {
            Written::Stored { .. } => {}
            Written::Conflict { .. } => {
                return Err(LedgerStoreError::Conflict {
                    what: format!("{record} exists"),
                })
            }
        }
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&entry.hash, &mut hash)
            .map_err(|_| LedgerStoreError::Record { record })?;
        self.move_head(store, key, entry.seq, hash).await?;
        Ok(entry)
    }

    async fn move_head(
        &mut self,
        store: &HostStore,
        key: &StateKey,
        seq: u64,
        hash: [u8; 32],
    ) -> Result<(), LedgerStoreError> {
        let version = self.head_version.unwrap_or(0) + 1;
        let bytes =
            serde_json::to_vec(&Head { seq, hash }).map_err(|_| LedgerStoreError::Record {
                record: HEAD_RECORD.into(),
            })?;
        match store
            .put(
                HEAD_RECORD,
                self.head_version,
                version,
                seal(key, HEAD_RECORD, version, &bytes)?,
            )
            .await?
        {
            Written::Stored { version } => {
                (self.seq, self.hash, self.head_version) = (seq, hash, Some(version));
                Ok(())
            }
            Written::Conflict { current } => Err(LedgerStoreError::Conflict {
                what: format!("head version {current:?}, expected {:?}", self.head_version),
            }),
        }
    }

    /// Entries from `from` (1-based) up to the head.
    pub async fn export(
        &self,
        store: &HostStore,
        key: &StateKey,
        from: u64,
        limit: u64,
    ) -> Result<Vec<LedgerEntry>, LedgerStoreError> {
        let mut entries = Vec::new();
        let mut seq = from.max(1);
        while seq <= self.seq && (entries.len() as u64) < limit {
            match read_entry(store, key, seq).await? {
                Some(entry) => entries.push(entry),
                None => {
                    return Err(LedgerStoreError::Record {
                        record: entry_record(seq),
                    })
                }
            }
            seq += 1;
        }
        Ok(entries)
    }
}

async fn read_entry(
    store: &HostStore,
    key: &StateKey,
    seq: u64,
) -> Result<Option<LedgerEntry>, LedgerStoreError> {
    let record = entry_record(seq);
    match store.get(&record).await? {
        None => Ok(None),
        Some((version, sealed)) => read(&open(key, &record, version, &sealed)?, &record).map(Some),
    }
}

fn read<T: for<'de> Deserialize<'de>>(bytes: &[u8], record: &str) -> Result<T, LedgerStoreError> {
    serde_json::from_slice(bytes).map_err(|_| LedgerStoreError::Record {
        record: record.to_owned(),
    })
}
