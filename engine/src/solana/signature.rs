//! Ed25519 signing with a key that is wiped on drop, and verification of existing signatures.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Serialize;
use solana_address::Address;
use zeroize::Zeroizing;

use super::error::SignError;
use super::wire::{Message, Transaction, SIGNATURE_LEN};

/// A Solana signing key. The secret lives only inside `ed25519_dalek::SigningKey`, which
/// zeroizes itself on drop; it is never printed (Debug shows the address only) and never
/// serialized.
pub struct SigningKeypair {
    key: SigningKey,
}

impl SigningKeypair {
    /// Takes the 32-byte seed; the caller's copy is wiped when its `Zeroizing` drops.
    pub fn from_seed(seed: &Zeroizing<[u8; 32]>) -> Self {
        Self {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        fill_random(seed.as_mut());
        Self::from_seed(&seed)
    }

    pub fn address(&self) -> Address {
        Address::new_from_array(self.key.verifying_key().to_bytes())
    }

    /// Signs message bytes as Solana does (plain Ed25519 over the serialized message).
    pub fn sign_message(&self, message: &Message) -> [u8; SIGNATURE_LEN] {
        self.key.sign(&message.to_bytes()).to_bytes()
    }

    /// Adds this key's signature to `tx` in the slot of its account.
    pub fn sign_transaction(&self, tx: &mut Transaction) -> Result<(), SignError> {
        let address = self.address();
        let slot = tx
            .message
            .signers()
            .iter()
            .position(|signer| *signer == address)
            .ok_or(SignError::NotASigner(address))?;
        let signature = self.sign_message(&tx.message);
        let entry = tx
            .signatures
            .get_mut(slot)
            .ok_or(SignError::NotASigner(address))?;
        *entry = signature;
        Ok(())
    }
}

impl std::fmt::Debug for SigningKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeypair")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

fn fill_random(bytes: &mut [u8]) {
    use rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(bytes);
}

/// The state of one signature slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureState {
    Valid,
    Invalid,
    /// All zeros: a placeholder for a signer that has not signed yet.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    #[serde(with = "crate::solana::as_text")]
    pub signer: Address,
    pub state: SignatureState,
}

/// Checks each signature against its signer with strict Ed25519 verification (as validators
/// do: no small-order keys, canonical `s`).
pub fn check_signatures(tx: &Transaction) -> Vec<SignatureCheck> {
    let message = tx.message.to_bytes();
    tx.message
        .signers()
        .iter()
        .zip(&tx.signatures)
        .map(|(signer, signature)| SignatureCheck {
            signer: *signer,
            state: verify(signer, &message, signature),
        })
        .collect()
}

/// Verifies one signature over `message` bytes.
pub fn verify(signer: &Address, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> SignatureState {
    if signature.iter().all(|&b| b == 0) {
        return SignatureState::Missing;
    }
    let Ok(key) = VerifyingKey::from_bytes(&signer.to_bytes()) else {
        return SignatureState::Invalid;
    };
    match key.verify_strict(message, &Signature::from_bytes(signature)) {
        Ok(()) => SignatureState::Valid,
        Err(_) => SignatureState::Invalid,
    }
}
