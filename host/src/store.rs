//! The blob store: opaque sealed records from the enclave, kept in SQLite.
//!
//! The host cannot read the records (they are sealed inside the enclave); it must only not
//! lose or reorder them. So: every write is a compare-and-set on the record's version inside
//! an immediate transaction, the database runs in WAL mode with `synchronous = FULL` (the
//! commit returns after the log is fsynced), and the enclave is told `Stored` only after the
//! commit. Keys are restricted to a small alphabet and size, records to a size cap; the
//! schema carries a version and an unknown one is refused rather than guessed at.
//!
//! Requests that arrive together run as one [`Group`]: one transaction, one commit, one fsync
//! for all their writes, each write still its own compare-and-set (in a savepoint, so one that
//! fails leaves the others). Nothing is answered before the group's commit returns, and if the
//! commit fails every request in the group fails: `Stored` still means durable.

use std::path::Path;

use aip_wire::control::KeyVersion;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

const SCHEMA_VERSION: i64 = 1;
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 256;
/// Largest record accepted.
pub const MAX_RECORD_LEN: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the store's schema version is {found}, this host knows {SCHEMA_VERSION}")]
    UnknownSchema { found: i64 },
    #[error("key {key:?}: {why}")]
    BadKey { key: String, why: &'static str },
    #[error("record of {len} bytes exceeds {MAX_RECORD_LEN}")]
    RecordTooLarge { len: usize },
    #[error("version {version} must be greater than the expected {expected:?}")]
    VersionNotIncreasing { version: u64, expected: Option<u64> },
}

/// The outcome of a compare-and-set write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// Committed and fsynced.
    Stored { version: u64 },
    /// The stored version was not the expected one; nothing was written.
    Conflict { current: Option<u64> },
}

#[derive(Debug)]
pub struct BlobStore {
    db: Connection,
}

impl BlobStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Connection::open(path)?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        let found: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match found {
            0 => {
                db.execute_batch(
                    "BEGIN;
                     CREATE TABLE blobs (
                         key TEXT PRIMARY KEY NOT NULL,
                         version INTEGER NOT NULL CHECK (version > 0),
                         data BLOB NOT NULL
                     ) STRICT;
                     PRAGMA user_version = 1;
                     COMMIT;",
                )?;
            }
            SCHEMA_VERSION => {}
            other => return Err(StoreError::UnknownSchema { found: other }),
        }
        Ok(Self { db })
    }

    /// Writes `data` as `version` if the stored version is `expected`, alone in its group.
    pub fn put(
        &mut self,
        key: &str,
        expected: Option<u64>,
        version: u64,
        data: &[u8],
    ) -> Result<PutOutcome, StoreError> {
        self.group(|group| group.put(key, expected, version, data))?
    }

    /// Runs `work` in one immediate transaction and commits it once: the results of `work`
    /// are returned only after the commit (and its fsync) returned; if the commit fails,
    /// nothing `work` wrote is kept and the error is returned instead.
    pub fn group<T>(&mut self, work: impl FnOnce(&mut Group<'_>) -> T) -> Result<T, StoreError> {
        let mut group = Group {
            tx: self
                .db
                .transaction_with_behavior(TransactionBehavior::Immediate)?,
        };
        let result = work(&mut group);
        group.tx.commit()?;
        Ok(result)
    }

    /// The stored version and bytes of `key`.
    pub fn get(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        get(&self.db, key)
    }

    /// Keys under `prefix` with their versions, in key order.
    pub fn list(&self, prefix: &str) -> Result<Vec<KeyVersion>, StoreError> {
        list(&self.db, prefix)
    }
}

fn get(db: &Connection, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
    check_key(key)?;
    Ok(db
        .prepare_cached("SELECT version, data FROM blobs WHERE key = ?1")?
        .query_row([key], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, Vec<u8>>(1)?))
        })
        .optional()?)
}

fn list(db: &Connection, prefix: &str) -> Result<Vec<KeyVersion>, StoreError> {
    if !prefix.is_empty() {
        check_key(prefix)?;
    }
    let mut statement = db.prepare_cached(
        "SELECT key, version FROM blobs WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
    )?;
    let rows = statement.query_map([prefix], |row| {
        Ok(KeyVersion {
            key: row.get(0)?,
            version: row.get::<_, i64>(1)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Requests that share one transaction (see [`BlobStore::group`]).
#[derive(Debug)]
pub struct Group<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Group<'_> {
    /// A compare-and-set write in its own savepoint: a write refused or failed here leaves
    /// the group's other writes as they were.
    pub fn put(
        &mut self,
        key: &str,
        expected: Option<u64>,
        version: u64,
        data: &[u8],
    ) -> Result<PutOutcome, StoreError> {
        check_key(key)?;
        if data.len() > MAX_RECORD_LEN {
            return Err(StoreError::RecordTooLarge { len: data.len() });
        }
        if version <= expected.unwrap_or(0) || i64::try_from(version).is_err() {
            return Err(StoreError::VersionNotIncreasing { version, expected });
        }
        // Dropped without `commit` (an error below), the savepoint rolls back.
        let savepoint = self.tx.savepoint()?;
        // Statements come from the connection's cache: parsing the SQL again for every
        // request was a tenth of the host's CPU under load.
        let current: Option<u64> = savepoint
            .prepare_cached("SELECT version FROM blobs WHERE key = ?1")?
            .query_row([key], |row| row.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64);
        if current != expected {
            return Ok(PutOutcome::Conflict { current });
        }
        savepoint
            .prepare_cached(
                "INSERT INTO blobs (key, version, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET version = excluded.version, data = excluded.data",
            )?
            .execute(params![key, version as i64, data])?;
        savepoint.commit()?;
        Ok(PutOutcome::Stored { version })
    }

    /// As [`BlobStore::get`], seeing the group's writes so far.
    pub fn get(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        get(&self.tx, key)
    }

    /// As [`BlobStore::list`], seeing the group's writes so far.
    pub fn list(&self, prefix: &str) -> Result<Vec<KeyVersion>, StoreError> {
        list(&self.tx, prefix)
    }
}

/// Keys are 1..=256 characters of `A-Z a-z 0-9 / _ . -`, without `..`.
fn check_key(key: &str) -> Result<(), StoreError> {
    let bad = |why| {
        Err(StoreError::BadKey {
            key: key.chars().take(64).collect(),
            why,
        })
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return bad("longer than 256 bytes");
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-'))
    {
        return bad("only A-Z a-z 0-9 / _ . - are allowed");
    }
    if key.contains("..") {
        return bad("contains ..");
    }
    Ok(())
}
