//! `aip-attest build-eif`: the one implementation behind `scripts/build-eif` and
//! `Dockerfile.enclave`. Writes `aip-signer.eif`, `pcrs.json` and `policy-entry.toml` into the
//! output directory (docs/enclave-image.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aip_attestation::eif::EifMeasurements;
use aip_attestation::image::layout::{self, Blobs};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{fail, write_output, EXIT_BAD_CONFIG, EXIT_UNREADABLE};

#[derive(clap::Args, Debug)]
pub struct BuildEifArgs {
    /// The static `aip-enclave` binary (scripts/build-eif builds it).
    #[arg(long)]
    enclave: PathBuf,
    /// AWS's Nitro kernel (`/usr/share/nitro_enclaves/blobs/bzImage`), checked against its pin.
    #[arg(long, requires = "nsm_ko", conflicts_with = "stand_in")]
    kernel: Option<PathBuf>,
    /// AWS's `nsm.ko` from the same place, checked against its pin.
    #[arg(long, requires = "kernel", conflicts_with = "stand_in")]
    nsm_ko: Option<PathBuf>,
    /// Use stand-ins for the kernel and module (no real blobs on this machine): PCR2 is the
    /// real one, PCR0 and PCR1 are not, and pcrs.json says so.
    #[arg(long)]
    stand_in: bool,
    /// Where to write the image and its measurements.
    #[arg(long)]
    out: PathBuf,
    /// The image version recorded in its (unmeasured) metadata.
    #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
    image_version: String,
}

pub fn run(args: BuildEifArgs) -> ExitCode {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| fail(EXIT_UNREADABLE, format!("{}: {e}", path.display())))
    };
    let enclave = match read(&args.enclave) {
        Ok(bytes) => bytes,
        Err(code) => return code,
    };
    let blobs = match (&args.kernel, &args.nsm_ko, args.stand_in) {
        (Some(kernel), Some(nsm_ko), false) => match (read(kernel), read(nsm_ko)) {
            (Ok(kernel), Ok(nsm_ko)) => Blobs::Pinned { kernel, nsm_ko },
            (Err(code), _) | (_, Err(code)) => return code,
        },
        (None, None, true) => Blobs::StandIn,
        _ => {
            return fail(
                EXIT_BAD_CONFIG,
                "give --kernel and --nsm-ko (AWS's blobs), or --stand-in",
            )
        }
    };
    let built = match layout::build(&enclave, &blobs, &args.image_version) {
        Ok(built) => built,
        Err(error) => return fail(EXIT_BAD_CONFIG, aip_wire::process::error_chain(&error)),
    };
    let measurements = EifMeasurements {
        hash_algorithm: built.pcrs.hash_algorithm.to_owned(),
        pcr0: built.pcrs.pcr0.clone(),
        pcr1: built.pcrs.pcr1.clone(),
        pcr2: built.pcrs.pcr2.clone(),
        pcr8: None,
    };
    let name = if built.stand_in {
        "aip-signer (stand-in kernel: PCR2 only is real)".to_owned()
    } else {
        format!("aip-signer {}", args.image_version)
    };
    let pcrs = json!({
        "HashAlgorithm": built.pcrs.hash_algorithm,
        "PCR0": built.pcrs.pcr0,
        "PCR1": built.pcrs.pcr1,
        "PCR2": built.pcrs.pcr2,
        "stand_in_kernel": built.stand_in,
        "init_sha256": built.init_sha256,
        "eif_sha256": hex::encode(Sha256::digest(&built.eif)),
    });
    let pcrs_text = match serde_json::to_string_pretty(&pcrs) {
        Ok(text) => text + "\n",
        Err(e) => return fail(EXIT_BAD_CONFIG, e),
    };
    let write = |file: &str, bytes: &[u8]| write_output(&args.out, file, bytes);
    for (file, bytes) in [
        ("aip-signer.eif", built.eif.as_slice()),
        ("pcrs.json", pcrs_text.as_bytes()),
        (
            "policy-entry.toml",
            measurements.policy_entry(&name).as_bytes(),
        ),
    ] {
        if let Err(code) = write(file, bytes) {
            return code;
        }
    }
    print!("{pcrs_text}");
    ExitCode::SUCCESS
}
