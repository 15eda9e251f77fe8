//! SEV-SNP verification: the sev crate's chain (ARK -> ASK/ASVK -> VEK, RSA-PSS) and report
//! signature checks, plus what it leaves out: validity at an explicit time, the VEK's TCB
//! equal to the report's reported_tcb, the chip id (VCEK), the product name.

use sev::certs::snp::{ca, Certificate as SevCertificate, Chain, Verifiable};
use x509_cert::Certificate;

use super::report::{self, SigningKey, SnpReport};
use super::roots::{Product, ProductRoots};
use super::vek::{self, Tcb};
use crate::error::VerifyError;
use crate::x509;

/// A report whose chain and signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedReport {
    pub report: SnpReport,
    pub product: Product,
    pub reported_tcb: Tcb,
    pub vek_not_before: u64,
    pub vek_not_after: u64,
}

/// Verifies `report_bytes` signed by the VEK `vek_der`, against the built-in roots, at `at`.
pub fn verify(
    report_bytes: &[u8],
    vek_der: &[u8],
    roots: &[ProductRoots],
    at: u64,
) -> Result<VerifiedReport, VerifyError> {
    let report = report::parse(report_bytes)?;
    let vek = x509::parse_der(vek_der, "the VEK certificate")?;
    // The outer signature algorithm is not covered by the signature; RFC 5280 requires it to
    // equal the signed one, and the sev crate compares only the OID.
    // The sev crate reads the signature's raw bits, ignoring a non-zero unused-bits count.
    if vek.signature_algorithm != vek.tbs_certificate.signature
        || vek.signature.as_bytes().is_none()
    {
        return Err(VerifyError::malformed(
            "the VEK's outer signature algorithm or signature encoding is not what it signed",
        ));
    }

    let (product_roots, intermediate) = issuer_of(&vek, report.signing_key, roots)?;
    let chain = Chain {
        ca: ca::Chain {
            ark: SevCertificate::from(product_roots.ark.clone()),
            ask: SevCertificate::from(intermediate.clone()),
        },
        vek: SevCertificate::from(vek.clone()),
    };
    (&chain)
        .verify()
        .map_err(|e| VerifyError::chain_by("the AMD chain ARK -> ASK -> VEK does not verify", e))?;
    let intermediate_name = match report.signing_key {
        SigningKey::Vcek => "the ASK",
        SigningKey::Vlek => "the ASVK",
    };
    x509::check_validity(&product_roots.ark, at, "the ARK")?;
    x509::check_validity(intermediate, at, intermediate_name)?;
    x509::check_validity(&vek, at, "the VEK certificate")?;

    (&chain, &report.report).verify().map_err(|e| {
        VerifyError::signature(
            "the report signature does not verify under the VEK",
            Some(Box::new(e)),
        )
    })?;

    let product = product_roots.product;
    let extensions = vek::read(&vek, product.has_fmc())?;
    if let Some(name) = &extensions.product_name {
        if !name.starts_with(product.name()) {
            return Err(VerifyError::chain(format!(
                "the VEK says product {name:?}, its chain is {}",
                product.name()
            )));
        }
    }
    let mut reported_tcb = Tcb::from(report.report.reported_tcb);
    if !product.has_fmc() {
        reported_tcb.fmc = None;
    }
    if extensions.tcb != reported_tcb {
        return Err(VerifyError::chain(format!(
            "the VEK was issued for TCB {:?}, the report claims {:?}",
            extensions.tcb, reported_tcb
        )));
    }
    check_chip_id(&report, extensions.hw_id.as_deref())?;

    let (vek_not_before, vek_not_after) = x509::validity(&vek);
    Ok(VerifiedReport {
        report,
        product,
        reported_tcb,
        vek_not_before,
        vek_not_after,
    })
}

/// Finds the product whose ASK (VCEK) or ASVK (VLEK) issued the VEK.
fn issuer_of<'r>(
    vek: &Certificate,
    signing_key: SigningKey,
    roots: &'r [ProductRoots],
) -> Result<(&'r ProductRoots, &'r Certificate), VerifyError> {
    let vek_sev = SevCertificate::from(vek.clone());
    for product_roots in roots {
        let intermediate = match signing_key {
            SigningKey::Vcek => &product_roots.ask,
            SigningKey::Vlek => &product_roots.asvk,
        };
        if vek.tbs_certificate.issuer != intermediate.tbs_certificate.subject {
            continue;
        }
        let intermediate_sev = SevCertificate::from(intermediate.clone());
        if (&intermediate_sev, &vek_sev).verify().is_ok() {
            return Ok((product_roots, intermediate));
        }
    }
    Err(VerifyError::chain(format!(
        "the {signing_key:?} certificate was not issued by any built-in AMD key (Milan, Genoa, Turin)"
    )))
}

/// A VCEK is bound to one chip: its hwID must be the report's chip_id (which is zero-padded
/// after the 8 bytes Turin uses). VLEKs carry no chip id.
fn check_chip_id(report: &SnpReport, hw_id: Option<&[u8]>) -> Result<(), VerifyError> {
    match (report.signing_key, hw_id) {
        (SigningKey::Vlek, _) => Ok(()),
        (SigningKey::Vcek, None) => Err(VerifyError::malformed("the VCEK has no hwID extension")),
        (SigningKey::Vcek, Some(hw_id)) => {
            let chip_id = &report.report.chip_id;
            let matches = hw_id.len() <= chip_id.len()
                && !hw_id.is_empty()
                && chip_id[..hw_id.len()] == *hw_id
                && chip_id[hw_id.len()..].iter().all(|b| *b == 0);
            if matches {
                Ok(())
            } else {
                Err(VerifyError::chain(
                    "the VCEK belongs to another chip (hwID differs from the report's chip_id)",
                ))
            }
        }
    }
}
