#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reproducible enclave images: our EIF writer against the research vectors (three
//! implementations agreed on them) and against AWS's own image crate, the deterministic
//! ramdisks, and what each PCR depends on.

use aip_attestation::image::cpio::{self, CpioError, Entry};
use aip_attestation::image::eif_writer::{self, Identity, ImageInputs};
use aip_attestation::image::layout::{self, Blobs, LayoutError};
use sha2::{Digest, Sha256, Sha384};

const V1_CMDLINE: &str = "reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on";

fn v1() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        b"aip-signer stand-in kernel\n".repeat(4096),
        b"aip-signer stand-in ramdisk 0\n".repeat(512),
        b"aip-signer stand-in ramdisk 1\n".repeat(1024),
    )
}

#[test]
fn the_research_vector_v1_byte_for_byte() {
    let (kernel, r0, r1) = v1();
    let (eif, pcrs) = eif_writer::write(&ImageInputs {
        kernel: &kernel,
        cmdline: V1_CMDLINE,
        ramdisks: &[&r0, &r1],
        identity: Identity::reproducible("0.0.0", "stand-in"),
    })
    .unwrap();
    assert_eq!(pcrs.pcr0, "5c4c3dda3bc3dacccdde39fc7e485e029a63bb11e0be2f0f0e1c37a114c3c871f36d97dfbb01b0ca7b18cdf6f1360dc0");
    assert_eq!(pcrs.pcr1, "793a0384d48ff55aaff49e5c81094b471ce37c979d1b2ec9eab479d59de4953d90dc8ed05794e0d43e758bd6d2f55550");
    assert_eq!(pcrs.pcr2, "bbb977e7e34c4bf7b8dcf85109df74640dff84e19d15922549a4b0cd6ea927ca0f0565032cac2f21dc5418490ee555ef");
    assert_eq!(eif.len(), 157_651);
    assert_eq!(
        hex::encode(Sha256::digest(&eif)),
        "22f4a00a954f5c25b73d27ab61bc29e8bb40ffa927bfae2784f3fbb0ca2a54b3",
        "the bytes AWS's 0.8.1 builder wrote for the same inputs and identity"
    );
}

#[test]
fn aws_reads_what_we_write_and_writes_the_same_bytes() {
    use aws_nitro_enclaves_image_format::defs::{EifBuildInfo, EifIdentityInfo};
    use aws_nitro_enclaves_image_format::utils::eif_reader::EifReader;
    use aws_nitro_enclaves_image_format::utils::EifBuilder;

    let dir = std::env::temp_dir().join(format!("aip-eif-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let enclave = b"\x7fELF pretend enclave binary".repeat(300);
    let built = layout::build(&enclave, &Blobs::StandIn, "0.1.0").unwrap();
    let ours = dir.join("ours.eif");
    std::fs::write(&ours, &built.eif).unwrap();
    let reader = EifReader::from_eif(ours.to_string_lossy().into_owned()).unwrap();
    assert!(reader.check_crc(), "AWS's reader accepts our CRC");
    let measured = aip_attestation::eif::measure(&ours).unwrap();
    assert_eq!(
        (&measured.pcr0, &measured.pcr1, &measured.pcr2),
        (&built.pcrs.pcr0, &built.pcrs.pcr1, &built.pcrs.pcr2),
        "AWS's measurement (what nitro-cli describe-eif prints) equals ours"
    );

    // AWS's builder, given the same kernel, cmdline, ramdisks and identity, writes our bytes.
    let kernel = dir.join("kernel");
    std::fs::write(&kernel, layout::stand_in_kernel()).unwrap();
    let r0 = dir.join("r0");
    std::fs::write(
        &r0,
        layout::bootstrap_ramdisk(&b"aip-signer stand-in nsm.ko\n".repeat(64)).unwrap(),
    )
    .unwrap();
    let r1 = dir.join("r1");
    std::fs::write(&r1, layout::application_ramdisk(&enclave).unwrap()).unwrap();
    let identity = EifIdentityInfo {
        img_name: "aip-signer".into(),
        img_version: "0.1.0".into(),
        build_info: EifBuildInfo {
            build_time: "1970-01-01T00:00:00+00:00".into(),
            build_tool: "aip-attest".into(),
            build_tool_version: "0.1.0".into(),
            img_os: "Linux".into(),
            img_kernel: "stand-in".into(),
        },
        docker_info: serde_json::Value::Null,
        custom_info: serde_json::Value::Null,
    };
    let mut builder = EifBuilder::new(
        &kernel,
        layout::NITRO_CMDLINE.to_owned(),
        None,
        Sha384::new(),
        0,
        identity,
    );
    builder.add_ramdisk(&r0);
    builder.add_ramdisk(&r1);
    let theirs = dir.join("theirs.eif");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&theirs)
        .unwrap();
    let pcrs = builder.write_to(&mut file);
    drop(file);
    assert_eq!(std::fs::read(&theirs).unwrap(), built.eif, "byte for byte");
    assert_eq!(pcrs.get("PCR2"), Some(&built.pcrs.pcr2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pcr2_measures_the_enclave_binary_alone() {
    let enclave = b"\x7fELF pretend enclave binary".repeat(300);
    let first = layout::build(&enclave, &Blobs::StandIn, "0.1.0").unwrap();
    let again = layout::build(&enclave, &Blobs::StandIn, "0.1.0").unwrap();
    assert_eq!(first.eif, again.eif, "reproducible");
    assert!(first.stand_in);
    let mut changed = enclave.clone();
    changed[100] ^= 1;
    let other = layout::build(&changed, &Blobs::StandIn, "0.1.0").unwrap();
    assert_ne!(
        other.pcrs.pcr2, first.pcrs.pcr2,
        "one flipped byte changes PCR2"
    );
    assert_ne!(other.pcrs.pcr0, first.pcrs.pcr0, "and PCR0");
    assert_eq!(other.pcrs.pcr1, first.pcrs.pcr1, "not the kernel's PCR1");
    // The image version is metadata: not measured.
    let versioned = layout::build(&enclave, &Blobs::StandIn, "9.9.9").unwrap();
    assert_eq!(versioned.pcrs, first.pcrs);
    assert_ne!(versioned.eif, first.eif);
}

#[test]
fn real_blobs_must_match_their_pins() {
    let refused = layout::build(
        b"enclave",
        &Blobs::Pinned {
            kernel: b"some other kernel".to_vec(),
            nsm_ko: b"module".to_vec(),
        },
        "0.1.0",
    );
    assert!(
        matches!(refused, Err(LayoutError::KernelPin { .. })),
        "{refused:?}"
    );
    // The git blob id is git's: `printf hello | git hash-object --stdin`.
    assert_eq!(
        layout::git_blob_id(b"hello"),
        "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0"
    );
}

#[test]
fn ramdisks_are_the_manifest_not_the_order_or_the_filesystem() {
    let entries = vec![
        Entry::File {
            path: "b/file".into(),
            mode: 0o644,
            data: b"abc".to_vec(),
        },
        Entry::Directory {
            path: "b".into(),
            mode: 0o755,
        },
        Entry::File {
            path: "a".into(),
            mode: 0o755,
            data: vec![],
        },
    ];
    let mut shuffled = entries.clone();
    shuffled.reverse();
    let archive = cpio::archive(&entries).unwrap();
    assert_eq!(archive, cpio::archive(&shuffled).unwrap());
    // The first entry, by the newc specification: "070701", 13 eight-digit hex fields (ino 1,
    // regular file 0755, uid/gid 0, 1 link, mtime 0, size 0, devices 0, name size 2, check 0),
    // the name "a" and NUL, padded to a multiple of four.
    let first = "070701\
        00000001000081ed00000000000000000000000100000000\
        00000000000000000000000000000000000000000000000200000000\
        a\0";
    assert_eq!(&archive[..first.len()], first.as_bytes());
    assert!(first.len().is_multiple_of(4));
    assert!(archive.len().is_multiple_of(4));
    let trailer = b"TRAILER!!!\0";
    assert!(archive
        .windows(trailer.len())
        .any(|w| w == trailer.as_slice()));

    for (bad, expected) in [
        (
            vec![Entry::Directory {
                path: "/abs".into(),
                mode: 0o755,
            }],
            "BadPath",
        ),
        (
            vec![Entry::File {
                path: "missing/parent".into(),
                mode: 0o644,
                data: vec![],
            }],
            "NoParent",
        ),
        (
            vec![
                Entry::Directory {
                    path: "x".into(),
                    mode: 0o755,
                },
                Entry::Directory {
                    path: "x".into(),
                    mode: 0o700,
                },
            ],
            "Duplicate",
        ),
        (
            vec![Entry::File {
                path: "setuid-plus".into(),
                mode: 0o104_755,
                data: vec![],
            }],
            "BadMode",
        ),
    ] {
        let error: CpioError = cpio::archive(&bad).unwrap_err();
        assert!(format!("{error:?}").starts_with(expected), "{error:?}");
    }
}
