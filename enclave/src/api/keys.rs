//! API keys: `zai_` followed by 64 lowercase hex characters (32 random bytes).
//!
//! The enclave stores, per key, SHA-256 of the key text (to find the record without trying
//! every hash) and an Argon2id hash (m = 64 MiB, t = 3, p = 1) that is the actual check. A key
//! is Argon2-verified once per enclave lifetime; after that its SHA-256 marks it as verified,
//! so requests do not each pay 64 MiB and tens of milliseconds (docs/design.md, "API"). The key
//! text itself is shown once, at creation, and is otherwise only ever in `Zeroizing` memory.

use std::collections::{BTreeSet, HashMap, HashSet};

use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::rate::RateLimit;
use super::scope::Scope;

pub use aip_wire::api_key::KEY_PREFIX;
use aip_wire::api_key::{lookup_of, well_formed};

/// A newly issued key: its public id and the secret text, shown to the caller once.
pub struct IssuedKey {
    pub id: String,
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuedKey {{ id: {:?}, secret: <redacted> }}", self.id)
    }
}

/// What the enclave keeps about a key (sealed in its state; no secret in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    pub id: String,
    /// SHA-256 of the key text, hex.
    pub lookup: String,
    /// Argon2id PHC string.
    pub phc: String,
    pub scopes: BTreeSet<Scope>,
    pub rate: RateLimit,
    pub label: String,
    pub created_ms: u64,
    pub revoked: bool,
    /// The tenant its session keys belong to (`payments::actor`); `None`: the key's own id.
    #[serde(default)]
    pub tenant: Option<String>,
}

impl KeyRecord {
    /// The tenant this key acts for.
    pub fn tenant(&self) -> &str {
        self.tenant.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("an API key is zai_ followed by 64 lowercase hex characters")]
    Malformed,
    #[error("unknown API key")]
    Unknown,
    #[error("the API key was revoked")]
    Revoked,
    #[error("the API key lacks the {} scope", .needed.as_str())]
    MissingScope { needed: Scope },
    #[error("a key needs at least one scope")]
    NoScopes,
    #[error("invalid rate limit: {0}")]
    Rate(String),
    #[error("hashing the key failed")]
    Hash,
}

fn argon2id() -> Result<Argon2<'static>, KeyError> {
    let params = Params::new(64 * 1024, 3, 1, None).map_err(|_| KeyError::Hash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Issues a key: the record to keep and the secret to show once.
pub fn issue(
    label: &str,
    scopes: BTreeSet<Scope>,
    rate: RateLimit,
    tenant: Option<String>,
    now_ms: u64,
) -> Result<(IssuedKey, KeyRecord), KeyError> {
    if scopes.is_empty() {
        return Err(KeyError::NoScopes);
    }
    rate.invariant().map_err(KeyError::Rate)?;
    let secret = aip_wire::api_key::generate();
    let salt = SaltString::generate(&mut HashRng);
    let phc = argon2id()?
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|_| KeyError::Hash)?
        .to_string();
    let mut id_bytes = [0u8; 8];
    OsRng.fill_bytes(&mut id_bytes);
    let record = KeyRecord {
        id: format!("key_{}", hex::encode(id_bytes)),
        lookup: hex::encode(lookup_of(&secret)),
        phc,
        scopes,
        rate,
        label: label.to_owned(),
        created_ms: now_ms,
        revoked: false,
        tenant,
    };
    Ok((
        IssuedKey {
            id: record.id.clone(),
            secret,
        },
        record,
    ))
}

/// The enclave's keys, and which of them were already Argon2-verified in this lifetime.
#[derive(Debug, Default)]
pub struct KeyRing {
    by_lookup: HashMap<String, KeyRecord>,
    verified: HashSet<String>,
}

/// The id of the operator's root key (configured by its SHA-256, never stored).
pub const ROOT_KEY_ID: &str = "key_root";

impl KeyRing {
    /// The operator's root key from the measured configuration: scope `full`, known only by
    /// the SHA-256 of its text. A 256-bit random key needs no slow hash (SHA-256 preimage
    /// resistance is the check), so it counts as verified from the start.
    pub fn pin_root(&mut self, lookup_hex: &str) {
        let record = KeyRecord {
            id: ROOT_KEY_ID.to_owned(),
            lookup: lookup_hex.to_owned(),
            phc: String::new(),
            scopes: BTreeSet::from([Scope::Full]),
            rate: RateLimit::DEFAULT,
            label: "root (configured)".to_owned(),
            created_ms: 0,
            revoked: false,
            tenant: None,
        };
        self.insert(record);
        self.verified.insert(lookup_hex.to_owned());
    }

    pub fn insert(&mut self, record: KeyRecord) {
        self.verified.remove(&record.lookup);
        self.by_lookup.insert(record.lookup.clone(), record);
    }

    pub fn len(&self) -> usize {
        self.by_lookup.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_lookup.is_empty()
    }

    /// The record of the presented key if it is well formed, known, not revoked, verifies
    /// against its Argon2id hash, and grants `needed`.
    pub fn authenticate(&mut self, presented: &str, needed: Scope) -> Result<&KeyRecord, KeyError> {
        if !well_formed(presented) {
            return Err(KeyError::Malformed);
        }
        let lookup = hex::encode(lookup_of(presented));
        let record = self.by_lookup.get(&lookup).ok_or(KeyError::Unknown)?;
        if record.revoked {
            return Err(KeyError::Revoked);
        }
        if !self.verified.contains(&lookup) {
            let hash = PasswordHash::new(&record.phc).map_err(|_| KeyError::Hash)?;
            argon2id()?
                .verify_password(presented.as_bytes(), &hash)
                .map_err(|_| KeyError::Unknown)?;
            self.verified.insert(lookup.clone());
        }
        if !record.scopes.iter().any(|s| s.grants(needed)) {
            return Err(KeyError::MissingScope { needed });
        }
        Ok(record)
    }
}
