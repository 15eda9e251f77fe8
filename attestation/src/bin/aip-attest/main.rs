//! aip-attest: the auditor's tool. Verifies evidence from an aip-signer enclave (or any Nitro
//! document / SNP report) against pinned roots, a measurement policy, a nonce, at an explicit
//! time; measures enclave images.
//!
//! Exit codes: 0 valid; 1 a file could not be read; 2 usage; 3 the policy or dev root file is
//! invalid; 10 malformed, 11 signature, 12 chain, 13 expired, 14 measurement not allowed,
//! 15 policy entry expired, 16 debug refused, 17 binding, 18 nonce.

mod build_eif;
mod build_snp;
mod fetch;
mod input;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use aip_attestation::{clock, Checks, MeasurementPolicy, Verifier};
use clap::{Parser, Subcommand};

/// Exit code when an input file cannot be read.
const EXIT_UNREADABLE: u8 = 1;
/// Exit code when a policy or root file is invalid.
const EXIT_BAD_CONFIG: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "aip-attest",
    version,
    about = "Verify aip-signer attestation evidence and measure enclave images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Verify evidence: a raw Nitro document (COSE bytes or base64), a raw SEV-SNP report
    /// with --vcek, or an aip-signer JSON envelope. Exit 0 only when valid.
    Verify(VerifyArgs),
    /// Connect to a running signer, fetch fresh evidence for a random nonce, and verify it
    /// binds the TLS key of that very connection. Prints the key hash to pin. Exit 0 only
    /// when valid; 1 unreachable; 2 usage; 3 bad policy/root/certificate file; 10..18 as
    /// verify (17 also when the evidence binds another TLS key).
    Fetch(fetch::FetchArgs),
    /// Print the allowed-sets hash of a measurement policy: what an attested-release
    /// condition names (and the enclave's `lit.allowed_sets_sha256`). Exit 3 if the policy is
    /// not valid.
    PolicyHash {
        /// The measurement policy (TOML).
        #[arg(long)]
        policy: PathBuf,
        /// Print the canonical JSON itself (the enclave's `lit.allowed_sets`) instead of its
        /// hash.
        #[arg(long)]
        canonical: bool,
    },
    /// Build the enclave image (EIF) reproducibly from the static enclave binary and AWS's
    /// pinned kernel blobs (or stand-ins); write it with pcrs.json and a policy entry.
    BuildEif(build_eif::BuildEifArgs),
    /// Build the SEV-SNP guest's initrd around the static enclave binary, with the pinned
    /// kernel, modules and OVMF, and compute its expected launch measurement for QEMU
    /// measured direct boot; write launch.json and policy entries.
    BuildSnp(build_snp::BuildSnpArgs),
    /// Print the files the SEV-SNP guest takes from Ubuntu's packages, one per line:
    /// `name sha256 package path-in-package` (what scripts/fetch-snp-inputs downloads).
    SnpPins,
    /// Print PCR0/1/2 (and PCR8 if signed) of an enclave image file (EIF), and a policy entry.
    /// Needs the `eif` feature (AWS's image crate; default).
    #[cfg(feature = "eif")]
    MeasureEif {
        /// The .eif file.
        file: PathBuf,
        /// Name for the printed policy entry.
        #[arg(long, default_value = "aip-signer enclave")]
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// The evidence file.
    #[arg(long)]
    evidence: PathBuf,
    /// The VCEK or VLEK (DER or PEM) that signed a raw SEV-SNP report.
    #[arg(long)]
    vcek: Option<PathBuf>,
    /// Check certificate validity at this time (unix seconds) instead of now.
    #[arg(long)]
    at: Option<u64>,
    /// Measurement policy (TOML). Without it the measurement is shown but not judged.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The nonce the evidence must carry (hex).
    #[arg(long, value_parser = parse_hex)]
    nonce: Option<HexBytes>,
    /// Trust dev evidence under this dev root certificate (PEM). Raw documents are then read
    /// as dev evidence; never use this for production evidence.
    #[arg(long)]
    trust_dev_root: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Bytes given as hex on the command line (a newtype: clap reads a bare `Vec` as a list).
#[derive(Debug, Clone)]
struct HexBytes(Vec<u8>);

fn parse_hex(text: &str) -> Result<HexBytes, String> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map(HexBytes)
        .map_err(|e| format!("not hex: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(args) => verify(args),
        Command::Fetch(args) => fetch::run(args),
        #[cfg(feature = "eif")]
        Command::MeasureEif { file, name, json } => measure_eif(&file, &name, json),
        Command::BuildEif(args) => build_eif::run(args),
        Command::BuildSnp(args) => build_snp::run(args),
        Command::SnpPins => build_snp::print_pins(),
        Command::PolicyHash { policy, canonical } => match trust(None, Some(&policy)) {
            Ok((_, Some(policy))) => {
                if canonical {
                    println!("{}", policy.canonical_json());
                } else {
                    println!("{}", policy.allowed_sets_sha256_hex());
                }
                ExitCode::SUCCESS
            }
            Ok((_, None)) => fail(EXIT_BAD_CONFIG, "no policy"),
            Err(code) => code,
        },
    }
}

/// Writes `bytes` to `dir/file`, making `dir`; a failure is exit 1 naming the path.
fn write_output(dir: &std::path::Path, file: &str, bytes: &[u8]) -> Result<(), ExitCode> {
    let path = dir.join(file);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, bytes))
        .map_err(|e| fail(EXIT_UNREADABLE, format!("{}: {e}", path.display())))
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("aip-attest: {message}");
    ExitCode::from(code)
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, ExitCode> {
    input::read_capped(path).map_err(|e| {
        fail(
            EXIT_UNREADABLE,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

/// The verifier (with the dev root if given) and the measurement policy (if given).
fn trust(
    dev_root: Option<&std::path::Path>,
    policy: Option<&std::path::Path>,
) -> Result<(Verifier, Option<MeasurementPolicy>), ExitCode> {
    let mut verifier = Verifier::new().map_err(|e| {
        fail(
            EXIT_BAD_CONFIG,
            format!("the built-in roots do not load: {e}"),
        )
    })?;
    if let Some(path) = dev_root {
        let pem = read(path)?;
        verifier = verifier
            .trust_dev_root(&pem)
            .map_err(|e| fail(EXIT_BAD_CONFIG, format!("{}: {e}", path.display())))?;
    }
    let policy = match policy {
        None => None,
        Some(path) => {
            let text = read(path)?;
            let text = String::from_utf8_lossy(&text);
            Some(
                MeasurementPolicy::from_toml(&text)
                    .map_err(|e| fail(EXIT_BAD_CONFIG, format!("{}: {e}", path.display())))?,
            )
        }
    };
    Ok((verifier, policy))
}

fn verify(args: VerifyArgs) -> ExitCode {
    let at = args.at.unwrap_or_else(clock::now);
    let (verifier, policy) = match trust(args.trust_dev_root.as_deref(), args.policy.as_deref()) {
        Ok(trust) => trust,
        Err(code) => return code,
    };
    let evidence_bytes = match read(&args.evidence) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let vek = match &args.vcek {
        None => None,
        Some(path) => match read(path) {
            Ok(b) => Some(b),
            Err(code) => return code,
        },
    };
    let result = input::evidence(
        &evidence_bytes,
        vek.as_deref(),
        args.trust_dev_root.is_some(),
    )
    .and_then(|evidence| {
        let checks = Checks {
            at,
            policy: policy.as_ref(),
            nonce: args.nonce.as_ref().map(|n| n.0.as_slice()),
            bound_keys: None,
        };
        verifier.verify(&evidence, &checks)
    });
    output::print(&result, at, args.json);
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(e.class().exit_code()),
    }
}

#[cfg(feature = "eif")]
fn measure_eif(file: &std::path::Path, name: &str, json: bool) -> ExitCode {
    use aip_attestation::FailureClass;
    match aip_attestation::eif::measure(file) {
        Ok(m) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
            } else {
                println!("hash_algorithm {}", m.hash_algorithm);
                println!("PCR0 {}", m.pcr0);
                println!("PCR1 {}", m.pcr1);
                println!("PCR2 {}", m.pcr2);
                if let Some(pcr8) = &m.pcr8 {
                    println!("PCR8 {pcr8}");
                }
                println!("\n# measurement policy entry\n{}", m.policy_entry(name));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(
            FailureClass::Malformed.exit_code(),
            format!("{}: {e}", file.display()),
        ),
    }
}
