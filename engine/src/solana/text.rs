//! Transactions as text: base64, base58 or hex, detected from the characters used.

use base64::Engine;

use super::error::TextEncodingError;

/// Largest decoded input we accept: Solana packets are 1232 bytes; leave room for messages
/// up to the 4 KiB that V1 proposals discuss, and refuse anything beyond before decoding.
pub const MAX_TRANSACTION_BYTES: usize = 4096;

/// How the text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Base64,
    Base58,
    Hex,
}

impl std::str::FromStr for TextEncoding {
    type Err = TextEncodingError;

    /// `base64`, `base58` or `hex` (the operator tool's `--encoding`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "base64" => Ok(Self::Base64),
            "base58" => Ok(Self::Base58),
            "hex" => Ok(Self::Hex),
            _ => Err(TextEncodingError::UnknownEncoding(name.to_owned())),
        }
    }
}

impl TextEncoding {
    /// Hex if every character is a hex digit (an optional 0x prefix aside), base58 if every
    /// character is in the base58 alphabet, base64 otherwise. Long base58 or base64 strings
    /// made only of hex digits do not occur in practice; `--encoding` overrides the guess.
    pub fn detect(text: &str) -> Self {
        let body = text.strip_prefix("0x").unwrap_or(text);
        if body.bytes().all(|b| b.is_ascii_hexdigit()) {
            Self::Hex
        } else if text.bytes().all(|b| BASE58_ALPHABET.contains(&b)) {
            Self::Base58
        } else {
            Self::Base64
        }
    }
}

const BASE58_ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Decodes `text` (surrounding whitespace ignored) with the given or detected encoding.
pub fn decode_text(
    text: &str,
    encoding: Option<TextEncoding>,
) -> Result<Vec<u8>, TextEncodingError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(TextEncodingError::Empty);
    }
    // Every encoding needs at least one character per byte of output... but hex needs two and
    // base64 needs four per three; one character per byte bounds them all from above.
    if text.len() > MAX_TRANSACTION_BYTES.saturating_mul(2).saturating_add(2) {
        return Err(TextEncodingError::TooLarge {
            max: MAX_TRANSACTION_BYTES,
        });
    }
    let bytes = match encoding.unwrap_or_else(|| TextEncoding::detect(text)) {
        TextEncoding::Hex => {
            let body = text.strip_prefix("0x").unwrap_or(text);
            if !body.len().is_multiple_of(2) {
                return Err(TextEncodingError::OddHex(body.len()));
            }
            hex::decode(body).map_err(TextEncodingError::Hex)?
        }
        TextEncoding::Base58 => bs58::decode(text)
            .into_vec()
            .map_err(TextEncodingError::Base58)?,
        TextEncoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(TextEncodingError::Base64)?,
    };
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(TextEncodingError::TooLarge {
            max: MAX_TRANSACTION_BYTES,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_encoding() {
        assert_eq!(TextEncoding::detect("0a0b"), TextEncoding::Hex);
        assert_eq!(TextEncoding::detect("0x0a0b"), TextEncoding::Hex);
        assert_eq!(TextEncoding::detect("3yZe7d"), TextEncoding::Base58);
        assert_eq!(TextEncoding::detect("AQID+w=="), TextEncoding::Base64);
    }

    #[test]
    fn decodes_the_same_bytes_from_each_encoding() {
        let bytes = [1u8, 2, 3, 250, 0, 7];
        let hex_text = hex::encode(bytes);
        let b58 = bs58::encode(bytes).into_string();
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        for text in [hex_text.as_str(), b58.as_str(), b64.as_str()] {
            assert_eq!(
                decode_text(&format!(" {text}\n"), None).unwrap(),
                bytes,
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_bad_text_with_specific_errors() {
        assert_eq!(decode_text("  ", None), Err(TextEncodingError::Empty));
        assert_eq!(decode_text("abc", None), Err(TextEncodingError::OddHex(3)));
        assert!(matches!(
            decode_text("QQ=", None),
            Err(TextEncodingError::Base64(_))
        ));
        assert!(matches!(
            decode_text("zz", Some(TextEncoding::Hex)),
            Err(TextEncodingError::Hex(_))
        ));
        assert!(matches!(
            decode_text("0OIl", Some(TextEncoding::Base58)),
            Err(TextEncodingError::Base58(_))
        ));
        let huge = "ab".repeat(MAX_TRANSACTION_BYTES + 8);
        assert!(matches!(
            decode_text(&huge, None),
            Err(TextEncodingError::TooLarge { .. })
        ));
    }
}
