//! AMD's root (ARK) and intermediate keys (ASK for VCEKs, ASVK for VLEKs) per product,
//! compiled in. Reports are verified only against these.

use serde::Serialize;
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

use crate::error::VerifyError;

/// The EPYC generations whose roots are built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Product {
    Milan,
    Genoa,
    Turin,
}

impl Product {
    pub const ALL: [Product; 3] = [Product::Milan, Product::Genoa, Product::Turin];

    /// The product name as the VEK's productName extension starts with it.
    pub fn name(self) -> &'static str {
        match self {
            Product::Milan => "Milan",
            Product::Genoa => "Genoa",
            Product::Turin => "Turin",
        }
    }

    /// Turin and later encode the TCB with an FMC field and a different byte order.
    pub fn has_fmc(self) -> bool {
        matches!(self, Product::Turin)
    }

    fn pems(self) -> [&'static [u8]; 3] {
        match self {
            Product::Milan => [
                include_bytes!("../../roots/sev-snp/milan_ark.pem"),
                include_bytes!("../../roots/sev-snp/milan_ask.pem"),
                include_bytes!("../../roots/sev-snp/milan_asvk.pem"),
            ],
            Product::Genoa => [
                include_bytes!("../../roots/sev-snp/genoa_ark.pem"),
                include_bytes!("../../roots/sev-snp/genoa_ask.pem"),
                include_bytes!("../../roots/sev-snp/genoa_asvk.pem"),
            ],
            Product::Turin => [
                include_bytes!("../../roots/sev-snp/turin_ark.pem"),
                include_bytes!("../../roots/sev-snp/turin_ask.pem"),
                include_bytes!("../../roots/sev-snp/turin_asvk.pem"),
            ],
        }
    }
}

/// One product's ARK, ASK and ASVK.
#[derive(Debug, Clone)]
pub struct ProductRoots {
    pub product: Product,
    pub ark: Certificate,
    pub ask: Certificate,
    pub asvk: Certificate,
}

/// The compiled-in roots of every product.
pub fn builtin() -> Result<Vec<ProductRoots>, VerifyError> {
    Product::ALL
        .iter()
        .map(|&product| {
            let [ark, ask, asvk] = product.pems().map(Certificate::from_pem);
            let bad =
                |e| VerifyError::malformed_by(format!("the built-in {} roots", product.name()), e);
            Ok(ProductRoots {
                product,
                ark: ark.map_err(bad)?,
                ask: ask.map_err(bad)?,
                asvk: asvk.map_err(bad)?,
            })
        })
        .collect()
}
