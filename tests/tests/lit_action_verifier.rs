#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The two verifiers agree (issue 14): `lit/actions/attested-release.js`, run under Node in a
//! bare context like a Lit node's runtime (`lit/actions/harness/verify.mjs`), and
//! `aip-attestation` give the same verdict on every attestation test vector in
//! `../shared/testdata/attestation` (at their own time and today, with and without allowed sets,
//! debug allowed or not, a measurement outside the sets, an expired entry), on dev evidence,
//! and on byte-flipped variants of each document, report and VEK; and the same failure class
//! wherever the input is not flipped.
//!
//! Node comes from PATH (or AIP_NODE); `.ci/run` installs Debian's nodejs when it is missing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{
    clock, BoundKeys, Checks, Evidence, EvidenceProducer, MeasurementPolicy, Verifier,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn testdata() -> PathBuf {
    repo().join("../shared/testdata/attestation")
}

/// One question for both verifiers.
struct Case {
    label: String,
    evidence: Evidence,
    policy: Option<MeasurementPolicy>,
    at: u64,
    dev_root_pem: Option<String>,
    /// Flipped inputs must get the same verdict; others the same class too.
    flipped: bool,
}

fn rust_verdict(case: &Case) -> Result<(), String> {
    let mut verifier = Verifier::new().unwrap();
    if let Some(pem) = &case.dev_root_pem {
        verifier = verifier.trust_dev_root(pem.as_bytes()).unwrap();
    }
    let checks = Checks {
        at: case.at,
        policy: case.policy.as_ref(),
        nonce: None,
        bound_keys: None,
    };
    verifier
        .verify(&case.evidence, &checks)
        .map(|_| ())
        .map_err(|e| e.class().as_str().to_owned())
}

/// The base64 body of the (first) certificate of a PEM text.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect()
}

fn request(id: usize, case: &Case) -> Value {
    json!({
        "id": id,
        "envelope": case.evidence.to_json_value(),
        "sets": case.policy.as_ref().map(|p| serde_json::from_str::<Value>(&p.canonical_json()).unwrap()),
        "at": case.at,
        "devRoot": case.dev_root_pem.as_deref().map(pem_body),
    })
}

/// Runs every case through the action in one Node process.
fn js_verdicts(cases: &[Case]) -> Vec<Result<(), String>> {
    let node = std::env::var_os("AIP_NODE").unwrap_or_else(|| "node".into());
    let mut child = Command::new(&node)
        .arg(repo().join("lit/actions/harness/verify.mjs"))
        .arg(repo().join("lit/actions/attested-release.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("node ({node:?}) is needed to run the Lit Action: {e}"));
    let mut input = child.stdin.take().unwrap();
    let requests: String = cases
        .iter()
        .enumerate()
        .map(|(id, case)| request(id, case).to_string() + "\n")
        .collect();
    let writer = std::thread::spawn(move || input.write_all(requests.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "the harness failed");
    let mut verdicts = vec![None; cases.len()];
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let answer: Value = serde_json::from_str(line).unwrap();
        let id = answer["id"].as_u64().unwrap() as usize;
        verdicts[id] = Some(if answer["ok"].as_bool().unwrap() {
            Ok(())
        } else {
            assert_ne!(
                answer["kind"], "exception",
                "the action threw an unclassified error on {}: {}",
                cases[id].label, answer["what"]
            );
            Err(answer["kind"].as_str().unwrap().to_owned())
        });
    }
    verdicts
        .into_iter()
        .enumerate()
        .map(|(id, v)| v.unwrap_or_else(|| panic!("no answer for {}", cases[id].label)))
        .collect()
}

/// A policy admitting these PCRs (`None` where the policy itself is invalid: all-zero PCRs
/// without `allow_debug`).
fn nitro_policy(
    pcrs: &Value,
    allow_debug: bool,
    expires: Option<&str>,
) -> Option<MeasurementPolicy> {
    let pcr = |i: &str| {
        pcrs[i]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "00".repeat(48))
    };
    let expires = expires
        .map(|e| format!("expires = {e}\n"))
        .unwrap_or_default();
    MeasurementPolicy::from_toml(&format!(
        "allow_debug = {allow_debug}\n[[nitro]]\nname = \"this image\"\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\n{expires}",
        pcr("0"),
        pcr("1"),
        pcr("2")
    ))
    .ok()
}

fn other_nitro_policy() -> MeasurementPolicy {
    MeasurementPolicy::from_toml(&format!(
        "[[nitro]]\nname = \"another image\"\npcr0 = \"{0}\"\npcr1 = \"{0}\"\npcr2 = \"{0}\"\n",
        "ab".repeat(48)
    ))
    .unwrap()
}

fn snp_policy(measurement: &str, allow_debug: bool, min_snp: Option<u8>) -> MeasurementPolicy {
    let floor = min_snp
        .map(|snp| format!("min_tcb = {{ bootloader = 0, tee = 0, snp = {snp}, microcode = 0 }}\n"))
        .unwrap_or_default();
    MeasurementPolicy::from_toml(&format!(
        "allow_debug = {allow_debug}\n[[sev_snp]]\nname = \"this guest\"\nmeasurement = \"{measurement}\"\n{floor}"
    ))
    .unwrap()
}

/// Every vector with the policies and times that exercise each check.
fn vector_cases() -> Vec<Case> {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(testdata().join("manifest.json")).unwrap()).unwrap();
    let now = clock::now();
    let mut cases = Vec::new();
    for doc in manifest["nitro"].as_array().unwrap() {
        let file = doc["file"].as_str().unwrap();
        let evidence = Evidence::Nitro {
            document: std::fs::read(testdata().join(file)).unwrap(),
        };
        let at = doc["verify_at_unix_s"].as_u64().unwrap();
        let pcrs = &doc["nonzero_pcrs"];
        let debug = doc["debug_mode"].as_bool().unwrap();
        let policies = [
            ("no sets", None),
            ("its sets", nitro_policy(pcrs, false, None)),
            ("its sets, debug allowed", nitro_policy(pcrs, true, None)),
            (
                "its sets, expired entry",
                nitro_policy(pcrs, true, Some("2020-01-01T00:00:00Z")),
            ),
            ("other sets", Some(other_nitro_policy())),
        ];
        for (name, policy) in policies {
            if name != "no sets" && policy.is_none() {
                continue;
            }
            for (when, at) in [("its time", at), ("today", now)] {
                cases.push(Case {
                    label: format!("{file} ({name}, {when}, debug {debug})"),
                    evidence: evidence.clone(),
                    policy: policy.clone(),
                    at,
                    dev_root_pem: None,
                    flipped: false,
                });
            }
        }
        // The same document presented as dev evidence under no dev root, and the AWS root
        // presented as a dev root: the platform label decides the roots.
        cases.push(Case {
            label: format!("{file} labelled dev"),
            evidence: Evidence::Dev {
                document: match &evidence {
                    Evidence::Nitro { document } => document.clone(),
                    _ => unreachable!(),
                },
            },
            policy: None,
            at,
            dev_root_pem: None,
            flipped: false,
        });
    }
    for report in manifest["sev_snp"].as_array().unwrap() {
        let evidence = Evidence::SevSnp {
            report: std::fs::read(testdata().join(report["report"].as_str().unwrap())).unwrap(),
            vek: std::fs::read(testdata().join(report["vek"].as_str().unwrap())).unwrap(),
            chain: Vec::new(),
        };
        let measurement = report["measurement_hex"].as_str().unwrap();
        let name = report["report"].as_str().unwrap();
        // Within the VEK's validity, and before it (2020).
        for (when, at) in [("2025", 1_750_000_000), ("2020", 1_590_000_000)] {
            for (label, policy) in [
                ("no sets", None),
                ("its sets", Some(snp_policy(measurement, false, None))),
                (
                    "its sets, debug allowed",
                    Some(snp_policy(measurement, true, None)),
                ),
                (
                    "its sets, TCB floor above it",
                    Some(snp_policy(measurement, true, Some(250))),
                ),
                ("other sets", Some(snp_policy(&"cd".repeat(48), true, None))),
            ] {
                cases.push(Case {
                    label: format!("{name} ({label}, {when})"),
                    evidence: evidence.clone(),
                    policy,
                    at,
                    dev_root_pem: None,
                    flipped: false,
                });
            }
        }
    }
    // Dev evidence: trusted under its root, refused without it.
    let pki = DevPki::ephemeral(now).unwrap();
    let root = pki.root_pem().unwrap();
    let pcrs = PcrBank::for_image(b"enclave image", b"aip-enclave");
    let producer = DevProducer::new(pki, pcrs.clone(), "i-dev");
    let keys = BoundKeys {
        tls_spki_der: vec![1, 2, 3],
        signing_public_key: [2; 32],
        release_address: [3; 20],
        config_sha256: [4; 32],
    };
    let evidence = producer.produce(&keys, b"a nonce").unwrap();
    let hex_pcr = |i| hex::encode(pcrs.get(i).unwrap());
    let dev_pcrs = json!({"0": hex_pcr(0), "1": hex_pcr(1), "2": hex_pcr(2)});
    for (label, root, policy) in [
        (
            "dev under its root",
            Some(root.clone()),
            nitro_policy(&dev_pcrs, false, None),
        ),
        ("dev without a root", None, None),
        (
            "dev, other sets",
            Some(root.clone()),
            Some(other_nitro_policy()),
        ),
    ] {
        cases.push(Case {
            label: label.into(),
            evidence: evidence.clone(),
            policy,
            at: now,
            dev_root_pem: root,
            flipped: false,
        });
    }
    cases
}

/// `bytes` with one bit flipped at every `stride`-th byte, with the position.
fn flipped(bytes: &[u8], stride: usize) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..bytes.len()).step_by(stride).map(|at| {
        let mut bytes = bytes.to_vec();
        bytes[at] ^= 1 << (at % 8);
        (at, bytes)
    })
}

/// Flipped variants of a case that verifies: every `stride`-th byte of each part, one bit.
fn flips(case: &Case, stride: usize) -> Vec<Case> {
    let variant = |label: String, evidence: Evidence| Case {
        label,
        evidence,
        policy: case.policy.clone(),
        at: case.at,
        dev_root_pem: case.dev_root_pem.clone(),
        flipped: true,
    };
    match &case.evidence {
        Evidence::Nitro { document } => flipped(document, stride)
            .map(|(at, document)| {
                variant(
                    format!("{} byte {at} flipped", case.label),
                    Evidence::Nitro { document },
                )
            })
            .collect(),
        Evidence::Dev { document } => flipped(document, stride)
            .map(|(at, document)| {
                variant(
                    format!("{} byte {at} flipped", case.label),
                    Evidence::Dev { document },
                )
            })
            .collect(),
        Evidence::SevSnp { report, vek, chain } => {
            let reports = flipped(report, stride).map(|(at, report)| {
                variant(
                    format!("{} report byte {at} flipped", case.label),
                    Evidence::SevSnp {
                        report,
                        vek: vek.clone(),
                        chain: chain.clone(),
                    },
                )
            });
            let veks = flipped(vek, stride).map(|(at, vek)| {
                variant(
                    format!("{} VEK byte {at} flipped", case.label),
                    Evidence::SevSnp {
                        report: report.clone(),
                        vek,
                        chain: chain.clone(),
                    },
                )
            });
            reports.chain(veks).collect()
        }
    }
}

#[test]
fn the_action_and_aip_attestation_agree_on_every_vector_and_on_flipped_bytes() {
    let mut cases = vector_cases();
    let accepted: Vec<usize> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| rust_verdict(c).is_ok())
        .map(|(i, _)| i)
        .collect();
    assert!(
        accepted.len() >= 8,
        "the vectors must include accepted cases ({} were)",
        accepted.len()
    );
    let mut flipped = Vec::new();
    for &i in &accepted {
        flipped.extend(flips(&cases[i], 23));
    }
    cases.extend(flipped);

    let js = js_verdicts(&cases);
    let mut disagreements = Vec::new();
    let (mut accepted_both, mut refused_both) = (0, 0);
    for (case, js) in cases.iter().zip(&js) {
        let rust = rust_verdict(case);
        let agree = match (&rust, js) {
            (Ok(()), Ok(())) => {
                accepted_both += 1;
                true
            }
            (Err(r), Err(j)) => {
                refused_both += 1;
                case.flipped || r == j
            }
            _ => false,
        };
        if !agree {
            disagreements.push(format!("{}: Rust {rust:?}, JS {js:?}", case.label));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
    println!(
        "{} cases: both accept {accepted_both}, both refuse {refused_both}",
        cases.len()
    );
}

#[test]
fn the_action_embeds_exactly_the_roots_aip_attestation_pins() {
    let action = std::fs::read_to_string(repo().join("lit/actions/attested-release.js")).unwrap();
    let roots = repo().join("attestation/roots");
    let mut files = vec![roots.join("nitro/aws_nitro_enclaves_root_G1.pem")];
    for product in ["milan", "genoa", "turin"] {
        for key in ["ark", "ask", "asvk"] {
            files.push(roots.join(format!("sev-snp/{product}_{key}.pem")));
        }
    }
    for file in files {
        let body = pem_body(&std::fs::read_to_string(&file).unwrap());
        assert!(STANDARD.decode(&body).is_ok());
        assert!(
            action.contains(&format!("\"{body}\"")),
            "{} is not embedded in the action",
            file.display()
        );
    }
}
