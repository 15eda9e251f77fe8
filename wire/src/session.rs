//! Session-key formats the device and the enclave must agree on byte for byte (docs/design.md,
//! "Keys and flows"): the device-bound blob, and the canonical delegation message the device
//! signs to enable autonomy. The device seals and opens the blob (aip-client); the enclave
//! only checks its shape and stores it, since it cannot decrypt it.

use std::fmt;

/// The blob format this build writes and reads.
pub const BLOB_VERSION: u8 = 1;
pub const SALT_LEN: usize = 16;
pub const NONCE_LEN: usize = 12;
/// An Ed25519 secret key (seed).
pub const SECRET_LEN: usize = 32;
pub const TAG_LEN: usize = 16;
/// `version || salt(16) || nonce(12) || AES-256-GCM(secret 32 bytes) with its 16-byte tag`.
pub const BLOB_LEN: usize = 1 + SALT_LEN + NONCE_LEN + SECRET_LEN + TAG_LEN;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionFormatError {
    #[error("a device-bound blob is {BLOB_LEN} bytes, not {0}")]
    BlobLength(usize),
    #[error("device-bound blob version {0} is not {BLOB_VERSION}")]
    BlobVersion(u8),
    #[error("the delegation's {0}")]
    Delegation(&'static str),
}

/// A device-bound blob, split into its parts (still encrypted).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DeviceBoundBlob<'a> {
    pub salt: &'a [u8; SALT_LEN],
    pub nonce: &'a [u8; NONCE_LEN],
    /// Ciphertext and tag.
    pub sealed: &'a [u8; SECRET_LEN + TAG_LEN],
}

impl fmt::Debug for DeviceBoundBlob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DeviceBoundBlob {{ version: {BLOB_VERSION}, {BLOB_LEN} bytes }}"
        )
    }
}

impl<'a> DeviceBoundBlob<'a> {
    /// Splits `bytes`, refusing any other length or version.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SessionFormatError> {
        let bytes: &[u8; BLOB_LEN] = bytes
            .try_into()
            .map_err(|_| SessionFormatError::BlobLength(bytes.len()))?;
        if bytes[0] != BLOB_VERSION {
            return Err(SessionFormatError::BlobVersion(bytes[0]));
        }
        let (salt, rest) = bytes[1..].split_at(SALT_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        match (salt.try_into(), nonce.try_into(), sealed.try_into()) {
            (Ok(salt), Ok(nonce), Ok(sealed)) => Ok(Self {
                salt,
                nonce,
                sealed,
            }),
            _ => Err(SessionFormatError::BlobLength(BLOB_LEN)),
        }
    }
}

/// The canonical delegation message:
/// `I authorize autonomous delegate for session {id} to spend up to ${max} until {expires_at}`
/// with `max` in USD from USDC base units (6 decimals; whole dollars without a fraction,
/// otherwise the fraction without trailing zeros) and `expires_at` RFC 3339 in UTC with
/// seconds (`2026-11-29T00:00:00Z`). The session id is printable ASCII without spaces.
pub fn delegation_message(
    session_id: &str,
    max_usdc_base_units: u64,
    expires_at_unix_s: i64,
) -> Result<String, SessionFormatError> {
    if session_id.is_empty() || !session_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SessionFormatError::Delegation(
            "session id is not printable ASCII",
        ));
    }
    let expires = rfc3339_utc(expires_at_unix_s).ok_or(SessionFormatError::Delegation(
        "expiry is outside years 1970..9999",
    ))?;
    Ok(format!(
        "I authorize autonomous delegate for session {session_id} to spend up to ${} until {expires}",
        usd(max_usdc_base_units)
    ))
}

/// USDC base units as dollars: `100000000` -> `100`, `5250000` -> `5.25`, `1` -> `0.000001`.
pub fn usd(base_units: u64) -> String {
    let (whole, fraction) = (base_units / 1_000_000, base_units % 1_000_000);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time in 1970..=9999 (UTC, whole seconds).
pub fn rfc3339_utc(unix_s: i64) -> Option<String> {
    if !(0..=253_402_300_799).contains(&unix_s) {
        return None;
    }
    let at = time::OffsetDateTime::from_unix_timestamp(unix_s).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}
