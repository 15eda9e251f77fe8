//! What goes into aip-signer's Nitro image, and the pins of what we do not build ourselves.
//!
//! - Ramdisk 0 (with the kernel, in PCR1): `dev/` and AWS's `nsm.ko`.
//! - Ramdisk 1 (PCR2): our static `aip-enclave` as `/init`, alone, so PCR2 depends on our
//!   binary and nothing else; an auditor can compute it from a rebuild without any kernel.
//! - The kernel and `nsm.ko` are AWS's published Nitro blobs (aws-nitro-enclaves-cli v1.5.0,
//!   `blobs/x86_64/`, installed by `aws-nitro-enclaves-cli-devel` at
//!   `/usr/share/nitro_enclaves/blobs/`), pinned below; the command line is theirs, trimmed.
//!
//! Where the real blobs cannot be had (CI here has no network beyond package registries) a
//! **stand-in** kernel and module are used and the result says so: PCR2 is still the real
//! one, PCR0 and PCR1 are not.

use std::borrow::Cow;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::cpio::{self, CpioError, Entry};
use super::eif_writer::{self, EifWriteError, Identity, ImageInputs, Pcrs};

/// AWS's Nitro kernel command line (blobs/x86_64/cmdline without its newline).
pub const NITRO_CMDLINE: &str = "reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on";
/// Git blob id of AWS's `bzImage` (unchanged from v1.2.3 through v1.5.0):
/// `git hash-object /usr/share/nitro_enclaves/blobs/bzImage` must print it.
pub const NITRO_KERNEL_GIT_BLOB: &str = "1b7b48cfb6eab842005d3f80a46d0225a27f9fc2";
/// The kernel the pinned blob is (for the image metadata).
pub const NITRO_KERNEL_VERSION: &str = "4.14.256-209.484.amzn2.x86_64";
/// SHA-256 of AWS's `nsm.ko` (v1.5.0).
pub const NSM_KO_SHA256: &str = "48904e520db2541ca4378da29d85791749408febc81987ade56cc5c556bd90df";

#[derive(Debug, Error)]
pub enum LayoutError {
    #[error("the kernel's git blob id is {found}, not the pinned {NITRO_KERNEL_GIT_BLOB}")]
    KernelPin { found: String },
    #[error("nsm.ko's SHA-256 is {found}, not the pinned {NSM_KO_SHA256}")]
    NsmPin { found: String },
    #[error("writing a ramdisk")]
    Ramdisk(#[from] CpioError),
    #[error("writing the image")]
    Image(#[from] EifWriteError),
}

/// The kernel and module to build with.
#[derive(Debug, Clone)]
pub enum Blobs {
    /// AWS's, checked against the pins.
    Pinned { kernel: Vec<u8>, nsm_ko: Vec<u8> },
    /// Stand-ins for machines without the blobs: PCR0 and PCR1 are not the real ones.
    StandIn,
}

/// A built image.
#[derive(Debug, Clone)]
pub struct Built {
    pub eif: Vec<u8>,
    pub pcrs: Pcrs,
    /// SHA-256 of `/init` (the enclave binary), which PCR2 measures through its ramdisk.
    pub init_sha256: String,
    /// The kernel and module were stand-ins.
    pub stand_in: bool,
}

/// `git hash-object` of `data`: SHA-1 of `blob <len>\0` and the bytes.
pub fn git_blob_id(data: &[u8]) -> String {
    let mut hash = Sha1::new();
    hash.update(format!("blob {}\0", data.len()).as_bytes());
    hash.update(data);
    hex::encode(hash.finalize())
}

/// The stand-in kernel: the bytes of the research vector V1 (enclave-image.md §1.3).
pub fn stand_in_kernel() -> Vec<u8> {
    b"aip-signer stand-in kernel\n".repeat(4096)
}

fn stand_in_nsm_ko() -> Vec<u8> {
    b"aip-signer stand-in nsm.ko\n".repeat(64)
}

/// Ramdisk 0: `dev/` and the NSM driver.
pub fn bootstrap_ramdisk(nsm_ko: &[u8]) -> Result<Vec<u8>, CpioError> {
    cpio::archive(&[
        Entry::Directory {
            path: "dev".into(),
            mode: 0o755,
        },
        Entry::File {
            path: "nsm.ko".into(),
            mode: 0o755,
            data: nsm_ko.to_vec(),
        },
    ])
}

/// Ramdisk 1: the enclave binary as `/init`, alone.
pub fn application_ramdisk(enclave: &[u8]) -> Result<Vec<u8>, CpioError> {
    cpio::archive(&[Entry::File {
        path: "init".into(),
        mode: 0o755,
        data: enclave.to_vec(),
    }])
}

/// Builds the image of `enclave` (the static `aip-enclave` binary) with `blobs`.
pub fn build(enclave: &[u8], blobs: &Blobs, image_version: &str) -> Result<Built, LayoutError> {
    // Borrowed when given (a kernel is megabytes), made when stood in.
    let (kernel, nsm_ko, kernel_version, stand_in): (Cow<'_, [u8]>, Cow<'_, [u8]>, _, _) =
        match blobs {
            Blobs::Pinned { kernel, nsm_ko } => {
                let found = git_blob_id(kernel);
                if found != NITRO_KERNEL_GIT_BLOB {
                    return Err(LayoutError::KernelPin { found });
                }
                let found = hex::encode(Sha256::digest(nsm_ko));
                if found != NSM_KO_SHA256 {
                    return Err(LayoutError::NsmPin { found });
                }
                (
                    Cow::Borrowed(kernel.as_slice()),
                    Cow::Borrowed(nsm_ko.as_slice()),
                    NITRO_KERNEL_VERSION,
                    false,
                )
            }
            Blobs::StandIn => (
                Cow::Owned(stand_in_kernel()),
                Cow::Owned(stand_in_nsm_ko()),
                "stand-in",
                true,
            ),
        };
    let bootstrap = bootstrap_ramdisk(&nsm_ko)?;
    let application = application_ramdisk(enclave)?;
    let (eif, pcrs) = eif_writer::write(&ImageInputs {
        kernel: &kernel,
        cmdline: NITRO_CMDLINE,
        ramdisks: &[&bootstrap, &application],
        identity: Identity::reproducible(image_version, kernel_version),
    })?;
    Ok(Built {
        eif,
        pcrs,
        init_sha256: hex::encode(Sha256::digest(enclave)),
        stand_in,
    })
}
