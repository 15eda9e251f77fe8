//! PCR0/1/2 (and PCR8 when signed) of an enclave image file: as a policy entry always, and
//! computed by AWS's EIF crate (the `eif` feature), the same code `nitro-cli describe-eif`
//! runs. Operators put these in the measurement
//! policy; auditors recompute them from a reproducible build.

use serde::Serialize;

/// The measurements of one image, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EifMeasurements {
    pub hash_algorithm: String,
    pub pcr0: String,
    pub pcr1: String,
    pub pcr2: String,
    /// Present only for signed images: the hash of the signing certificate.
    pub pcr8: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EifError {
    #[error("cannot read the enclave image: {0}")]
    Read(String),
    #[error("the enclave image's CRC32 does not match its contents (truncated or altered)")]
    Crc,
    #[error("the enclave image measurement lacks {0}")]
    Missing(&'static str),
}

impl EifMeasurements {
    /// A `[[nitro]]` policy entry admitting this image.
    pub fn policy_entry(&self, name: &str) -> String {
        let mut entry = format!(
            "[[nitro]]\nname = {name:?}\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\n",
            self.pcr0, self.pcr1, self.pcr2
        );
        if let Some(pcr8) = &self.pcr8 {
            entry.push_str(&format!("pcr8 = \"{pcr8}\"\n"));
        }
        entry
    }
}

/// Measures the image at `path` with AWS's reader (the `eif` feature).
#[cfg(feature = "eif")]
pub fn measure(path: &std::path::Path) -> Result<EifMeasurements, EifError> {
    let path = path
        .to_str()
        .ok_or_else(|| EifError::Read("the path is not UTF-8".into()))?;
    use aws_nitro_enclaves_image_format::utils::eif_reader::EifReader;
    let mut reader = EifReader::from_eif(path.to_owned()).map_err(EifError::Read)?;
    if !reader.check_crc() {
        return Err(EifError::Crc);
    }
    let mut measurements = reader.get_measurements().map_err(EifError::Read)?;
    let mut take = |key: &'static str| measurements.remove(key).ok_or(EifError::Missing(key));
    Ok(EifMeasurements {
        hash_algorithm: take("HashAlgorithm")?,
        pcr0: take("PCR0")?,
        pcr1: take("PCR1")?,
        pcr2: take("PCR2")?,
        pcr8: take("PCR8").ok(),
    })
}
