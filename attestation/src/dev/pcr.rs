//! A PCR bank that behaves like the NSM's: 32 SHA-384 registers, extend-only, lockable.

use sha2::{Digest, Sha384};

use crate::error::ProduceError;

pub const PCR_COUNT: usize = 32;
/// The NSM reports PCRs 0..=15 in attestation documents.
pub const REPORTED_PCRS: usize = 16;

#[derive(Debug, Clone)]
pub struct PcrBank {
    registers: [[u8; 48]; PCR_COUNT],
    locked: [bool; PCR_COUNT],
}

impl Default for PcrBank {
    fn default() -> Self {
        Self::new()
    }
}

impl PcrBank {
    /// All registers zero and unlocked, as at boot.
    pub fn new() -> Self {
        Self {
            registers: [[0; 48]; PCR_COUNT],
            locked: [false; PCR_COUNT],
        }
    }

    /// A bank measured like an image: PCR0 over the whole image, PCR1 over the label
    /// "kernel", PCR2 over the application, then PCR0..=15 locked.
    pub fn for_image(image: &[u8], application: &[u8]) -> Self {
        let mut bank = Self::new();
        // Registers 0..=2 are unlocked in a new bank, so these cannot fail.
        let _ = bank.extend(0, &Sha384::digest(image));
        let _ = bank.extend(1, &Sha384::digest(b"aip-signer dev kernel"));
        let _ = bank.extend(2, &Sha384::digest(application));
        for index in 0..REPORTED_PCRS {
            bank.locked[index] = true;
        }
        bank
    }

    /// The bank a Nitro enclave reports after booting an image whose PCR0, PCR1 and PCR2 are
    /// these (as `aip-attest build-eif` computes them), with 0..=15 locked: dev evidence for
    /// a built image, to check policies against.
    pub fn booted(pcr0: [u8; 48], pcr1: [u8; 48], pcr2: [u8; 48]) -> Self {
        let mut bank = Self::new();
        bank.registers[0] = pcr0;
        bank.registers[1] = pcr1;
        bank.registers[2] = pcr2;
        for index in 0..REPORTED_PCRS {
            bank.locked[index] = true;
        }
        bank
    }

    /// PCR[index] = SHA-384(PCR[index] || data).
    pub fn extend(&mut self, index: usize, data: &[u8]) -> Result<[u8; 48], ProduceError> {
        if index >= PCR_COUNT {
            return Err(ProduceError::InvalidRequest(format!(
                "PCR{index} does not exist"
            )));
        }
        if self.locked[index] {
            return Err(ProduceError::InvalidRequest(format!(
                "PCR{index} is locked"
            )));
        }
        let mut hasher = Sha384::new();
        hasher.update(self.registers[index]);
        hasher.update(data);
        self.registers[index] = hasher.finalize().into();
        Ok(self.registers[index])
    }

    /// Freezes a register.
    pub fn lock(&mut self, index: usize) -> Result<(), ProduceError> {
        let slot = self
            .locked
            .get_mut(index)
            .ok_or_else(|| ProduceError::InvalidRequest(format!("PCR{index} does not exist")))?;
        *slot = true;
        Ok(())
    }

    pub fn get(&self, index: usize) -> Option<[u8; 48]> {
        self.registers.get(index).copied()
    }

    /// The registers a document reports.
    pub fn reported(&self) -> impl Iterator<Item = (u8, [u8; 48])> + '_ {
        (0u8..)
            .zip(self.registers.iter().copied())
            .take(REPORTED_PCRS)
    }
}
