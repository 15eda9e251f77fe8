//! Reproducible enclave images (docs/enclave-image.md): the same source gives the same Nitro
//! image file, byte for byte, and the same PCRs, on any machine. [`cpio`] writes the ramdisks
//! from explicit manifests, [`eif_writer`] the image file and its PCRs, [`layout`] says what
//! goes where (our static `aip-enclave` alone in the last ramdisk, so PCR2 measures it alone).
//! [`snp_guest`] does the same for an SEV-SNP guest: its initrd, its pins and its launch
//! digest.

pub mod cpio;
pub mod eif_writer;
pub mod layout;
pub mod snp_guest;
