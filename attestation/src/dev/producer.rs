//! Nitro-format documents under the dev PKI.

use std::sync::Mutex;

use coset::{iana, CborSerializable, CoseSign1Builder, HeaderBuilder};
use p384::ecdsa::signature::Signer;

use super::pcr::PcrBank;
use super::pki::DevPki;
use crate::binding::BoundKeys;
use crate::clock;
use crate::error::ProduceError;
use crate::evidence::{Evidence, Platform};
use crate::nitro::NitroDocument;
use crate::producer::{check_nonce, EvidenceProducer};

#[derive(Debug)]
pub struct DevProducer {
    pki: DevPki,
    pcrs: Mutex<PcrBank>,
    module_id: String,
}

impl DevProducer {
    pub fn new(pki: DevPki, pcrs: PcrBank, module_id: impl Into<String>) -> Self {
        Self {
            pki,
            pcrs: Mutex::new(pcrs),
            module_id: module_id.into(),
        }
    }

    pub fn pki(&self) -> &DevPki {
        &self.pki
    }

    /// Extends an unlocked PCR, as an enclave may for PCR16 and up.
    pub fn extend_pcr(&self, index: usize, data: &[u8]) -> Result<[u8; 48], ProduceError> {
        self.pcrs
            .lock()
            .map_err(|_| ProduceError::DevPki("the PCR bank lock is poisoned".into()))?
            .extend(index, data)
    }

    /// A document at an explicit time (tests produce documents in the past or future).
    pub fn produce_at(
        &self,
        keys: &BoundKeys,
        nonce: &[u8],
        now_ms: u64,
    ) -> Result<Evidence, ProduceError> {
        check_nonce(nonce)?;
        let now = now_ms / 1000;
        let (certificate, leaf_key) = self.pki.issue_leaf(&self.module_id, now)?;
        let pcrs = self
            .pcrs
            .lock()
            .map_err(|_| ProduceError::DevPki("the PCR bank lock is poisoned".into()))?
            .reported()
            .map(|(i, v)| (i, v.to_vec()))
            .collect();
        let document = NitroDocument {
            module_id: self.module_id.clone(),
            timestamp_ms: now_ms,
            digest: "SHA384".into(),
            pcrs,
            certificate,
            cabundle: self.pki.cabundle(),
            public_key: None,
            user_data: Some(keys.binding(nonce).0.to_vec()),
            nonce: Some(nonce.to_vec()),
        };
        let payload = document
            .to_cbor()
            .map_err(|e| ProduceError::DevPki(format!("encoding the payload: {e}")))?;
        let sign1 = CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES384)
                    .build(),
            )
            .payload(payload)
            .create_signature(b"", |tbs| {
                let signature: p384::ecdsa::Signature = leaf_key.sign(tbs);
                signature.to_bytes().to_vec()
            })
            .build();
        let document = sign1
            .to_vec()
            .map_err(|e| ProduceError::DevPki(format!("encoding the COSE document: {e}")))?;
        Ok(Evidence::Dev { document })
    }
}

impl EvidenceProducer for DevProducer {
    fn platform(&self) -> Platform {
        Platform::Dev
    }

    fn produce(&self, keys: &BoundKeys, nonce: &[u8]) -> Result<Evidence, ProduceError> {
        self.produce_at(keys, nonce, clock::now().saturating_mul(1000))
    }
}
