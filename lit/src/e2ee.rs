//! Naga's end-to-end encrypted request and answer bodies: `EncryptedPayload` version 1, as
//! Lit's SDK writes it (lit-peer `rust/lit-node/lit-sdk/src/payload.rs`):
//!
//! ```json
//! {"version":"1","payload":{"verification_key":"<sender X25519 public key, hex>",
//!   "random":"<16 bytes hex>","created_at":"<RFC 3339>","ciphertext_and_tag":"<hex>"}}
//! ```
//!
//! The box is NaCl's `crypto_box` (X25519, XSalsa20-Poly1305) of the message (NaCl's API takes
//! it after 32 zero bytes), and `ciphertext_and_tag` is NaCl's whole output, its 16 leading
//! zero bytes included. NaCl has no associated data, so Lit binds the context into the nonce instead:
//! `nonce = SHA-512(0x01 || random || u64_be(created_at seconds) || recipient || sender)[..24]`.
//! The recipient is the node's `nodeIdentityKey` (from its handshake) when a client asks, and
//! the client's key when a node answers.

use crypto_box::aead::Aead;
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use thiserror::Error;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
/// NaCl's `crypto_box` output begins with this many zero bytes (`crypto_box_BOXZEROBYTES`).
const BOX_ZERO_BYTES: usize = 16;

#[derive(Debug, Error)]
pub enum E2eeError {
    #[error("the encrypted payload is version {0:?}; this client reads version \"1\"")]
    Version(String),
    #[error("the encrypted payload's {0} is not hex of the right length")]
    Field(&'static str),
    #[error("the encrypted payload's created_at is not RFC 3339")]
    Time(#[source] time::error::Parse),
    #[error("the time is outside what a payload can carry")]
    TimeRange,
    #[error("the box does not open: another key, or changed bytes")]
    Open,
    #[error("the box does not begin with NaCl's zero bytes")]
    Padding,
    #[error("sealing failed")]
    Seal,
    #[error("the payload was sealed by another key than the one expected")]
    OtherSender,
}

/// A version 1 encrypted payload as it travels. Fields beside `version` and `payload` are
/// ignored, as Lit's nodes ignore them: Lit's Rust SDK adds the request's `epoch` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedPayload {
    pub version: String,
    pub payload: PayloadV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadV1 {
    pub verification_key: String,
    pub random: String,
    pub created_at: String,
    pub ciphertext_and_tag: String,
}

/// This side's X25519 key for one exchange (the secret is wiped on drop by `crypto_box`),
/// with its public key, computed once: a release seals to and opens from every node, and each
/// use names this key twice (in the nonce and the payload).
pub struct BoxKey {
    secret: SecretKey,
    public: [u8; 32],
}

impl std::fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BoxKey({}, <secret>)", hex::encode(self.public_key()))
    }
}

impl BoxKey {
    pub fn generate() -> Self {
        Self::from_secret(SecretKey::generate(&mut OsRng))
    }

    pub fn from_bytes(secret: [u8; 32]) -> Self {
        Self::from_secret(SecretKey::from_bytes(secret))
    }

    fn from_secret(secret: SecretKey) -> Self {
        let public = *secret.public_key().as_bytes();
        Self { secret, public }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The box between this key and `peer`: their X25519 agreement, computed once for a
    /// request sealed to a node and its answer opened from it.
    pub fn channel(&self, peer: &[u8; 32]) -> Channel {
        Channel {
            salsa: SalsaBox::new(&PublicKey::from(*peer), &self.secret),
            ours: self.public,
            peer: *peer,
        }
    }

    /// Seals `message` to `recipient`, created at `created_at` (unix seconds).
    pub fn seal(
        &self,
        recipient: &[u8; 32],
        message: &[u8],
        created_at: i64,
    ) -> Result<EncryptedPayload, E2eeError> {
        self.channel(recipient).seal(message, created_at)
    }

    /// As [`seal`](Self::seal) with a given random value (vectors).
    pub fn seal_with(
        &self,
        recipient: &[u8; 32],
        message: &[u8],
        created_at: i64,
        random: [u8; 16],
    ) -> Result<EncryptedPayload, E2eeError> {
        self.channel(recipient)
            .seal_with(message, created_at, random)
    }

    /// Opens a payload sealed to this key by whichever key it names: the message and the box
    /// with that sender (the caller decides whether [`Channel::peer`] is the sender it
    /// expects; a node seals its answer back in the same box).
    pub fn open(
        &self,
        sealed: &EncryptedPayload,
    ) -> Result<(Zeroizing<Vec<u8>>, Channel), E2eeError> {
        let read = Readable::from(sealed)?;
        let channel = self.channel(&read.sender);
        let message = channel.open_read(&read)?;
        Ok((message, channel))
    }
}

/// One key pair's box (see [`BoxKey::channel`]); the shared key is wiped on drop by
/// `crypto_box`.
pub struct Channel {
    salsa: SalsaBox,
    ours: [u8; 32],
    peer: [u8; 32],
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Channel({} to {}, <secret>)",
            hex::encode(self.ours),
            hex::encode(self.peer)
        )
    }
}

impl Channel {
    /// The other side's public key.
    pub fn peer(&self) -> [u8; 32] {
        self.peer
    }

    /// Seals `message` to the peer, created at `created_at` (unix seconds).
    pub fn seal(&self, message: &[u8], created_at: i64) -> Result<EncryptedPayload, E2eeError> {
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        self.seal_with(message, created_at, random)
    }

    /// As [`seal`](Self::seal) with a given random value (vectors).
    pub fn seal_with(
        &self,
        message: &[u8],
        created_at: i64,
        random: [u8; 16],
    ) -> Result<EncryptedPayload, E2eeError> {
        let seconds = u64::try_from(created_at).map_err(|_| E2eeError::TimeRange)?;
        let nonce = nonce(&random, seconds, &self.peer, &self.ours);
        // `crypto_box` is libsodium's "easy" box: NaCl's box without its 32 zero bytes of
        // plaintext and 16 of output. Lit's format keeps the output's, so they are put back.
        let sealed = self
            .salsa
            .encrypt(&nonce.into(), message)
            .map_err(|_| E2eeError::Seal)?;
        // Hex of the zero bytes, then of the box, written in place (hex::encode builds its
        // string a character at a time: it was a tenth of a release's CPU).
        let mut ciphertext_and_tag = vec![b'0'; 2 * (BOX_ZERO_BYTES + sealed.len())];
        hex::encode_to_slice(&sealed, &mut ciphertext_and_tag[2 * BOX_ZERO_BYTES..])
            .map_err(|_| E2eeError::Seal)?;
        let ciphertext_and_tag =
            String::from_utf8(ciphertext_and_tag).map_err(|_| E2eeError::Seal)?;
        let created = time::OffsetDateTime::from_unix_timestamp(created_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .ok_or(E2eeError::TimeRange)?;
        Ok(EncryptedPayload {
            version: VERSION.to_string(),
            payload: PayloadV1 {
                verification_key: hex::encode(self.ours),
                random: hex::encode(random),
                created_at: created,
                ciphertext_and_tag,
            },
        })
    }

    /// Opens a payload the peer sealed to this key; one that names another sender is
    /// refused unopened.
    pub fn open(&self, sealed: &EncryptedPayload) -> Result<Zeroizing<Vec<u8>>, E2eeError> {
        let read = Readable::from(sealed)?;
        if read.sender != self.peer {
            return Err(E2eeError::OtherSender);
        }
        self.open_read(&read)
    }

    fn open_read(&self, read: &Readable) -> Result<Zeroizing<Vec<u8>>, E2eeError> {
        let nonce = nonce(&read.random, read.seconds, &self.ours, &read.sender);
        let message = self
            .salsa
            .decrypt(&nonce.into(), &read.boxed[BOX_ZERO_BYTES..])
            .map_err(|_| E2eeError::Open)?;
        Ok(Zeroizing::new(message))
    }
}

/// A version 1 payload's fields, read and checked, before opening.
struct Readable {
    sender: [u8; 32],
    random: [u8; 16],
    seconds: u64,
    /// NaCl's box, its zero bytes included (checked).
    boxed: Vec<u8>,
}

impl Readable {
    fn from(sealed: &EncryptedPayload) -> Result<Self, E2eeError> {
        if sealed.version != VERSION.to_string() {
            return Err(E2eeError::Version(sealed.version.clone()));
        }
        let p = &sealed.payload;
        let sender: [u8; 32] = hex_array(&p.verification_key, "verification_key")?;
        let random: [u8; 16] = hex_array(&p.random, "random")?;
        let boxed = hex::decode(&p.ciphertext_and_tag)
            .map_err(|_| E2eeError::Field("ciphertext_and_tag"))?;
        if boxed.len() < BOX_ZERO_BYTES + 16 {
            return Err(E2eeError::Field("ciphertext_and_tag"));
        }
        if boxed[..BOX_ZERO_BYTES].iter().any(|b| *b != 0) {
            return Err(E2eeError::Padding);
        }
        let created = time::OffsetDateTime::parse(
            &p.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(E2eeError::Time)?;
        let seconds = u64::try_from(created.unix_timestamp()).map_err(|_| E2eeError::TimeRange)?;
        Ok(Self {
            sender,
            random,
            seconds,
            boxed,
        })
    }
}

fn hex_array<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], E2eeError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| E2eeError::Field(field))?;
    Ok(out)
}

/// Lit's nonce: the context NaCl cannot authenticate, hashed into the nonce.
fn nonce(random: &[u8; 16], seconds: u64, recipient: &[u8; 32], sender: &[u8; 32]) -> [u8; 24] {
    let mut hash = Sha512::new();
    hash.update([VERSION]);
    hash.update(random);
    hash.update(seconds.to_be_bytes());
    hash.update(recipient);
    hash.update(sender);
    let digest = hash.finalize();
    let mut out = [0u8; 24];
    out.copy_from_slice(&digest[..24]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by lit-sdk 2.0's `EncryptedPayload::encrypt` (its code, with `sodalite`, run with
    /// these fixed keys, random value and time; the run is not part of this repository).
    const SENDER_SECRET: [u8; 32] = [0x11; 32];
    const RECIPIENT_SECRET: [u8; 32] = [0x22; 32];
    const RANDOM: [u8; 16] = [0x33; 16];
    const CREATED_AT: i64 = 1_800_000_000;
    const MESSAGE: &[u8] = br#"{"dataToEncryptHash":"ab","chain":"ethereum"}"#;
    const LIT_CIPHERTEXT_AND_TAG: &str = "000000000000000000000000000000006b3e67aed999cc56792898e87dd45c6661dbb93ef8e5905605f79bc8df7987f09ba7578baf829bee84f9ec1856dbf4f84c9659639672735a0547e70927";

    #[test]
    fn seals_as_lit_sdk_does_and_opens_its_payloads() {
        let sender = BoxKey::from_bytes(SENDER_SECRET);
        let recipient = BoxKey::from_bytes(RECIPIENT_SECRET);
        assert_eq!(
            hex::encode(recipient.public_key()),
            "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20"
        );
        let sealed = sender
            .seal_with(&recipient.public_key(), MESSAGE, CREATED_AT, RANDOM)
            .unwrap();
        assert_eq!(sealed.payload.ciphertext_and_tag, LIT_CIPHERTEXT_AND_TAG);
        assert_eq!(
            sealed.payload.verification_key,
            "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"
        );
        // Lit writes created_at with chrono's to_rfc3339 (+00:00): read either form.
        let mut lits = sealed.clone();
        lits.payload.created_at = "2027-01-15T08:00:00+00:00".into();
        let (opened, from) = recipient.open(&lits).unwrap();
        assert_eq!(opened.as_slice(), MESSAGE);
        assert_eq!(from.peer(), sender.public_key());
        let json = serde_json::to_value(&sealed).unwrap();
        assert_eq!(json["version"], "1");
    }

    /// A node opens the request and seals its answer in the box the request came in; the
    /// requester opens it with the box it sealed the request in, and refuses, unopened, an
    /// answer sealed by any other key (even one that would open).
    #[test]
    fn one_box_seals_the_request_and_opens_the_answer() {
        let client = BoxKey::from_bytes(SENDER_SECRET);
        let node = BoxKey::from_bytes(RECIPIENT_SECRET);
        let to_node = client.channel(&node.public_key());
        let request = to_node.seal_with(MESSAGE, CREATED_AT, RANDOM).unwrap();
        assert_eq!(request.payload.ciphertext_and_tag, LIT_CIPHERTEXT_AND_TAG);
        let (opened, to_client) = node.open(&request).unwrap();
        assert_eq!(opened.as_slice(), MESSAGE);
        assert_eq!(to_client.peer(), client.public_key());
        let answer = to_client.seal(b"share", CREATED_AT).unwrap();
        assert_eq!(to_node.open(&answer).unwrap().as_slice(), b"share");
        let impostor = BoxKey::generate();
        let forged = impostor
            .seal(&client.public_key(), b"share", CREATED_AT)
            .unwrap();
        assert!(client.open(&forged).is_ok());
        assert!(matches!(to_node.open(&forged), Err(E2eeError::OtherSender)));
    }

    #[test]
    fn refuses_changed_bytes_keys_times_and_versions() {
        let sender = BoxKey::generate();
        let recipient = BoxKey::generate();
        let sealed = sender
            .seal(&recipient.public_key(), b"share", 1_800_000_000)
            .unwrap();
        assert!(recipient.open(&sealed).is_ok());
        assert!(matches!(
            BoxKey::generate().open(&sealed),
            Err(E2eeError::Open)
        ));
        let mut other_time = sealed.clone();
        other_time.payload.created_at = "2027-01-15T08:00:01Z".into();
        assert!(matches!(recipient.open(&other_time), Err(E2eeError::Open)));
        let mut flipped = sealed.clone();
        let mut bytes = hex::decode(&flipped.payload.ciphertext_and_tag).unwrap();
        bytes[20] ^= 1;
        flipped.payload.ciphertext_and_tag = hex::encode(bytes);
        assert!(matches!(recipient.open(&flipped), Err(E2eeError::Open)));
        let mut padded = sealed.clone();
        padded.payload.ciphertext_and_tag.replace_range(0..2, "01");
        assert!(matches!(recipient.open(&padded), Err(E2eeError::Padding)));
        let mut version = sealed;
        version.version = "2".into();
        assert!(matches!(
            recipient.open(&version),
            Err(E2eeError::Version(_))
        ));
    }
}
