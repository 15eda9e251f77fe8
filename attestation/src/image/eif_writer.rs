//! Writing a Nitro enclave image file (EIF v4) from a kernel, a command line and ramdisks,
//! byte-for-byte as AWS's `aws-nitro-enclaves-image-format` 0.8 `EifBuilder` writes it (its
//! tests are our oracle), but without its panics and with the build metadata fixed, so the
//! same inputs always give the same file. The PCRs are computed here from the same bytes
//! (research: enclave-image.md §1).
//!
//! Layout (big-endian): a 548-byte header (magic ".eif", version 4, flags, default memory and
//! CPUs, section count, 32 section offsets and sizes, CRC-32/ISO-HDLC of everything but
//! itself), then each section as a 12-byte header (type, flags, size) and its bytes: kernel,
//! cmdline, metadata (JSON, not measured), ramdisks.

use serde::Serialize;
use sha2::{Digest, Sha384};
use thiserror::Error;

const MAGIC: &[u8; 4] = b".eif";
const VERSION: u16 = 4;
const MAX_SECTIONS: usize = 32;
const HEADER_LEN: usize = 548;
const SECTION_HEADER_LEN: usize = 12;
const DEFAULT_MEMORY: u64 = 1024 * 1024 * 1024;
const DEFAULT_CPUS: u64 = 2;

const KERNEL: u16 = 1;
const CMDLINE: u16 = 2;
const RAMDISK: u16 = 3;
const METADATA: u16 = 5;

/// What goes into an image.
#[derive(Debug, Clone)]
pub struct ImageInputs<'a> {
    pub kernel: &'a [u8],
    /// Without a trailing newline or NUL: measured as is.
    pub cmdline: &'a str,
    /// Ramdisk 0 goes with the kernel (PCR1); the others are the application (PCR2).
    pub ramdisks: &'a [&'a [u8]],
    pub identity: Identity,
}

/// The metadata section (not measured): fixed values, so the file is reproducible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    #[serde(rename = "ImageName")]
    pub image_name: String,
    #[serde(rename = "ImageVersion")]
    pub image_version: String,
    #[serde(rename = "BuildMetadata")]
    pub build: BuildMetadata,
    #[serde(rename = "DockerInfo")]
    pub docker_info: serde_json::Value,
    #[serde(rename = "CustomMetadata")]
    pub custom: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildMetadata {
    #[serde(rename = "BuildTime")]
    pub build_time: String,
    #[serde(rename = "BuildTool")]
    pub build_tool: String,
    #[serde(rename = "BuildToolVersion")]
    pub build_tool_version: String,
    #[serde(rename = "OperatingSystem")]
    pub operating_system: String,
    #[serde(rename = "KernelVersion")]
    pub kernel_version: String,
}

impl Identity {
    /// aip-signer's fixed identity: the Unix epoch as build time, our tool's name.
    pub fn reproducible(image_version: &str, kernel_version: &str) -> Self {
        Self {
            image_name: "aip-signer".into(),
            image_version: image_version.into(),
            build: BuildMetadata {
                build_time: "1970-01-01T00:00:00+00:00".into(),
                build_tool: "aip-attest".into(),
                build_tool_version: image_version.into(),
                operating_system: "Linux".into(),
                kernel_version: kernel_version.into(),
            },
            docker_info: serde_json::Value::Null,
            custom: serde_json::Value::Null,
        }
    }
}

#[derive(Debug, Error)]
pub enum EifWriteError {
    #[error("an image needs at least one ramdisk")]
    NoRamdisk,
    #[error("{0} ramdisks do not fit the 32 sections of an EIF")]
    TooManyRamdisks(usize),
    #[error("the kernel command line contains a NUL byte")]
    NulInCmdline,
    #[error("the image metadata does not serialize")]
    Metadata(#[source] serde_json::Error),
}

/// PCR0/1/2 of an image, lowercase hex (SHA-384, TPM-style extend of zeros).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pcrs {
    #[serde(rename = "HashAlgorithm")]
    pub hash_algorithm: &'static str,
    #[serde(rename = "PCR0")]
    pub pcr0: String,
    #[serde(rename = "PCR1")]
    pub pcr1: String,
    #[serde(rename = "PCR2")]
    pub pcr2: String,
}

/// The image file and its PCRs.
pub fn write(inputs: &ImageInputs<'_>) -> Result<(Vec<u8>, Pcrs), EifWriteError> {
    if inputs.ramdisks.is_empty() {
        return Err(EifWriteError::NoRamdisk);
    }
    if inputs.ramdisks.len() + 3 > MAX_SECTIONS {
        return Err(EifWriteError::TooManyRamdisks(inputs.ramdisks.len()));
    }
    if inputs.cmdline.contains('\0') {
        return Err(EifWriteError::NulInCmdline);
    }
    let metadata = serde_json::to_vec(&inputs.identity).map_err(EifWriteError::Metadata)?;
    let mut sections: Vec<(u16, &[u8])> = vec![
        (KERNEL, inputs.kernel),
        (CMDLINE, inputs.cmdline.as_bytes()),
        (METADATA, &metadata),
    ];
    sections.extend(inputs.ramdisks.iter().map(|r| (RAMDISK, *r)));

    let mut offsets = [0u64; MAX_SECTIONS];
    let mut sizes = [0u64; MAX_SECTIONS];
    let mut at = HEADER_LEN as u64;
    for (index, (_, bytes)) in sections.iter().enumerate() {
        offsets[index] = at;
        sizes[index] = bytes.len() as u64;
        at += (SECTION_HEADER_LEN + bytes.len()) as u64;
    }
    let mut file = Vec::with_capacity(usize::try_from(at).unwrap_or(0));
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&VERSION.to_be_bytes());
    file.extend_from_slice(&0u16.to_be_bytes()); // flags: x86_64
    file.extend_from_slice(&DEFAULT_MEMORY.to_be_bytes());
    file.extend_from_slice(&DEFAULT_CPUS.to_be_bytes());
    file.extend_from_slice(&0u16.to_be_bytes()); // reserved
    file.extend_from_slice(&(sections.len() as u16).to_be_bytes());
    for offset in offsets {
        file.extend_from_slice(&offset.to_be_bytes());
    }
    for size in sizes {
        file.extend_from_slice(&size.to_be_bytes());
    }
    file.extend_from_slice(&0u32.to_be_bytes()); // unused
    let crc_at = file.len();
    file.extend_from_slice(&0u32.to_be_bytes()); // CRC, below
    for (kind, bytes) in &sections {
        file.extend_from_slice(&kind.to_be_bytes());
        file.extend_from_slice(&0u16.to_be_bytes());
        file.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        file.extend_from_slice(bytes);
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&file[..crc_at]);
    crc.update(&file[crc_at + 4..]);
    file[crc_at..crc_at + 4].copy_from_slice(&crc.finalize().to_be_bytes());
    Ok((file, pcrs(inputs)))
}

/// `SHA384(0^48 || SHA384(x))`.
fn extend(measured: &[&[u8]]) -> String {
    let mut inner = Sha384::new();
    for part in measured {
        inner.update(part);
    }
    let mut outer = Sha384::new();
    outer.update([0u8; 48]);
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// PCR0 = kernel, cmdline and every ramdisk; PCR1 = kernel, cmdline, ramdisk 0; PCR2 = the
/// other ramdisks.
pub fn pcrs(inputs: &ImageInputs<'_>) -> Pcrs {
    let cmdline = inputs.cmdline.as_bytes();
    let mut image: Vec<&[u8]> = vec![inputs.kernel, cmdline];
    image.extend(inputs.ramdisks.iter().copied());
    let bootstrap: Vec<&[u8]> = vec![
        inputs.kernel,
        cmdline,
        inputs.ramdisks.first().copied().unwrap_or_default(),
    ];
    let application: Vec<&[u8]> = inputs.ramdisks.iter().skip(1).copied().collect();
    Pcrs {
        hash_algorithm: "Sha384 { ... }",
        pcr0: extend(&image),
        pcr1: extend(&bootstrap),
        pcr2: extend(&application),
    }
}
