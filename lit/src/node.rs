//! The node side of the protocol: a dealer split of a network key, and a node's key share
//! that signs identities. Used by the devnet's local Lit network; the enclave never holds a
//! node share.

use blsful::inner_types::Scalar;
use blsful::vsss_rs::{DefaultShare, IdentifierPrimeField};
use blsful::{Bls12381G2Impl, SecretKey, SecretKeyShare, SignatureSchemes, SignatureShare};
use zeroize::Zeroizing;

use crate::collect::NodeVerificationKey;
use crate::error::LitError;
use crate::network_key::NetworkKey;
use crate::share::{DecryptionShare, ShareDialect};

/// One node's share of the network secret. Debug shows only the identifier.
#[derive(Clone)]
pub struct NodeKeyShare(SecretKeyShare<Bls12381G2Impl>);

impl std::fmt::Debug for NodeKeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NodeKeyShare(identifier {})",
            hex::encode(self.identifier().to_le_bytes())
        )
    }
}

/// Splits a fresh network secret into `nodes` shares, any `threshold` of which sign. The
/// secret itself is dropped: only the shares and the public key remain, as after a DKG. The
/// shares' identifiers are random scalars, as on Lit's networks (where they come from the
/// nodes' peer ids), not 1..n: clients must combine shares at whatever points they name.
pub fn deal(threshold: usize, nodes: usize) -> Result<(NetworkKey, Vec<NodeKeyShare>), LitError> {
    use blsful::vsss_rs::{shamir, ParticipantIdGeneratorType};
    if threshold < 2 || threshold > nodes {
        return Err(LitError::Dealer(format!(
            "threshold {threshold} of {nodes} nodes: need 2 <= threshold <= nodes"
        )));
    }
    let count =
        std::num::NonZeroUsize::new(nodes).ok_or_else(|| LitError::Dealer("no nodes".into()))?;
    let secret = SecretKey::<Bls12381G2Impl>::random(rand_core::OsRng);
    let key = NetworkKey::from_bytes(&secret.public_key().0.to_compressed())?;
    let mut seed = Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
    let shares = shamir::split_secret_with_participant_generator::<
        DefaultShare<IdentifierPrimeField<Scalar>, IdentifierPrimeField<Scalar>>,
    >(
        threshold,
        nodes,
        &IdentifierPrimeField(secret.0),
        rand_core::OsRng,
        &[ParticipantIdGeneratorType::random(*seed, count)],
    )
    .map_err(|e| LitError::Dealer(e.to_string()))?
    .into_iter()
    .map(|share| NodeKeyShare(SecretKeyShare(share)))
    .collect();
    Ok((key, shares))
}

impl NodeKeyShare {
    fn identifier(&self) -> Scalar {
        self.0 .0.identifier.0
    }

    /// The share as `identifier_le_hex:value_le_hex` for a data dir (keep the file private).
    pub fn to_secret_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{}:{}",
            hex::encode(self.0 .0.identifier.0.to_le_bytes()),
            hex::encode(self.0 .0.value.0.to_le_bytes())
        ))
    }

    pub fn from_secret_hex(text: &str) -> Result<Self, LitError> {
        let bad = |what: &str| LitError::Dealer(format!("stored key share: {what}"));
        let (id, value) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| bad("expected identifier:value"))?;
        let scalar = |h: &str| -> Result<Scalar, LitError> {
            let mut bytes = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(h, bytes.as_mut()).map_err(|_| bad("not 32 bytes of hex"))?;
            Option::<Scalar>::from(Scalar::from_le_bytes(&bytes)).ok_or_else(|| bad("not a scalar"))
        };
        Ok(Self(SecretKeyShare(DefaultShare {
            identifier: IdentifierPrimeField(scalar(id)?),
            value: IdentifierPrimeField(scalar(value)?),
        })))
    }

    /// This node's share over `identity`.
    pub fn sign(&self, identity: &[u8]) -> Result<DecryptionShare, LitError> {
        match self.0.sign(SignatureSchemes::ProofOfPossession, identity) {
            Ok(SignatureShare::ProofOfPossession(inner)) => Ok(DecryptionShare {
                identifier: inner.0.identifier.0,
                value: inner.0.value.0,
                dialect: ShareDialect::V2,
            }),
            Ok(_) => Err(LitError::Dealer("signing produced another scheme".into())),
            Err(e) => Err(LitError::Dealer(e.to_string())),
        }
    }

    /// The public key share that checks this node's shares.
    pub fn verification_key(&self) -> Result<NodeVerificationKey, LitError> {
        let public = self
            .0
            .public_key()
            .map_err(|e| LitError::Dealer(e.to_string()))?;
        NodeVerificationKey::from_hex(
            &hex::encode(public.0 .0.identifier.0.to_le_bytes()),
            &hex::encode(public.0 .0.value.0.to_compressed()),
        )
    }
}
