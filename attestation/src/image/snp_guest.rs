//! What goes into aip-signer's SEV-SNP guest, the pins of what we do not build ourselves, and
//! the launch measurement an auditor expects (docs/deploy-sev.md).
//!
//! The guest boots by QEMU's **measured direct boot** (`-kernel/-initrd/-append` with
//! `kernel-hashes=on`): the AMD-SP measures OVMF, and OVMF refuses to boot a kernel, initrd or
//! command line whose SHA-256 differs from the hash table inside the measured firmware image.
//! So the launch measurement covers the firmware, our kernel, our initrd (with our static
//! `aip-enclave` as `/init`) and the command line, and nothing else runs in the guest.
//!
//! Pinned, from Ubuntu 26.04 LTS's release pocket (which never changes after release):
//! - OVMF: `ovmf-amdsev` 2025.11-3ubuntu7, `OVMF.amdsev.fd` (edk2's AmdSevX64 build, the one
//!   with the `SNP_KERNEL_HASHES` section measured direct boot needs; Debian 12's and 13's
//!   `ovmf` lack it);
//! - the kernel `vmlinuz-7.0.0-14-generic` (`linux-image-unsigned-7.0.0-14-generic`), which has
//!   SEV-SNP guest support (`CONFIG_AMD_MEM_ENCRYPT=y`, `CONFIG_SEV_GUEST=m`,
//!   `CONFIG_TSM_REPORTS=m`, `CONFIG_MODULE_DECOMPRESS=y`);
//! - five of its modules (`linux-modules-7.0.0-14-generic`), loaded by `/init` in this order:
//!   vsock and its virtio transport (the host channel), then configfs-tsm reports and the
//!   sev-guest driver (the attestation report).
//!
//! `scripts/fetch-snp-inputs` downloads the packages, checks them by SHA-256 and extracts
//! exactly these files.

use std::path::PathBuf;

use sev::measurement::snp::{snp_calc_launch_digest, SnpMeasurementArgs};
use sev::measurement::vcpu_types::CpuType;
use sev::measurement::vmsa::{GuestFeatures, VMMType};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::cpio::{self, CpioError, Entry};

/// The guest's kernel command line. `AIP_INIT=sev-snp` reaches `/init` as an environment
/// variable (the kernel passes on `name=value` words it does not know), telling it which
/// platform it boots on; it is measured like the rest of the line.
pub const SNP_CMDLINE: &str = "console=ttyS0 panic=-1 random.trust_cpu=on AIP_INIT=sev-snp";

/// A file we take from someone else's package, pinned by SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedFile {
    /// What the guest calls it (the module's file name in the initrd, or the role).
    pub name: &'static str,
    pub sha256: &'static str,
    /// The package (in Ubuntu 26.04's archive) and the path inside it.
    pub package: &'static str,
    pub path: &'static str,
}

/// `OVMF.amdsev.fd`.
pub const OVMF: PinnedFile = PinnedFile {
    name: "OVMF.amdsev.fd",
    sha256: "a2f54fb24af2aac3961e6c203afe08c795ca6fdd807cff9f7c8993e34d2d5e79",
    package: "pool/main/e/edk2/ovmf-amdsev_2025.11-3ubuntu7_all.deb",
    path: "usr/share/ovmf/OVMF.amdsev.fd",
};

/// The guest kernel.
pub const KERNEL: PinnedFile = PinnedFile {
    name: "vmlinuz-7.0.0-14-generic",
    sha256: "a0f66f5c4028cdd82c4b1f160767fad0f1350607f3a6e0a741abe2c4d37ba340",
    package: "pool/main/l/linux/linux-image-unsigned-7.0.0-14-generic_7.0.0-14.14_amd64.deb",
    path: "boot/vmlinuz-7.0.0-14-generic",
};

const MODULES_PACKAGE: &str =
    "pool/main/l/linux/linux-modules-7.0.0-14-generic_7.0.0-14.14_amd64.deb";
const MODULES_DIR: &str = "usr/lib/modules/7.0.0-14-generic/kernel/";

/// The kernel's modules the guest needs, in the order `/init` loads them (each after those it
/// depends on, as their `depends=` fields say).
pub const MODULES: [PinnedFile; 5] = [
    PinnedFile {
        name: "vsock.ko.zst",
        sha256: "adc1b83918fc097152415d6e890940478dc09d22e7420c84fb02b84f6f9e0812",
        package: MODULES_PACKAGE,
        path: "net/vmw_vsock/vsock.ko.zst",
    },
    PinnedFile {
        name: "vmw_vsock_virtio_transport_common.ko.zst",
        sha256: "5f7f6d0b0421908769a6665dc81ef4bef2a4a82f63d82803370f61d96275c8d8",
        package: MODULES_PACKAGE,
        path: "net/vmw_vsock/vmw_vsock_virtio_transport_common.ko.zst",
    },
    PinnedFile {
        name: "vmw_vsock_virtio_transport.ko.zst",
        sha256: "eee1dfd722d860b39a7920067a87227f8915365ef8395f66e836e9661c1a2f3d",
        package: MODULES_PACKAGE,
        path: "net/vmw_vsock/vmw_vsock_virtio_transport.ko.zst",
    },
    PinnedFile {
        name: "tsm_report.ko.zst",
        sha256: "1d5cd4f04e9de598c89faaac3d4550a83489d357b4a6f60f0cbbeb8c3a7b71ee",
        package: MODULES_PACKAGE,
        path: "drivers/virt/coco/guest/tsm_report.ko.zst",
    },
    PinnedFile {
        name: "sev-guest.ko.zst",
        sha256: "6e04ced6aeef39655e74d870a00d56602838ea596914fcf570e4c1d4909b4283",
        package: MODULES_PACKAGE,
        path: "drivers/virt/coco/sev-guest/sev-guest.ko.zst",
    },
];

impl PinnedFile {
    /// Where the file lies inside its package.
    pub fn path_in_package(&self) -> String {
        if self.package == MODULES_PACKAGE {
            format!("{MODULES_DIR}{}", self.path)
        } else {
            self.path.to_owned()
        }
    }

    /// Refuses bytes that are not the pinned file.
    pub fn check(&self, bytes: &[u8]) -> Result<(), SnpGuestError> {
        let found = hex::encode(Sha256::digest(bytes));
        if found == self.sha256 {
            Ok(())
        } else {
            Err(SnpGuestError::Pin {
                file: self.name,
                found,
                pinned: self.sha256,
            })
        }
    }
}

#[derive(Debug, Error)]
pub enum SnpGuestError {
    #[error("{file}'s SHA-256 is {found}, not the pinned {pinned}")]
    Pin {
        file: &'static str,
        found: String,
        pinned: &'static str,
    },
    #[error("{given} modules given; the guest needs exactly the {} pinned ones, in order", MODULES.len())]
    ModuleCount { given: usize },
    #[error("writing the initrd")]
    Initrd(#[from] CpioError),
    #[error(
        "unknown vCPU type {0:?} (EPYC, EPYC-v4, EPYC-Rome, EPYC-Milan, EPYC-Genoa, EPYC-Turin, …)"
    )]
    VcpuType(String),
    #[error("the vCPU count must be between 1 and 512, not {0}")]
    VcpuCount(u32),
    #[error("computing the launch digest")]
    Digest(#[source] sev::error::MeasurementError),
    #[error("the launch digest is {0} bytes, not 48")]
    DigestLength(usize),
}

/// The directory tree of the initrd: `/dev` (devtmpfs is mounted on it), the modules in load
/// order (`modules/0-vsock.ko.zst`, …: `/init` loads them sorted by name), and our static
/// `aip-enclave` as `/init`. One archive: the launch digest covers the whole file anyway.
pub fn initrd(enclave: &[u8], modules: &[&[u8]]) -> Result<Vec<u8>, SnpGuestError> {
    if modules.len() != MODULES.len() {
        return Err(SnpGuestError::ModuleCount {
            given: modules.len(),
        });
    }
    let mut entries = vec![
        Entry::Directory {
            path: "dev".into(),
            mode: 0o755,
        },
        Entry::Directory {
            path: "modules".into(),
            mode: 0o755,
        },
        Entry::File {
            path: "init".into(),
            mode: 0o755,
            data: enclave.to_vec(),
        },
    ];
    for (index, (pin, bytes)) in MODULES.iter().zip(modules).enumerate() {
        pin.check(bytes)?;
        entries.push(Entry::File {
            path: format!("modules/{index}-{}", pin.name),
            mode: 0o644,
            data: bytes.to_vec(),
        });
    }
    Ok(cpio::archive(&entries)?)
}

/// The platform settings the launch digest depends on besides the files: one VMSA per vCPU,
/// whose contents depend on the vCPU type (its CPUID signature) and the guest features, as
/// the VMM (QEMU) sets them up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchSettings {
    pub vcpus: u32,
    /// QEMU's `-cpu` model name, e.g. `EPYC-Milan`.
    pub vcpu_type: String,
    /// SEV_FEATURES (bit 0 SNPActive; QEMU's default for SNP with kernel hashes is 0x1).
    pub guest_features: u64,
}

/// The files of a guest as they lie on disk (the measurement library reads them by path).
#[derive(Debug, Clone)]
pub struct GuestFiles {
    pub ovmf: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

/// The expected SNP launch digest (MEASUREMENT in the report) of `files` booted with
/// [`SNP_CMDLINE`] (or `cmdline`) under `settings` on QEMU, by virtee's `sev` crate.
pub fn launch_digest(
    files: &GuestFiles,
    cmdline: &str,
    settings: &LaunchSettings,
) -> Result<[u8; 48], SnpGuestError> {
    if !(1..=512).contains(&settings.vcpus) {
        return Err(SnpGuestError::VcpuCount(settings.vcpus));
    }
    let vcpu_type = CpuType::try_from(settings.vcpu_type.as_str())
        .map_err(|_| SnpGuestError::VcpuType(settings.vcpu_type.clone()))?;
    let digest = snp_calc_launch_digest(SnpMeasurementArgs {
        vcpus: settings.vcpus,
        vcpu_type,
        ovmf_file: files.ovmf.clone(),
        guest_features: GuestFeatures(settings.guest_features),
        kernel_file: Some(files.kernel.clone()),
        initrd_file: Some(files.initrd.clone()),
        append: Some(cmdline),
        ovmf_hash_str: None,
        vmm_type: Some(VMMType::QEMU),
    })
    .map_err(SnpGuestError::Digest)?;
    let bytes: Vec<u8> = digest.try_into().map_err(SnpGuestError::Digest)?;
    let length = bytes.len();
    bytes
        .try_into()
        .map_err(|_| SnpGuestError::DigestLength(length))
}

/// A `[[sev_snp]]` measurement-policy entry admitting a guest with this launch digest.
pub fn policy_entry(name: &str, measurement: &[u8; 48]) -> String {
    format!(
        "[[sev_snp]]\nname = {name:?}\nmeasurement = \"{}\"\nvmpl = 0\n",
        hex::encode(measurement)
    )
}

/// The file name of the initrd beside the kernel and firmware.
pub const INITRD_FILE: &str = "initrd.cpio";

/// The QEMU arguments that launch the guest the digest was computed for, with the kernel,
/// firmware and initrd in the working directory under their own names (the parts that matter
/// to the measurement; memory, the vsock device and the console are the operator's).
pub fn qemu_arguments(settings: &LaunchSettings, policy: &str) -> Vec<String> {
    [
        "-machine",
        "q35,confidential-guest-support=sev0",
        "-cpu",
        &settings.vcpu_type,
        "-smp",
        &settings.vcpus.to_string(),
        "-object",
        &format!(
            "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on,policy={policy}"
        ),
        "-bios",
        OVMF.name,
        "-kernel",
        KERNEL.name,
        "-initrd",
        INITRD_FILE,
        "-append",
        SNP_CMDLINE,
    ]
    .map(str::to_owned)
    .to_vec()
}
