//! The device side of a session key: generate it, seal it into the device-bound blob with
//! the user's password (Argon2id m=64 MiB, t=3, p=1 -> AES-256-GCM key; AAD = the session
//! public key, so a blob cannot be presented as another session's), open it again, and sign
//! with it (delegation messages, approvals of decoded payments, transactions). The secret lives in
//! `ed25519_dalek::SigningKey`, which wipes itself on drop; derived keys are `Zeroizing`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aip_engine::solana::{SigningKeypair, Transaction};
use aip_wire::payments::{
    approval_digest, approval_message, possession_message, Approve, EnableAutonomy,
    EncryptionTarget, Limits, PaymentAnswer, RegisterDeviceBound,
};
use aip_wire::session::{
    delegation_message, DeviceBoundBlob, SessionFormatError, BLOB_LEN, BLOB_VERSION, NONCE_LEN,
    SALT_LEN,
};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use rand_core::{OsRng, RngCore};
use solana_address::Address;
use zeroize::Zeroizing;

pub use crate::review::Review;

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
    #[error("the Lit encryption")]
    Lit(#[from] aip_lit::LitError),
    #[error("the transaction to sign: {0}")]
    Transaction(&'static str),
    #[error("the transaction does not decode")]
    Decode(#[source] aip_engine::solana::DecodeError),
    #[error("the signer will not sign this transaction")]
    Refused(#[source] aip_engine::solana::Refusal),
    #[error("the transaction is not one payment")]
    NotAPayment(#[source] aip_engine::solana::SummaryError),
    #[error("the transaction is not the payment the signer describes")]
    NotAsDescribed(#[source] aip_engine::solana::Mismatch),
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

    /// A session key from an existing 32-byte seed (imported from another device).
    pub fn from_seed(seed: &Zeroizing<[u8; 32]>) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed),
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

    /// The session key as a Solana address (base58).
    pub fn address(&self) -> String {
        bs58::encode(self.public_key()).into_string()
    }

    /// The registration of this key with the signer: the blob sealed with `password`, the
    /// limits, and the possession signature over both.
    pub fn register_request(
        &self,
        password: &str,
        limits: Limits,
    ) -> Result<RegisterDeviceBound, DeviceKeyError> {
        let blob = self.seal(password)?;
        let public_key = self.address();
        let message = possession_message(&public_key, &blob, &limits);
        Ok(RegisterDeviceBound {
            public_key,
            encrypted_blob: base64::engine::general_purpose::STANDARD.encode(&blob),
            limits,
            possession_signature: hex::encode(self.sign(message.as_bytes())),
        })
    }

    /// Autonomy for the session `session_key_id`: the seed encrypted with Lit under the
    /// enclave's conditions (only the attested enclave can obtain the shares), and the
    /// delegation signature.
    pub fn autonomy_request(
        &self,
        session_key_id: &str,
        max_total: u64,
        expires_at: i64,
        target: &EncryptionTarget,
    ) -> Result<EnableAutonomy, DeviceKeyError> {
        let network_key = aip_lit::NetworkKey::from_hex(&target.network_public_key)?;
        let conditions =
            aip_lit::Conditions::from_field(&target.conditions_field, &target.conditions)?;
        let seed = Zeroizing::new(self.signing.to_bytes());
        let encrypted = aip_lit::ciphertext::encrypt_for(&network_key, &conditions, seed.as_ref())?;
        let (_, signature) = self.sign_delegation(session_key_id, max_total, expires_at)?;
        Ok(EnableAutonomy {
            max_total,
            expires_at,
            delegation_signature: hex::encode(signature),
            ciphertext: encrypted.ciphertext,
            data_to_encrypt_hash: encrypted.data_to_encrypt_hash,
            conditions: conditions.to_value(),
        })
    }

    /// Decodes the transaction the signer handed back with the enclave's own decoder and
    /// checks it is the payment the answer names and that this key pays it: what
    /// [`Self::approve`] and [`Self::sign_reviewed`] act on, and what the user is shown.
    pub fn review(&self, answer: &PaymentAnswer) -> Result<Review, DeviceKeyError> {
        let encoded = answer
            .transaction
            .as_deref()
            .ok_or(DeviceKeyError::Transaction(
                "the signer sent no transaction to review",
            ))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| DeviceKeyError::Transaction("the transaction is not base64"))?;
        Review::of(&bytes, answer, &self.solana_address())
    }

    /// The user's approval of the reviewed payment: a signature over the digest of the
    /// message the device decoded (never over a digest the signer merely reports).
    pub fn approve(&self, review: &Review) -> Approve {
        let digest = approval_digest(&review.transaction.message.to_bytes());
        Approve {
            signature: hex::encode(self.sign(approval_message(&digest).as_bytes())),
        }
    }

    /// The reviewed transaction signed in this key's slot (serialized).
    pub fn sign_reviewed(&self, review: &Review) -> Result<Vec<u8>, DeviceKeyError> {
        self.sign_transaction(&review.transaction.to_bytes())
    }

    /// Signs a serialized Solana transaction in this key's signature slot. The transaction is
    /// decoded strictly first (the enclave's decoder); prefer [`Self::review`] for payments.
    pub fn sign_transaction(&self, transaction: &[u8]) -> Result<Vec<u8>, DeviceKeyError> {
        let mut tx = Transaction::from_bytes(transaction).map_err(DeviceKeyError::Decode)?;
        let seed = Zeroizing::new(self.signing.to_bytes());
        SigningKeypair::from_seed(&seed)
            .sign_transaction(&mut tx)
            .map_err(|_| DeviceKeyError::Transaction("this session key is not a signer"))?;
        Ok(tx.to_bytes())
    }

    fn solana_address(&self) -> Address {
        Address::new_from_array(self.public_key())
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
