//! Attestation evidence: the Nitro document (COSE/CBOR and the full verification), the
//! SEV-SNP report, and the JSON envelope evidence travels in between enclave, host and Lit.

use std::path::Path;

use aip_attestation::nitro::document;
use aip_attestation::snp::report;
use aip_attestation::{Checks, Evidence, Verifier};

/// The SEV-SNP report's fixed size.
const SNP_REPORT_LEN: usize = 1184;

/// Any bytes: the COSE/CBOR parser and the full Nitro verification never panic, and whatever
/// parses re-encodes to a payload that parses to the same document.
pub fn nitro_document(data: &[u8]) {
    if let Ok(signed) = document::parse(data) {
        if let Ok(payload) = signed.document.to_cbor() {
            let again = document::parse_payload(&payload).expect("our own encoding parses");
            assert_eq!(again, signed.document);
        }
    }
    if let Ok(verifier) = Verifier::new() {
        let evidence = Evidence::Nitro {
            document: data.to_vec(),
        };
        let _ = verifier.verify(&evidence, &Checks::at(1_665_651_482));
    }
}

/// Any bytes: the SEV-SNP report parser never panics, and a report that parses is exactly
/// 1184 bytes.
pub fn snp_report(data: &[u8]) {
    // Reports are fixed-size: pad or cut short inputs so most runs reach the field parser.
    let mut bytes = data.to_vec();
    bytes.resize(SNP_REPORT_LEN, 0);
    for input in [data, bytes.as_slice()] {
        if report::parse(input).is_ok() {
            assert_eq!(input.len(), SNP_REPORT_LEN);
        }
    }
}

/// Any text: the JSON envelope reader never panics and what it reads round-trips.
pub fn evidence_envelope(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(evidence) = Evidence::from_json(text) {
            assert_eq!(
                Evidence::from_json(&evidence.to_json()).ok(),
                Some(evidence)
            );
        }
    }
}

/// The real Nitro documents in `testdata/attestation/nitro`.
pub fn nitro_seeds(testdata: &Path) -> Vec<Vec<u8>> {
    crate::seeds::files(&testdata.join("attestation/nitro"), &["cose"])
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect()
}

/// The real SEV-SNP reports in `testdata/attestation/sev-snp`.
pub fn snp_seeds(testdata: &Path) -> Vec<Vec<u8>> {
    crate::seeds::files(&testdata.join("attestation/sev-snp"), &["bin"])
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect()
}

/// The real evidence of both platforms, in the envelope.
pub fn envelope_seeds(testdata: &Path) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = nitro_seeds(testdata)
        .into_iter()
        .map(|document| Evidence::Nitro { document }.to_json().into_bytes())
        .collect();
    let snp = testdata.join("attestation/sev-snp");
    if let (Ok(report), Ok(vek)) = (
        std::fs::read(snp.join("virtee_milan_report.bin")),
        std::fs::read(snp.join("virtee_milan_vcek.der")),
    ) {
        let chain = Vec::new();
        seeds.push(
            Evidence::SevSnp { report, vek, chain }
                .to_json()
                .into_bytes(),
        );
    }
    seeds
}
