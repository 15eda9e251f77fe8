//! Signing in to Lit nodes as an Ethereum address: the EIP-4361 (SIWE) message, its EIP-191
//! `personal_sign` signature, and the `authSig` that carries both.
//!
//! The enclave signs with the secp256k1 key it makes at boot (its *release key*); the nodes
//! recover the address from the signature and substitute it for `:userAddress`, and read
//! `:litParam:<name>` values from the message's resources (`litParam:<name>:<base64url>`,
//! lit-peer `access_control::substitute_special_params`). The attested-release action then
//! accepts evidence only if its binding commits to that address.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use thiserror::Error;

/// `derivedVia` of an externally-owned account's `personal_sign`.
pub const DERIVED_VIA: &str = "web3.eth.personal.sign";
/// The most resources one message may carry, and the longest message a node here reads.
pub const MAX_RESOURCES: usize = 16;
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, Error)]
pub enum SiweError {
    #[error("the signed message is not a SIWE message: {0}")]
    Format(&'static str),
    #[error("the signed message's time {0:?} is not RFC 3339")]
    Time(String, #[source] time::error::Parse),
    #[error("the signature is not 65 bytes of 0x-hex")]
    SignatureEncoding,
    #[error("the signature does not recover to an address")]
    Recover(#[source] k256::ecdsa::Error),
    #[error("the signature recovers to {recovered}, the auth sig names {claimed}")]
    WrongSigner { recovered: String, claimed: String },
    #[error("the message is for {message}, the auth sig names {claimed}")]
    AddressMismatch { message: String, claimed: String },
    #[error("the message expired at {expiration} (now {now})")]
    Expired { expiration: String, now: i64 },
    #[error("the message was issued at {issued_at}, after now ({now})")]
    NotYetValid { issued_at: String, now: i64 },
    #[error("a time is outside 1970..9999")]
    TimeRange,
}

/// An Ethereum address's 20 bytes.
pub type Address = [u8; 20];

/// The address of a secp256k1 key: the last 20 bytes of Keccak-256 of the uncompressed point.
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    address
}

/// EIP-55 mixed-case hex with `0x`, as SIWE requires.
pub fn checksummed(address: &Address) -> String {
    let lower = hex::encode(address);
    let hash = Keccak256::digest(lower.as_bytes());
    let mixed: String = lower
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0xf;
            if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    format!("0x{mixed}")
}

/// EIP-191 version 0x45: Keccak-256 of the prefixed message.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(format!("\x19Ethereum Signed Message:\n{}", message.len()).as_bytes());
    hasher.update(message);
    hasher.finalize().into()
}

/// `personal_sign`: r || s || v with v = 27 + recovery id, low-s.
pub fn sign_personal(key: &SigningKey, message: &str) -> Result<[u8; 65], SiweError> {
    let hash = personal_message_hash(message.as_bytes());
    let (signature, recovery) = key
        .sign_prehash_recoverable(&hash)
        .map_err(SiweError::Recover)?;
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&signature.to_bytes());
    out[64] = 27 + recovery.to_byte();
    Ok(out)
}

/// The address whose key made `signature` over `message` (EIP-191).
pub fn recover_personal(message: &str, signature: &[u8; 65]) -> Result<Address, SiweError> {
    let hash = personal_message_hash(message.as_bytes());
    let parsed = Signature::from_slice(&signature[..64]).map_err(SiweError::Recover)?;
    let v = signature[64];
    let recovery = RecoveryId::from_byte(if v >= 27 { v - 27 } else { v })
        .ok_or(SiweError::SignatureEncoding)?;
    let key =
        VerifyingKey::recover_from_prehash(&hash, &parsed, recovery).map_err(SiweError::Recover)?;
    Ok(address_of(&key))
}

/// A SIWE message (EIP-4361) with the fields Lit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    pub domain: String,
    pub address: Address,
    pub statement: String,
    pub uri: String,
    pub nonce: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub expiration: i64,
    pub resources: Vec<String>,
}

/// RFC 3339 of a unix time, as SIWE and Lit's session messages write times.
pub fn rfc3339(unix_s: i64) -> Result<String, SiweError> {
    let at = time::OffsetDateTime::from_unix_timestamp(unix_s).map_err(|_| SiweError::TimeRange)?;
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| SiweError::TimeRange)
}

fn parse_time(text: &str) -> Result<i64, SiweError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| SiweError::Time(text.to_owned(), e))
}

impl SiweMessage {
    /// The text that is signed, in EIP-4361's layout.
    pub fn to_text(&self) -> Result<String, SiweError> {
        let mut text = format!(
            "{} wants you to sign in with your Ethereum account:\n{}\n\n{}\n\nURI: {}\nVersion: 1\nChain ID: 1\nNonce: {}\nIssued At: {}\nExpiration Time: {}",
            self.domain,
            checksummed(&self.address),
            self.statement,
            self.uri,
            self.nonce,
            rfc3339(self.issued_at)?,
            rfc3339(self.expiration)?,
        );
        if !self.resources.is_empty() {
            text.push_str("\nResources:");
            for resource in &self.resources {
                text.push_str("\n- ");
                text.push_str(resource);
            }
        }
        Ok(text)
    }

    /// Reads a message this module's `to_text` layout (every field present, in order).
    pub fn parse(text: &str) -> Result<Self, SiweError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(SiweError::Format("longer than a node reads"));
        }
        let mut lines = text.split('\n');
        let mut next = || lines.next().ok_or(SiweError::Format("it ends early"));
        let domain = next()?
            .strip_suffix(" wants you to sign in with your Ethereum account:")
            .ok_or(SiweError::Format("no preamble"))?
            .to_owned();
        let address_text = next()?;
        let address = parse_address(address_text)?;
        if checksummed(&address) != address_text {
            return Err(SiweError::Format("the address is not EIP-55 checksummed"));
        }
        if !next()?.is_empty() {
            return Err(SiweError::Format("no blank line after the address"));
        }
        let statement = next()?.to_owned();
        if !next()?.is_empty() {
            return Err(SiweError::Format("no blank line after the statement"));
        }
        let mut field = |name: &str| -> Result<String, SiweError> {
            next()?
                .strip_prefix(name)
                .map(str::to_owned)
                .ok_or(SiweError::Format("a field is missing or out of order"))
        };
        let uri = field("URI: ")?;
        if field("Version: ")? != "1" || field("Chain ID: ")?.is_empty() {
            return Err(SiweError::Format("version or chain id"));
        }
        let nonce = field("Nonce: ")?;
        let issued_at = parse_time(&field("Issued At: ")?)?;
        let expiration = parse_time(&field("Expiration Time: ")?)?;
        let mut resources = Vec::new();
        if let Some(line) = lines.next() {
            if line != "Resources:" {
                return Err(SiweError::Format("unexpected lines after the expiration"));
            }
            for line in lines {
                let resource = line
                    .strip_prefix("- ")
                    .ok_or(SiweError::Format("a resource line"))?;
                if resources.len() == MAX_RESOURCES {
                    return Err(SiweError::Format("too many resources"));
                }
                resources.push(resource.to_owned());
            }
        }
        Ok(Self {
            domain,
            address,
            statement,
            uri,
            nonce,
            issued_at,
            expiration,
            resources,
        })
    }
}

/// `0x` + 40 hex digits, any case.
pub fn parse_address(text: &str) -> Result<Address, SiweError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or(SiweError::Format("an address without 0x"))?;
    let mut address = [0u8; 20];
    hex::decode_to_slice(digits, &mut address)
        .map_err(|_| SiweError::Format("an address that is not 20 bytes of hex"))?;
    Ok(address)
}

/// The resource that carries a Lit Action parameter: `litParam:<name>:<base64url(value)>`.
pub fn lit_param_resource(name: &str, value: &str) -> String {
    format!("litParam:{name}:{}", URL_SAFE_NO_PAD.encode(value))
}

/// Lit's `authSig` for a wallet signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthSig {
    /// `0x` + 130 hex digits (r || s || v).
    pub sig: String,
    pub derived_via: String,
    pub signed_message: String,
    /// EIP-55 address.
    pub address: String,
    /// `ed25519` on session signatures; absent (or null) on wallet signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algo: Option<String>,
}

impl AuthSig {
    /// Signs `message` with `key`.
    pub fn sign(key: &SigningKey, message: &SiweMessage) -> Result<Self, SiweError> {
        let text = message.to_text()?;
        let signature = sign_personal(key, &text)?;
        Ok(Self {
            sig: format!("0x{}", hex::encode(signature)),
            derived_via: DERIVED_VIA.into(),
            signed_message: text,
            address: checksummed(&address_of(key.verifying_key())),
            algo: None,
        })
    }

    /// What a node checks of a wallet signature: the signature recovers to the named address,
    /// the message names it too, and `now` lies between issue and expiry (`skew` seconds of
    /// clock difference allowed on the issue side). Returns the message.
    pub fn verify(&self, now: i64, skew: i64) -> Result<SiweMessage, SiweError> {
        if self.derived_via != DERIVED_VIA {
            return Err(SiweError::Format(
                "derivedVia is not web3.eth.personal.sign",
            ));
        }
        let bytes = self
            .sig
            .strip_prefix("0x")
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 65]>::try_from(b).ok())
            .ok_or(SiweError::SignatureEncoding)?;
        let claimed = parse_address(&self.address)?;
        let recovered = recover_personal(&self.signed_message, &bytes)?;
        if recovered != claimed {
            return Err(SiweError::WrongSigner {
                recovered: checksummed(&recovered),
                claimed: self.address.clone(),
            });
        }
        let message = SiweMessage::parse(&self.signed_message)?;
        if message.address != claimed {
            return Err(SiweError::AddressMismatch {
                message: checksummed(&message.address),
                claimed: self.address.clone(),
            });
        }
        if now >= message.expiration {
            return Err(SiweError::Expired {
                expiration: rfc3339(message.expiration)?,
                now,
            });
        }
        if message.issued_at > now + skew {
            return Err(SiweError::NotYetValid {
                issued_at: rfc3339(message.issued_at)?,
                now,
            });
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_vectors() {
        // From EIP-55.
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(checksummed(&parse_address(text).unwrap()), text);
        }
    }

    #[test]
    fn address_of_a_known_key() {
        // The private key 0x…01 is the address 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf.
        let mut secret = [0u8; 32];
        secret[31] = 1;
        let key = SigningKey::from_bytes(&secret.into()).unwrap();
        assert_eq!(
            checksummed(&address_of(key.verifying_key())),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }

    #[test]
    fn a_signed_message_round_trips_and_refuses_changes() {
        let key = SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
        let message = SiweMessage {
            domain: "aip-signer".into(),
            address: address_of(key.verifying_key()),
            statement: "release".into(),
            uri: "lit:attested-release".into(),
            nonce: "0123456789abcdef".into(),
            issued_at: 1_800_000_000,
            expiration: 1_800_000_300,
            resources: vec![lit_param_resource("attestation", "abc")],
        };
        let auth = AuthSig::sign(&key, &message).unwrap();
        assert_eq!(auth.verify(1_800_000_010, 60).unwrap(), message);
        assert!(matches!(
            auth.verify(1_800_000_300, 60),
            Err(SiweError::Expired { .. })
        ));
        assert!(matches!(
            auth.verify(1_799_999_000, 60),
            Err(SiweError::NotYetValid { .. })
        ));
        let mut changed = auth.clone();
        changed.signed_message = changed.signed_message.replace("release", "relEase");
        assert!(matches!(
            changed.verify(1_800_000_010, 60),
            Err(SiweError::WrongSigner { .. })
        ));
        let other = SigningKey::from_bytes(&[8u8; 32].into()).unwrap();
        let mut claimed = auth.clone();
        claimed.address = checksummed(&address_of(other.verifying_key()));
        assert!(claimed.verify(1_800_000_010, 60).is_err());
    }
}
