#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The compiled-in AMD roots are the published ones, form valid chains, and issue the real
//! VCEKs in ../shared/testdata (Milan and Turin).

mod common;

use aip_attestation::snp::roots::{builtin, Product};
use sev::certs::snp::{Certificate as SevCertificate, Verifiable};
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

fn der_of_pem(relative: &str) -> Vec<u8> {
    Certificate::from_pem(common::read(relative))
        .unwrap()
        .to_der()
        .unwrap()
}

#[test]
fn builtin_roots_are_the_published_certificates() {
    let roots = builtin().unwrap();
    assert_eq!(
        roots.iter().map(|r| r.product).collect::<Vec<_>>(),
        Product::ALL.to_vec()
    );
    for r in &roots {
        let name = r.product.name().to_lowercase();
        assert_eq!(
            r.ark.to_der().unwrap(),
            der_of_pem(&format!("sev-snp/amd_ca/virtee_{name}_ark.pem"))
        );
        assert_eq!(
            r.ask.to_der().unwrap(),
            der_of_pem(&format!("sev-snp/amd_ca/virtee_{name}_ask.pem"))
        );
        let vlek_chain = String::from_utf8(common::read(&format!(
            "sev-snp/amd_ca/gosevguest_ask_ark_{name}_vlek.pem"
        )))
        .unwrap();
        let first = &vlek_chain[..vlek_chain.find("-----END CERTIFICATE-----").unwrap() + 25];
        assert_eq!(
            r.asvk.to_der().unwrap(),
            Certificate::from_pem(first.as_bytes())
                .unwrap()
                .to_der()
                .unwrap()
        );

        let ark = SevCertificate::from(r.ark.clone());
        (&ark, &ark).verify().unwrap();
        (&ark, &SevCertificate::from(r.ask.clone()))
            .verify()
            .unwrap();
        (&ark, &SevCertificate::from(r.asvk.clone()))
            .verify()
            .unwrap();
    }
}

#[test]
fn the_real_vceks_chain_to_their_products_ask_only() {
    let roots = builtin().unwrap();
    for (file, product) in [
        ("sev-snp/virtee_milan_vcek.der", Product::Milan),
        ("sev-snp/virtee_turin_vcek.der", Product::Turin),
        ("sev-snp/gosevguest_milan_vcek.der", Product::Milan),
    ] {
        let vcek = SevCertificate::from_der(&common::read(file)).unwrap();
        for r in &roots {
            let signed = (&SevCertificate::from(r.ask.clone()), &vcek)
                .verify()
                .is_ok();
            assert_eq!(
                signed,
                r.product == product,
                "{file} under the {:?} ASK",
                r.product
            );
        }
    }
}
