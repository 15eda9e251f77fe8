//! The API key format, shared by the enclave (which checks keys) and operators' tools (which
//! make the root key pinned in the enclave's configuration): `zai_` followed by 64 lowercase
//! hex characters (32 random bytes). A key is found by the SHA-256 of its text.

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const KEY_PREFIX: &str = "zai_";

/// A fresh key; its text exists only in memory that is wiped on drop.
pub fn generate() -> Zeroizing<String> {
    let mut random = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(random.as_mut());
    Zeroizing::new(format!("{KEY_PREFIX}{}", hex::encode(random.as_ref())))
}

/// SHA-256 of the key text: how the enclave finds a key, and what its configuration pins for
/// the operator's root key.
pub fn lookup_of(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// [`lookup_of`] as the 64 hex characters a configuration's `root_api_key_sha256` holds.
pub fn lookup_hex(text: &str) -> String {
    hex::encode(lookup_of(text))
}

/// The key's shape, without looking it up.
pub fn well_formed(text: &str) -> bool {
    text.strip_prefix(KEY_PREFIX).is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let (a, b) = (generate(), generate());
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(*a, *b);
        for bad in [
            "zai_",
            "zai_00",
            "ZAI_0000000000000000000000000000000000000000000000000000000000000000",
            "zai_000000000000000000000000000000000000000000000000000000000000000G",
            "zai_00000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
