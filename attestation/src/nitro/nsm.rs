//! Evidence from the Nitro Secure Module (/dev/nsm), through AWS's driver crate.

use std::sync::Mutex;

use aws_nitro_enclaves_nsm_api::api::{Request, Response};
use aws_nitro_enclaves_nsm_api::driver;
use serde_bytes::ByteBuf;

use crate::binding::BoundKeys;
use crate::error::ProduceError;
use crate::evidence::{Evidence, Platform};
use crate::producer::{check_nonce, EvidenceProducer};

const DEVICE: &str = "/dev/nsm";

/// An open NSM session. Requests are serialized: the device is a single ioctl endpoint.
#[derive(Debug)]
pub struct NsmProducer {
    fd: Mutex<i32>,
}

impl NsmProducer {
    /// Opens /dev/nsm; fails outside a Nitro enclave.
    pub fn open() -> Result<Self, ProduceError> {
        let fd = driver::nsm_init();
        if fd < 0 {
            return Err(ProduceError::DeviceUnavailable {
                device: DEVICE.into(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(Self { fd: Mutex::new(fd) })
    }
}

impl Drop for NsmProducer {
    fn drop(&mut self) {
        if let Ok(fd) = self.fd.get_mut() {
            driver::nsm_exit(*fd);
        }
    }
}

impl EvidenceProducer for NsmProducer {
    fn platform(&self) -> Platform {
        Platform::Nitro
    }

    fn produce(&self, keys: &BoundKeys, nonce: &[u8]) -> Result<Evidence, ProduceError> {
        check_nonce(nonce)?;
        let binding = keys.binding(nonce);
        let request = Request::Attestation {
            user_data: Some(ByteBuf::from(binding.0.to_vec())),
            nonce: Some(ByteBuf::from(nonce.to_vec())),
            public_key: None,
        };
        let fd = self.fd.lock().map_err(|_| ProduceError::DeviceRefused {
            device: DEVICE.into(),
            detail: "a previous request panicked while holding the device".into(),
        })?;
        match driver::nsm_process_request(*fd, request) {
            Response::Attestation { document } => Ok(Evidence::Nitro { document }),
            Response::Error(code) => Err(ProduceError::DeviceRefused {
                device: DEVICE.into(),
                detail: format!("{code:?}"),
            }),
            other => Err(ProduceError::BadEvidence(format!(
                "the NSM answered an attestation request with {other:?}"
            ))),
        }
    }
}
