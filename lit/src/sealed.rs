//! Shares sealed to the enclave: a node that released its share under the attested-release
//! condition encrypts it with HPKE (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305, base mode) to the HPKE key the evidence binds. A host that replays the
//! evidence gets ciphertext it cannot open. The identity is the AAD, so a sealed share cannot
//! be presented for another identity.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::LitError;
use crate::share::DecryptionShare;

type Kem = X25519HkdfSha256;

/// HPKE `info`: the protocol and version.
const INFO: &[u8] = b"aip-signer/lit-share/v1";

/// A sealed share as a node sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedShare {
    /// The HPKE encapsulated key (32 bytes), hex.
    pub encapped_key: String,
    /// The sealed share JSON, base64.
    pub ciphertext: String,
}

/// Seals a share's JSON to `recipient` (an X25519 public key) for `identity`.
pub fn seal(
    recipient: &[u8; 32],
    identity: &[u8],
    share: &DecryptionShare,
) -> Result<SealedShare, LitError> {
    let public = <Kem as hpke::Kem>::PublicKey::from_bytes(recipient)
        .map_err(|e| LitError::Sealed(format!("recipient key: {e}")))?;
    let mut rng = rand_core_09::UnwrapErr(rand_core_09::OsRng);
    let (encapped, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &public,
        INFO,
        share.to_v2_json().as_bytes(),
        identity,
        &mut rng,
    )
    .map_err(|e| LitError::Sealed(e.to_string()))?;
    Ok(SealedShare {
        encapped_key: hex::encode(encapped.to_bytes()),
        ciphertext: STANDARD.encode(ciphertext),
    })
}

/// The enclave's HPKE key pair for receiving shares. The private half is wiped on drop (the
/// hpke crate zeroizes X25519 private keys) and never printed.
pub struct ShareRecipient {
    private: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; 32],
}

impl std::fmt::Debug for ShareRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShareRecipient(public {})", hex::encode(self.public))
    }
}

impl ShareRecipient {
    /// A fresh key pair from the OS RNG.
    pub fn generate() -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        rand_core::OsRng.fill_bytes(ikm.as_mut());
        let (private, public) = Kem::derive_keypair(ikm.as_ref());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&public.to_bytes());
        Self {
            private,
            public: bytes,
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// Opens a sealed share for `identity`; `index` names it in errors.
    pub fn open(
        &self,
        index: usize,
        identity: &[u8],
        sealed: &SealedShare,
    ) -> Result<DecryptionShare, LitError> {
        let bad = |what: String| LitError::Share { index, what };
        let mut encapped = [0u8; 32];
        hex::decode_to_slice(&sealed.encapped_key, &mut encapped)
            .map_err(|_| bad("the encapsulated key is not 32 bytes of hex".into()))?;
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&encapped)
            .map_err(|e| bad(format!("encapsulated key: {e}")))?;
        let ciphertext = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| bad("the sealed share is not base64".into()))?;
        let json = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &self.private,
            &encapped,
            INFO,
            &ciphertext,
            identity,
        )
        .map_err(|_| {
            bad("the sealed share does not open with this key for this identity".into())
        })?;
        let json =
            String::from_utf8(json).map_err(|_| bad("the opened share is not UTF-8".into()))?;
        DecryptionShare::from_json(index, &json)
    }
}
