//! The enclave's release key: a secp256k1 key made at boot, never stored, whose Ethereum
//! address is bound into every attestation (binding v2). The enclave signs its Lit requests
//! (SIWE, EIP-191) with it; the attested-release action accepts evidence only for the address
//! that signed, so evidence replayed by the host is worth nothing without this key.

use aip_lit::siwe::{address_of, checksummed, Address, AuthSig, SiweError, SiweMessage};
use k256::ecdsa::SigningKey;
use rand_core::OsRng;

/// The key (wiped on drop by k256) and its address.
pub struct ReleaseKey {
    key: SigningKey,
    address: Address,
}

impl std::fmt::Debug for ReleaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReleaseKey({}, <secret>)", checksummed(&self.address))
    }
}

impl ReleaseKey {
    pub fn generate() -> Self {
        let key = SigningKey::random(&mut OsRng);
        let address = address_of(key.verifying_key());
        Self { key, address }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// The `authSig` of `message`, which must name this key's address.
    pub fn sign_in(&self, message: &SiweMessage) -> Result<AuthSig, SiweError> {
        if message.address != self.address {
            return Err(SiweError::AddressMismatch {
                message: checksummed(&message.address),
                claimed: checksummed(&self.address),
            });
        }
        AuthSig::sign(&self.key, message)
    }
}
