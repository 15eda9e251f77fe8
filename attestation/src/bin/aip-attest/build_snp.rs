//! `aip-attest build-snp`: the SEV-SNP guest's initrd and its expected launch measurement,
//! behind `scripts/build-snp`. Writes `initrd.cpio`, `cmdline`, `launch.json` and
//! `policy-entry.toml` into the output directory (docs/deploy-sev.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aip_attestation::image::snp_guest::{
    self, GuestFiles, LaunchSettings, INITRD_FILE, KERNEL, MODULES, OVMF, SNP_CMDLINE,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{fail, write_output, EXIT_BAD_CONFIG, EXIT_UNREADABLE};

/// The launch policy the printed QEMU line uses: bit 16 (must be one) and SMT allowed;
/// debugging (bit 19) and migration agents (bit 18) off, which the verifier checks too.
const GUEST_POLICY: &str = "0x30000";

#[derive(clap::Args, Debug)]
pub struct BuildSnpArgs {
    /// The static `aip-enclave` binary (scripts/build-snp builds it).
    #[arg(long)]
    enclave: PathBuf,
    /// The pinned guest kernel (scripts/fetch-snp-inputs).
    #[arg(long)]
    kernel: PathBuf,
    /// The directory holding the pinned modules under their file names.
    #[arg(long)]
    modules: PathBuf,
    /// The pinned AmdSev OVMF (`OVMF.amdsev.fd`).
    #[arg(long)]
    ovmf: PathBuf,
    /// vCPU counts to compute a measurement for (one VMSA per vCPU: each count is its own
    /// measurement and policy entry).
    #[arg(long = "vcpus", value_delimiter = ',', default_value = "2")]
    vcpus: Vec<u32>,
    /// QEMU's `-cpu` model (its CPUID signature is measured).
    #[arg(long, default_value = "EPYC-Milan")]
    vcpu_type: String,
    /// SEV_FEATURES as QEMU sets them (hex or decimal).
    #[arg(long, default_value = "0x1", value_parser = parse_features)]
    guest_features: u64,
    /// Where to write the initrd and the measurements.
    #[arg(long)]
    out: PathBuf,
    /// The release name in the policy entries.
    #[arg(long, default_value = concat!("aip-signer ", env!("CARGO_PKG_VERSION"), " on SEV-SNP"))]
    name: String,
}

fn parse_features(text: &str) -> Result<u64, String> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .map_err(|e| format!("not a number: {e}"))
}

/// `aip-attest snp-pins`.
pub fn print_pins() -> ExitCode {
    for pin in std::iter::once(&OVMF).chain([&KERNEL]).chain(&MODULES) {
        println!(
            "{} {} {} {}",
            pin.name,
            pin.sha256,
            pin.package,
            pin.path_in_package()
        );
    }
    ExitCode::SUCCESS
}

pub fn run(args: BuildSnpArgs) -> ExitCode {
    match build(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn build(args: &BuildSnpArgs) -> Result<String, ExitCode> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| fail(EXIT_UNREADABLE, format!("{}: {e}", path.display())))
    };
    let refuse = |error: snp_guest::SnpGuestError| {
        fail(EXIT_BAD_CONFIG, aip_wire::process::error_chain(&error))
    };
    let enclave = read(&args.enclave)?;
    OVMF.check(&read(&args.ovmf)?).map_err(refuse)?;
    KERNEL.check(&read(&args.kernel)?).map_err(refuse)?;
    let mut modules = Vec::with_capacity(MODULES.len());
    for pin in &MODULES {
        modules.push(read(&args.modules.join(pin.name))?);
    }
    let module_refs: Vec<&[u8]> = modules.iter().map(Vec::as_slice).collect();
    let initrd = snp_guest::initrd(&enclave, &module_refs).map_err(refuse)?;

    let write = |file: &str, bytes: &[u8]| write_output(&args.out, file, bytes);
    write(INITRD_FILE, &initrd)?;
    write("cmdline", SNP_CMDLINE.as_bytes())?;
    let files = GuestFiles {
        ovmf: args.ovmf.clone(),
        kernel: args.kernel.clone(),
        initrd: args.out.join(INITRD_FILE),
    };

    let mut measurements = Vec::new();
    let mut policy = String::new();
    for &vcpus in &args.vcpus {
        let settings = LaunchSettings {
            vcpus,
            vcpu_type: args.vcpu_type.clone(),
            guest_features: args.guest_features,
        };
        let digest = snp_guest::launch_digest(&files, SNP_CMDLINE, &settings).map_err(refuse)?;
        let name = format!("{} ({vcpus} vCPU {})", args.name, args.vcpu_type);
        policy.push_str(&snp_guest::policy_entry(&name, &digest));
        measurements.push(json!({
            "vcpus": vcpus,
            "measurement": hex::encode(digest),
            "qemu": snp_guest::qemu_arguments(&settings, GUEST_POLICY),
        }));
    }
    let launch = json!({
        "measurements": measurements,
        "vcpu_type": args.vcpu_type,
        "guest_features": format!("{:#x}", args.guest_features),
        "vmm": "qemu",
        "guest_policy": GUEST_POLICY,
        "cmdline": SNP_CMDLINE,
        "ovmf_sha256": OVMF.sha256,
        "kernel_sha256": KERNEL.sha256,
        "initrd_sha256": hex::encode(Sha256::digest(&initrd)),
        "init_sha256": hex::encode(Sha256::digest(&enclave)),
    });
    let text = serde_json::to_string_pretty(&launch)
        .map(|text| text + "\n")
        .map_err(|e| fail(EXIT_BAD_CONFIG, e))?;
    write("launch.json", text.as_bytes())?;
    write("policy-entry.toml", policy.as_bytes())?;
    Ok(text)
}
