//! A dealer-split network for tests: node shares as v2 JSON and node verification keys.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aip_lit::collect::NodeVerificationKey;
use aip_lit::NetworkKey;
use blsful::{Bls12381G2Impl, SecretKey, SecretKeyShare, SignatureSchemes, SignatureShare};

pub struct Network {
    pub key: NetworkKey,
    pub nodes: Vec<SecretKeyShare<Bls12381G2Impl>>,
}

impl Network {
    pub fn new(threshold: usize, nodes: usize) -> Self {
        let secret = SecretKey::<Bls12381G2Impl>::new();
        Network {
            key: NetworkKey::from_bytes(&secret.public_key().0.to_compressed()).unwrap(),
            nodes: secret.split(threshold, nodes).unwrap(),
        }
    }

    /// Node `i`'s share over `message`, as v2 JSON.
    pub fn share_json(&self, i: usize, message: &[u8]) -> String {
        let SignatureShare::ProofOfPossession(inner) = self.nodes[i]
            .sign(SignatureSchemes::ProofOfPossession, message)
            .unwrap()
        else {
            panic!("PoP")
        };
        serde_json::json!({ "ProofOfPossession": {
            "identifier": hex::encode(inner.0.identifier.0.to_le_bytes()),
            "value": hex::encode(inner.0.value.0.to_compressed()),
        }})
        .to_string()
    }

    /// Node `i`'s verification key share.
    pub fn verification_key(&self, i: usize) -> NodeVerificationKey {
        let public = self.nodes[i].public_key().unwrap();
        NodeVerificationKey::from_hex(
            &hex::encode(public.0 .0.identifier.0.to_le_bytes()),
            &hex::encode(public.0 .0.value.0.to_compressed()),
        )
        .unwrap()
    }
}
