//! The Solana transaction decoder: what the enclave reads of a backend's or device's
//! transaction before any policy looks at it.

use std::path::Path;

use aip_engine::solana::{explain_decoded, Decoded};

/// Any bytes: decoding never panics; what decodes re-encodes to the same bytes and explains.
pub fn decode_transaction(data: &[u8]) {
    if let Ok(decoded) = Decoded::from_bytes(data) {
        assert_eq!(
            decoded.to_bytes(),
            data,
            "a decoded transaction re-encodes exactly"
        );
        let _ = explain_decoded(&decoded);
    }
}

/// The real transactions in `testdata/solana` (hex or base58 text).
pub fn seeds(testdata: &Path) -> Vec<Vec<u8>> {
    crate::seeds::files(&testdata.join("solana"), &["hex", "b58"])
        .into_iter()
        .filter_map(|(path, bytes)| {
            let text = String::from_utf8(bytes).ok()?;
            let text = text.trim();
            match path.extension()?.to_str()? {
                "hex" => hex::decode(text).ok(),
                _ => bs58::decode(text).into_vec().ok(),
            }
        })
        .collect()
}
