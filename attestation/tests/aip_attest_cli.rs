#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The auditor CLI, run as a process: verdicts, exit codes per failure class, JSON output,
//! every input form, and EIF measurement.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, BoundKeys, EvidenceProducer, FailureClass};
use base64::Engine as _;

fn aip_attest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aip-attest"))
        .args(args)
        .output()
        .unwrap()
}

fn code(output: &Output) -> i32 {
    let code = output.status.code().unwrap();
    assert_ne!(
        code,
        101,
        "aip-attest panicked: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    code
}

fn path(relative: &str) -> String {
    common::testdata().join(relative).display().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aip-attest-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(name: &str, bytes: impl AsRef<[u8]>) -> String {
    let p = scratch(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

const PROD: &str = "nitro/evervault_prod_2022-10-13_nonce.cose";
const PROD_AT: &str = "1665651482";

/// `verify` of the production document at its own time, with extra arguments; the exit code.
fn verify_prod(extra: &[&str]) -> i32 {
    let prod = path(PROD);
    let mut args = vec!["verify", "--evidence", prod.as_str(), "--at", PROD_AT];
    args.extend_from_slice(extra);
    code(&aip_attest(&args))
}

#[test]
fn real_documents_verify_at_their_time_and_expire_today() {
    for entry in common::manifest()["nitro"].as_array().unwrap() {
        let file = path(entry["file"].as_str().unwrap());
        let at = entry["verify_at_unix_s"].to_string();
        let out = aip_attest(&["verify", "--evidence", &file, "--at", &at]);
        let expected = if entry["debug_mode"].as_bool().unwrap() {
            FailureClass::Debug.exit_code()
        } else {
            0
        };
        assert_eq!(
            code(&out),
            i32::from(expected),
            "{file}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let today = aip_attest(&["verify", "--evidence", &file]);
        assert_eq!(
            code(&today),
            i32::from(FailureClass::Expired.exit_code()),
            "{file}"
        );
        assert!(String::from_utf8_lossy(&today.stdout).contains("INVALID (expired)"));
    }
}

#[test]
fn text_and_json_output_carry_the_decoded_fields() {
    let out = aip_attest(&["verify", "--evidence", &path(PROD), "--at", PROD_AT]);
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "VALID",
        "i-020b6af9246d90e92-enc0183d09086c24190",
        "PCR0",
        "f4d48b81a460c991",
        "nonce",
        "cb3dc2eb76c0c134",
        "debug          no",
        "NOT CHECKED",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    let out = aip_attest(&[
        "verify",
        "--evidence",
        &path(PROD),
        "--at",
        PROD_AT,
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["verified"]["platform"], "nitro");
    assert_eq!(
        json["verified"]["details"]["module_id"],
        "i-020b6af9246d90e92-enc0183d09086c24190"
    );
    assert_eq!(json["verified"]["measurement"]["pcr0"], "f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b");

    let out = aip_attest(&["verify", "--evidence", &path(PROD), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["class"], "expired");
    assert_eq!(json["error"]["exit_code"], 13);
}

#[test]
fn base64_and_envelope_forms_are_accepted() {
    let bytes = common::read(PROD);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let file = write("doc.b64", wrapped);
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &file,
            "--at",
            PROD_AT
        ])),
        0
    );
    let envelope = aip_attestation::Evidence::Nitro { document: bytes }.to_json();
    let file = write("doc.json", envelope);
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &file,
            "--at",
            PROD_AT
        ])),
        0
    );
}

#[test]
fn snp_reports_verify_with_der_or_pem_vcek() {
    let report = path("sev-snp/virtee_milan_report.bin");
    let der = path("sev-snp/virtee_milan_vcek.der");
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &report,
            "--vcek",
            &der
        ])),
        0
    );
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(common::read("sev-snp/virtee_milan_vcek.der"));
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let pem = write("vcek.pem", pem);
    let out = aip_attest(&["verify", "--evidence", &report, "--vcek", &pem]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Milan (Vcek)") && text.contains("7a1e5c266c0108dbc9bb94fa926951320940915d"),
        "{text}"
    );

    let debug = path("sev-snp/gosevguest_milan_report_debugpolicy.bin");
    let debug_vcek = path("sev-snp/gosevguest_milan_vcek.der");
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &debug,
            "--vcek",
            &debug_vcek
        ])),
        16
    );
    // Without --vcek a raw report is refused with advice.
    let out = aip_attest(&["verify", "--evidence", &report]);
    assert_eq!(code(&out), 10);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--vcek"));
    // The other chip's VCEK.
    assert!(matches!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &report,
            "--vcek",
            &debug_vcek
        ])),
        11 | 12
    ));
}

#[test]
fn policy_nonce_and_input_failures_have_their_own_exit_codes() {
    let prod = path(PROD);
    let pcr = |i: &str| {
        common::manifest()["nitro"][2]["nonzero_pcrs"][i]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let entry = |name: &str, extra: &str| {
        format!(
            "[[nitro]]\nname = \"{name}\"\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\n{extra}\n",
            pcr("0"),
            pcr("1"),
            pcr("2")
        )
    };
    let allowed = write("allowed.toml", entry("evervault", ""));
    let out = aip_attest(&[
        "verify",
        "--evidence",
        &prod,
        "--at",
        PROD_AT,
        "--policy",
        &allowed,
    ]);
    assert_eq!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("allowed by entry \"evervault\""));

    let other = write(
        "other.toml",
        entry("other", "").replace(&pcr("2")[..8], "00000000"),
    );
    assert_eq!(verify_prod(&["--policy", &other]), 14);
    let expired = write(
        "expired.toml",
        entry("old", "expires = 2022-10-13T00:00:00Z"),
    );
    assert_eq!(verify_prod(&["--policy", &expired]), 15);

    let nonce = common::manifest()["nitro"][2]["nonce_hex"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify_prod(&["--nonce", &nonce]), 0);
    let wrong = format!("ff{}", &nonce[2..]);
    assert_eq!(verify_prod(&["--nonce", &wrong]), 18);
    assert_eq!(verify_prod(&["--nonce", "xyz"]), 2);

    let bad_policy = write("bad.toml", "[[nitro]]\nname = 1\n");
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &prod,
            "--policy",
            &bad_policy
        ])),
        3
    );
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            "/nonexistent/evidence"
        ])),
        1
    );
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &prod,
            "--nonce",
            "xyz"
        ])),
        2
    );
    let garbage = write("garbage.bin", b"\x84garbage");
    assert_eq!(code(&aip_attest(&["verify", "--evidence", &garbage])), 10);
    let mut flipped = common::read(PROD);
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let flipped = write("flipped.cose", flipped);
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &flipped,
            "--at",
            PROD_AT
        ])),
        11
    );
}

#[test]
fn dev_evidence_needs_the_dev_root() {
    let pki = DevPki::ephemeral(clock::now()).unwrap();
    let root = write("dev-root.pem", pki.root_pem().unwrap());
    let producer = DevProducer::new(pki, PcrBank::for_image(b"image", b"app"), "i-dev-cli");
    let keys = BoundKeys {
        tls_spki_der: vec![1],
        signing_public_key: [2; 32],
        release_address: [3; 20],
        config_sha256: [4; 32],
    };
    let evidence = producer.produce(&keys, b"cli nonce").unwrap();
    let envelope = write("dev.json", evidence.to_json());
    let out = aip_attest(&[
        "verify",
        "--evidence",
        &envelope,
        "--trust-dev-root",
        &root,
        "--nonce",
        &hex::encode(b"cli nonce"),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("platform       dev"));
    assert_eq!(code(&aip_attest(&["verify", "--evidence", &envelope])), 12);
    // A raw dev document is read as dev evidence only when the dev root is given.
    let aip_attestation::Evidence::Dev { document } = evidence else {
        panic!()
    };
    let raw = write("dev.cose", document);
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &raw,
            "--trust-dev-root",
            &root
        ])),
        0
    );
    assert_eq!(code(&aip_attest(&["verify", "--evidence", &raw])), 12);
    let not_pem = write("not-a-root.pem", "hello");
    assert_eq!(
        code(&aip_attest(&[
            "verify",
            "--evidence",
            &raw,
            "--trust-dev-root",
            &not_pem
        ])),
        3
    );
}

/// Builds an EIF with AWS's own builder, then checks `measure-eif` against both the builder's
/// measurements and PCRs recomputed here from the section contents.
#[test]
fn measure_eif_matches_the_builder_and_an_independent_computation() {
    use aws_nitro_enclaves_image_format::defs::{EifBuildInfo, EifIdentityInfo};
    use aws_nitro_enclaves_image_format::utils::EifBuilder;
    use sha2::{Digest, Sha384};

    let kernel = b"not really a kernel, but bytes to measure".to_vec();
    let bootstrap = b"bootstrap ramdisk".to_vec();
    let app = b"application ramdisk: aip-enclave".to_vec();
    let cmdline = "console=ttyS0 reboot=k";
    let kernel_path = write("kernel.bin", &kernel);
    let bootstrap_path = write("ramdisk0.bin", &bootstrap);
    let app_path = write("ramdisk1.bin", &app);
    let info = EifIdentityInfo {
        img_name: "aip-signer-test".into(),
        img_version: "0.0.0".into(),
        build_info: EifBuildInfo {
            build_time: "2026-11-22T00:00:00Z".into(),
            build_tool: "test".into(),
            build_tool_version: "0".into(),
            img_os: "linux".into(),
            img_kernel: "0".into(),
        },
        docker_info: serde_json::json!({}),
        custom_info: serde_json::json!({}),
    };
    let mut builder = EifBuilder::new(
        Path::new(&kernel_path),
        cmdline.into(),
        None,
        Sha384::new(),
        0,
        info,
    );
    builder.add_ramdisk(Path::new(&bootstrap_path));
    builder.add_ramdisk(Path::new(&app_path));
    let eif_path = scratch("image.eif");
    let built = builder.write_to(&mut std::fs::File::create(&eif_path).unwrap());

    let out = aip_attest(&["measure-eif", eif_path.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let measured: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for pcr in ["PCR0", "PCR1", "PCR2"] {
        assert_eq!(measured[pcr.to_lowercase()], built[pcr], "{pcr}");
    }
    assert!(measured["pcr8"].is_null());

    let extend = |parts: &[&[u8]]| {
        let mut inner = Sha384::new();
        for p in parts {
            inner.update(p);
        }
        let mut outer = Sha384::new();
        outer.update([0u8; 48]);
        outer.update(inner.finalize());
        hex::encode(outer.finalize())
    };
    assert_eq!(
        measured["pcr0"],
        extend(&[&kernel, cmdline.as_bytes(), &bootstrap, &app])
    );
    assert_eq!(
        measured["pcr1"],
        extend(&[&kernel, cmdline.as_bytes(), &bootstrap])
    );
    assert_eq!(measured["pcr2"], extend(&[&app]));

    // The text form prints a ready policy entry that the policy parser accepts.
    let out = aip_attest(&[
        "measure-eif",
        eif_path.to_str().unwrap(),
        "--name",
        "test image",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let entry = &text[text.find("[[nitro]]").unwrap()..];
    let policy = aip_attestation::MeasurementPolicy::from_toml(entry).unwrap();
    assert_eq!(policy.entries[0].name, "test image");

    // A corrupted image is refused.
    let mut bytes = std::fs::read(&eif_path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let corrupt = write("corrupt.eif", bytes);
    assert_ne!(code(&aip_attest(&["measure-eif", &corrupt])), 0);
    assert_ne!(code(&aip_attest(&["measure-eif", "/nonexistent.eif"])), 0);
}

/// The auditor's loop on an image: build it (`build-eif`), publish its policy entry, and
/// `verify --policy` accepts evidence of that image; one byte changed in the enclave binary
/// before packing changes PCR2 and PCR0 (not the kernel's PCR1), and the same policy refuses
/// that evidence.
#[test]
fn verify_accepts_the_built_image_and_refuses_one_from_a_changed_source() {
    let enclave = b"\x7fELF the enclave as built from the published source".repeat(200);
    let build = |name: &str, binary: &[u8]| -> (String, serde_json::Value) {
        let binary_path = write(&format!("{name}.bin"), binary);
        let out = scratch(name);
        let run = aip_attest(&[
            "build-eif",
            "--enclave",
            &binary_path,
            "--stand-in",
            "--out",
            &out.display().to_string(),
        ]);
        assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
        let pcrs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("pcrs.json")).unwrap()).unwrap();
        (out.join("policy-entry.toml").display().to_string(), pcrs)
    };
    let evidence_of = |pcrs: &serde_json::Value, pki: DevPki, name: &str| -> String {
        let register = |key: &str| -> [u8; 48] {
            hex::decode(pcrs[key].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        };
        let producer = DevProducer::new(
            pki,
            PcrBank::booted(register("PCR0"), register("PCR1"), register("PCR2")),
            "i-image",
        );
        let keys = BoundKeys {
            tls_spki_der: vec![1],
            signing_public_key: [2; 32],
            release_address: [3; 20],
            config_sha256: [4; 32],
        };
        write(name, producer.produce(&keys, b"n").unwrap().to_json())
    };
    let (policy, published) = build("published", &enclave);
    assert_eq!(published["stand_in_kernel"], true);
    let pki = DevPki::ephemeral(clock::now()).unwrap();
    let root = write("image-root.pem", pki.root_pem().unwrap());
    let verify = |evidence: &str, root: &str| {
        aip_attest(&[
            "verify",
            "--evidence",
            evidence,
            "--trust-dev-root",
            root,
            "--policy",
            &policy,
        ])
    };
    let genuine = evidence_of(&published, pki, "genuine.json");
    let verdict = verify(&genuine, &root);
    assert_eq!(
        code(&verdict),
        0,
        "{}",
        String::from_utf8_lossy(&verdict.stdout)
    );

    let mut changed = enclave.clone();
    changed[1000] ^= 0x01;
    let (_, rebuilt) = build("changed", &changed);
    assert_ne!(rebuilt["PCR2"], published["PCR2"]);
    assert_ne!(rebuilt["PCR0"], published["PCR0"]);
    assert_eq!(rebuilt["PCR1"], published["PCR1"], "the kernel's register");
    let pki = DevPki::ephemeral(clock::now()).unwrap();
    let root = write("image-root-2.pem", pki.root_pem().unwrap());
    let impostor = evidence_of(&rebuilt, pki, "changed.json");
    let verdict = verify(&impostor, &root);
    assert_eq!(
        code(&verdict),
        i32::from(FailureClass::Measurement.exit_code()),
        "{}",
        String::from_utf8_lossy(&verdict.stdout)
    );
}
