//! The enclave's evidence source and the keys it binds: served at `GET /v1/attestation`, and
//! on Nitro also the clock's trusted time (a fresh NSM document's timestamp).

use std::sync::Arc;

use aip_attestation::{BoundKeys, EvidenceProducer};

#[derive(Debug, Clone)]
pub struct Attestation {
    pub producer: Arc<dyn EvidenceProducer>,
    pub keys: BoundKeys,
}
