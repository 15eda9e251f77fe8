//! Serde helpers: byte fields appear as lowercase hex in JSON output.

use serde::Serializer;

/// `#[serde(serialize_with = "crate::hexfmt::bytes")]`
pub fn bytes<S: Serializer, T: AsRef<[u8]>>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(value.as_ref()))
}

/// `#[serde(serialize_with = "crate::hexfmt::option")]`
pub fn option<S: Serializer, T: AsRef<[u8]>>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(&hex::encode(v.as_ref())),
        None => s.serialize_none(),
    }
}

/// Decodes hex with an optional `0x` prefix into exactly `N` bytes.
pub fn decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}
