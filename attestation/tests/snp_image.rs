#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The SEV-SNP guest (docs/deploy-sev.md): its initrd is deterministic and takes only the
//! pinned modules; its launch digest, computed by virtee's `sev` crate, equals what
//! `sev-snp-measure` (virtee's Python tool, installed from PyPI into a venv) computes on the
//! same files, for several vCPU counts, types and guest features; `aip-attest build-snp`
//! writes a policy entry the verifier's policy parser takes, and refuses unpinned inputs.
//!
//! The pinned kernel, modules and OVMF come from Ubuntu's archive through
//! `scripts/fetch-snp-inputs` (into target/snp-inputs, once), the Python tool from PyPI (into
//! target/snp-venv, once); AIP_SNP_INPUTS and AIP_SNP_MEASURE name others.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aip_attestation::image::snp_guest::{
    self, GuestFiles, LaunchSettings, SnpGuestError, INITRD_FILE, KERNEL, MODULES, OVMF,
    SNP_CMDLINE,
};
use aip_attestation::MeasurementPolicy;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The directory with the pinned inputs, fetched on first use.
fn inputs() -> &'static Path {
    static INPUTS: OnceLock<PathBuf> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let dir = std::env::var_os("AIP_SNP_INPUTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/snp-inputs"));
        let status = Command::new(workspace().join("scripts/fetch-snp-inputs"))
            .arg(&dir)
            .env("AIP_ATTEST", env!("CARGO_BIN_EXE_aip-attest"))
            .status()
            .unwrap();
        assert!(status.success(), "scripts/fetch-snp-inputs failed");
        dir
    })
}

/// `sev-snp-measure` 0.0.13 from PyPI, in a venv made on first use.
fn sev_snp_measure() -> &'static Path {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        if let Some(tool) = std::env::var_os("AIP_SNP_MEASURE") {
            return tool.into();
        }
        let venv = workspace().join("target/snp-venv");
        let tool = venv.join("bin/sev-snp-measure");
        if !tool.exists() {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(made.success(), "python3 -m venv failed");
            let installed = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "sev-snp-measure==0.0.13"])
                .status()
                .unwrap();
            assert!(installed.success(), "pip install sev-snp-measure failed");
        }
        tool
    })
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn modules() -> Vec<Vec<u8>> {
    MODULES
        .iter()
        .map(|pin| read(&inputs().join("modules").join(pin.name)))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aip-snp-image-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An initrd around `init` (a stand-in for the enclave binary: the digest covers any bytes).
fn guest_with(init: &[u8], dir: &Path) -> GuestFiles {
    let modules = modules();
    let refs: Vec<&[u8]> = modules.iter().map(Vec::as_slice).collect();
    let initrd = dir.join(INITRD_FILE);
    std::fs::write(&initrd, snp_guest::initrd(init, &refs).unwrap()).unwrap();
    GuestFiles {
        ovmf: inputs().join(OVMF.name),
        kernel: inputs().join(KERNEL.name),
        initrd,
    }
}

fn python_digest(files: &GuestFiles, settings: &LaunchSettings) -> String {
    let output = Command::new(sev_snp_measure())
        .args(["--mode", "snp", "--vmm-type", "QEMU"])
        .args(["--vcpus", &settings.vcpus.to_string()])
        .args(["--vcpu-type", &settings.vcpu_type])
        .args([
            "--guest-features",
            &format!("{:#x}", settings.guest_features),
        ])
        .arg("--ovmf")
        .arg(&files.ovmf)
        .arg("--kernel")
        .arg(&files.kernel)
        .arg("--initrd")
        .arg(&files.initrd)
        .args(["--append", SNP_CMDLINE])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "sev-snp-measure: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_launch_digest_is_what_sev_snp_measure_computes() {
    let dir = scratch("cross");
    let files = guest_with(b"a stand-in for the static aip-enclave\n", &dir);
    let mut seen = std::collections::BTreeSet::new();
    for (vcpus, vcpu_type, guest_features) in [
        (1, "EPYC-Milan", 0x1),
        (2, "EPYC-Milan", 0x1),
        (4, "EPYC-Milan", 0x1),
        (2, "EPYC-Genoa", 0x1),
        (2, "EPYC-v4", 0x21),
        (8, "EPYC-Turin", 0x21),
    ] {
        let settings = LaunchSettings {
            vcpus,
            vcpu_type: vcpu_type.into(),
            guest_features,
        };
        let ours = hex::encode(snp_guest::launch_digest(&files, SNP_CMDLINE, &settings).unwrap());
        assert_eq!(ours, python_digest(&files, &settings), "{settings:?}");
        assert!(
            seen.insert(ours),
            "two settings gave one digest: {settings:?}"
        );
    }

    // One byte of /init changes the measurement, in both tools.
    let settings = LaunchSettings {
        vcpus: 2,
        vcpu_type: "EPYC-Milan".into(),
        guest_features: 0x1,
    };
    let changed = guest_with(
        b"a stand-in for the static aip-enclave\r",
        &scratch("changed"),
    );
    let ours = hex::encode(snp_guest::launch_digest(&changed, SNP_CMDLINE, &settings).unwrap());
    assert_eq!(ours, python_digest(&changed, &settings));
    assert!(!seen.contains(&ours));
    // And so does the command line (it carries AIP_INIT), though the files are the same.
    let other = snp_guest::launch_digest(&files, "console=ttyS0", &settings).unwrap();
    assert!(!seen.contains(&hex::encode(other)));
}

#[test]
fn the_initrd_is_deterministic_and_takes_only_the_pinned_modules_in_order() {
    let mut modules = modules();
    let refs: Vec<&[u8]> = modules.iter().map(Vec::as_slice).collect();
    let first = snp_guest::initrd(b"init", &refs).unwrap();
    assert_eq!(first, snp_guest::initrd(b"init", &refs).unwrap());
    // The modules lie in load order under names /init sorts.
    let text = String::from_utf8_lossy(&first);
    let mut at = 0;
    for (index, pin) in MODULES.iter().enumerate() {
        let name = format!("modules/{index}-{}", pin.name);
        let found = text[at..].find(&name).map(|i| i + at);
        at = found.unwrap_or_else(|| panic!("{name} missing or out of order"));
    }

    assert!(matches!(
        snp_guest::initrd(b"init", &refs[..4]),
        Err(SnpGuestError::ModuleCount { given: 4 })
    ));
    let mut swapped = refs.clone();
    swapped.swap(0, 1);
    assert!(matches!(
        snp_guest::initrd(b"init", &swapped),
        Err(SnpGuestError::Pin {
            file: "vsock.ko.zst",
            ..
        })
    ));
    modules[4][100] ^= 1;
    let refs: Vec<&[u8]> = modules.iter().map(Vec::as_slice).collect();
    assert!(matches!(
        snp_guest::initrd(b"init", &refs),
        Err(SnpGuestError::Pin {
            file: "sev-guest.ko.zst",
            ..
        })
    ));
}

#[test]
fn build_snp_writes_a_policy_entry_and_refuses_an_unpinned_kernel() {
    let dir = scratch("cli");
    let init = dir.join("aip-enclave");
    std::fs::write(&init, b"a stand-in for the static aip-enclave\n").unwrap();
    let run = |kernel: &Path, out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_aip-attest"))
            .arg("build-snp")
            .arg("--enclave")
            .arg(&init)
            .arg("--kernel")
            .arg(kernel)
            .arg("--modules")
            .arg(inputs().join("modules"))
            .arg("--ovmf")
            .arg(inputs().join(OVMF.name))
            .args(["--vcpus", "1,2", "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let out = dir.join("out");
    let output = run(&inputs().join(KERNEL.name), &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let launch: serde_json::Value =
        serde_json::from_slice(&read(&out.join("launch.json"))).unwrap();
    let policy = MeasurementPolicy::from_toml(
        &String::from_utf8(read(&out.join("policy-entry.toml"))).unwrap(),
    )
    .unwrap();
    assert_eq!(policy.entries.len(), 2);
    let files = GuestFiles {
        ovmf: inputs().join(OVMF.name),
        kernel: inputs().join(KERNEL.name),
        initrd: out.join(INITRD_FILE),
    };
    for (index, entry) in policy.entries.iter().enumerate() {
        let recorded = launch["measurements"][index]["measurement"]
            .as_str()
            .unwrap();
        let settings = LaunchSettings {
            vcpus: launch["measurements"][index]["vcpus"].as_u64().unwrap() as u32,
            vcpu_type: "EPYC-Milan".into(),
            guest_features: 0x1,
        };
        assert_eq!(recorded, python_digest(&files, &settings));
        match &entry.allowed {
            aip_attestation::policy::Allowed::SevSnp {
                measurement, vmpl, ..
            } => {
                assert_eq!(hex::encode(measurement), recorded);
                assert_eq!(*vmpl, 0);
            }
            other => panic!("not an SNP entry: {other:?}"),
        }
    }
    assert_eq!(read(&out.join("cmdline")), SNP_CMDLINE.as_bytes());

    // A kernel that is not the pinned one: exit 3 with the reason, and nothing written.
    let mut kernel = read(&inputs().join(KERNEL.name));
    kernel[4096] ^= 1;
    let other_kernel = dir.join("vmlinuz");
    std::fs::write(&other_kernel, kernel).unwrap();
    let refused = dir.join("refused");
    let output = run(&other_kernel, &refused);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not the pinned"));
    assert!(!refused.exists());
}
