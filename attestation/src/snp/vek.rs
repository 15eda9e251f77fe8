//! What the VCEK/VLEK certificate says about the platform: AMD's extensions
//! (VCEK spec 57230, "Certificate Extensions"): the TCB it was derived for, the chip it
//! belongs to (VCEK only) and the product name.

use x509_cert::der::asn1::{Ia5String, ObjectIdentifier};
use x509_cert::der::Decode;
use x509_cert::Certificate;

use crate::error::VerifyError;

const PRODUCT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.2");
const BL_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.1");
const TEE_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.2");
const SNP_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.3");
const UCODE_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.8");
const FMC_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.9");
const HW_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.4");

/// The TCB components a VEK was derived for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tcb {
    pub fmc: Option<u8>,
    pub bootloader: u8,
    pub tee: u8,
    pub snp: u8,
    pub microcode: u8,
}

impl From<sev::firmware::host::TcbVersion> for Tcb {
    fn from(t: sev::firmware::host::TcbVersion) -> Self {
        Tcb {
            fmc: t.fmc,
            bootloader: t.bootloader,
            tee: t.tee,
            snp: t.snp,
            microcode: t.microcode,
        }
    }
}

/// AMD extensions of a VEK certificate.
#[derive(Debug, Clone)]
pub struct VekExtensions {
    pub product_name: Option<String>,
    pub tcb: Tcb,
    /// The chip id (VCEK only): 64 bytes before Turin, 8 bytes from Turin on.
    pub hw_id: Option<Vec<u8>>,
}

fn extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_deref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn spl(cert: &Certificate, oid: ObjectIdentifier, name: &str) -> Result<Option<u8>, VerifyError> {
    extension(cert, oid)
        .map(|der| {
            u8::from_der(der).map_err(|e| {
                VerifyError::malformed_by(
                    format!("the VEK's {name} extension is not a small integer"),
                    e,
                )
            })
        })
        .transpose()
}

/// Reads the extensions; `with_fmc` says the product has an FMC SPL.
pub fn read(cert: &Certificate, with_fmc: bool) -> Result<VekExtensions, VerifyError> {
    let required = |oid, name: &str| -> Result<u8, VerifyError> {
        spl(cert, oid, name)?
            .ok_or_else(|| VerifyError::malformed(format!("the VEK has no {name} extension")))
    };
    let fmc = if with_fmc {
        Some(required(FMC_SPL, "fmcSPL")?)
    } else {
        None
    };
    let product_name = extension(cert, PRODUCT_NAME)
        .map(|der| {
            Ia5String::from_der(der)
                .map(|s| s.to_string())
                .map_err(|e| VerifyError::malformed_by("the VEK's productName is not IA5 text", e))
        })
        .transpose()?;
    Ok(VekExtensions {
        product_name,
        tcb: Tcb {
            fmc,
            bootloader: required(BL_SPL, "blSPL")?,
            tee: required(TEE_SPL, "teeSPL")?,
            snp: required(SNP_SPL, "snpSPL")?,
            microcode: required(UCODE_SPL, "ucodeSPL")?,
        },
        hw_id: extension(cert, HW_ID).map(<[u8]>::to_vec),
    })
}
