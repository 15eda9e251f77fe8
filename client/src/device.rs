//! The device side of a session key: generate it, seal it into the device-bound blob with
//! the user's password (Argon2id m=64 MiB, t=3, p=1 -> AES-256-GCM key; AAD = the session
//! public key, so a blob cannot be presented as another session's), open it again, and sign
//! with it (delegation messages, approvals, transactions). The secret lives in
//! `ed25519_dalek::SigningKey`, which wipes itself on drop; derived keys are `Zeroizing`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aip_wire::session::{
    delegation_message, DeviceBoundBlob, SessionFormatError, BLOB_LEN, BLOB_VERSION, NONCE_LEN,
    SALT_LEN,
};
use argon2::{Algorithm, Argon2, Params, Version};
use ed25519_dalek::{Signer, SigningKey};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum DeviceKeyError {
    #[error("the device-bound blob")]
    Format(#[from] SessionFormatError),
    #[error("deriving the blob key failed")]
    Derive,
    #[error("the password is wrong, or the blob is not this session's or was altered")]
    Open,
    #[error("sealing the session key failed")]
    Seal,
}

/// A session key on the device.
pub struct SessionKey {
    signing: SigningKey,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey(public {})", hex::encode(self.public_key()))
    }
}

fn blob_key(password: &str, salt: &[u8; SALT_LEN]) -> Result<Zeroizing<[u8; 32]>, DeviceKeyError> {
    let params = Params::new(64 * 1024, 3, 1, Some(32)).map_err(|_| DeviceKeyError::Derive)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, key.as_mut())
        .map_err(|_| DeviceKeyError::Derive)?;
    Ok(key)
}

impl SessionKey {
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// `version || salt || nonce || AES-256-GCM(seed)` under a key derived from `password`.
    pub fn seal(&self, password: &str) -> Result<Vec<u8>, DeviceKeyError> {
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);
        let key = blob_key(password, &salt)?;
        let seed = Zeroizing::new(self.signing.to_bytes());
        let public = self.public_key();
        let sealed = Aes256Gcm::new(key.as_ref().into())
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: seed.as_ref(),
                    aad: &public,
                },
            )
            .map_err(|_| DeviceKeyError::Seal)?;
        let mut blob = Vec::with_capacity(BLOB_LEN);
        blob.push(BLOB_VERSION);
        blob.extend_from_slice(&salt);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// Opens a blob for the session whose public key is `public_key`.
    pub fn open(
        blob: &[u8],
        password: &str,
        public_key: &[u8; 32],
    ) -> Result<Self, DeviceKeyError> {
        let parts = DeviceBoundBlob::parse(blob)?;
        let key = blob_key(password, parts.salt)?;
        let seed = Aes256Gcm::new(key.as_ref().into())
            .decrypt(
                Nonce::from_slice(parts.nonce),
                Payload {
                    msg: parts.sealed,
                    aad: public_key,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| DeviceKeyError::Open)?;
        let seed: &[u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| DeviceKeyError::Open)?;
        let signing = SigningKey::from_bytes(seed);
        if signing.verifying_key().to_bytes() != *public_key {
            return Err(DeviceKeyError::Open);
        }
        Ok(Self { signing })
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The canonical delegation message and this key's signature over it.
    pub fn sign_delegation(
        &self,
        session_id: &str,
        max_usdc_base_units: u64,
        expires_at_unix_s: i64,
    ) -> Result<(String, [u8; 64]), DeviceKeyError> {
        let message = delegation_message(session_id, max_usdc_base_units, expires_at_unix_s)?;
        let signature = self.sign(message.as_bytes());
        Ok((message, signature))
    }
}
