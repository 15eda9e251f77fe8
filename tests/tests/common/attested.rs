//! A Lit devnet that evaluates the attested-release condition natively, with a dev PKI and a
//! measurement policy for a dev "image", and the producer whose evidence it accepts.

use std::sync::Arc;

use aip_attestation::clock;
use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{BoundKeys, EvidenceProducer};
use aip_enclave::release::EnclaveIdentity;
use aip_host::metrics::HostMetrics;
use aip_host::proxy::{serve_egress, EgressAllowlist};
use aip_lit::conditions::{attested_release, Conditions};
use aip_lit::sealed::ShareRecipient;
use aip_wire::{Endpoint, Listener};

use aip_tests::devnet::LitDevnet;

pub struct World {
    pub dir: std::path::PathBuf,
    pub producer: DevProducer,
    pub net: LitDevnet,
}

pub const IMAGE: &[u8] = b"aip-enclave image";

pub fn world(name: &str) -> World {
    let dir = std::env::temp_dir().join(format!("aip-attested-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pki = DevPki::load_or_create(&dir.join("pki"), clock::now()).unwrap();
    std::fs::write(dir.join("dev-root.pem"), pki.root_pem().unwrap()).unwrap();
    let bank = PcrBank::for_image(IMAGE, b"aip-enclave");
    let pcr = |i: usize| hex::encode(bank.get(i).unwrap());
    let policy = format!(
        "[[nitro]]\nname = \"dev enclave\"\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\n",
        pcr(0),
        pcr(1),
        pcr(2)
    );
    std::fs::write(dir.join("policy.toml"), &policy).unwrap();
    let producer = DevProducer::new(pki, bank, "i-dev-attested");
    let net = LitDevnet::start_attested(&dir, &[]);
    let local = aip_attestation::MeasurementPolicy::from_toml(&policy).unwrap();
    assert_eq!(
        net.attested_release["allowedSetsSha256"],
        local.allowed_sets_sha256_hex()
    );
    assert_eq!(
        net.attested_release["actionCid"],
        aip_lit::action::attested_release_cid()
    );
    World { dir, producer, net }
}

pub fn condition(w: &World) -> Conditions {
    condition_of(&w.net)
}

/// The attested-release condition the devnet evaluates.
pub fn condition_of(net: &LitDevnet) -> Conditions {
    attested_release(
        net.attested_release["actionCid"].as_str().unwrap(),
        net.attested_release["allowedSetsSha256"].as_str().unwrap(),
    )
}

/// An enclave identity with fresh HPKE keys and placeholder TLS, signing and config values.
pub fn enclave_identity(producer: Arc<dyn EvidenceProducer>) -> EnclaveIdentity {
    let recipient = Arc::new(ShareRecipient::generate());
    EnclaveIdentity {
        producer,
        keys: BoundKeys {
            tls_spki_der: b"tls spki".to_vec(),
            signing_public_key: [7; 32],
            hpke_public_key: recipient.public_key(),
            config_sha256: [9; 32],
        },
        recipient,
    }
}

/// The devnet nodes as (host, port).
pub fn node_addresses(net: &LitDevnet) -> Vec<(String, u16)> {
    net.nodes
        .iter()
        .map(|url| {
            let (host, port) = url
                .strip_prefix("http://")
                .unwrap()
                .rsplit_once(':')
                .unwrap();
            (host.to_owned(), port.parse().unwrap())
        })
        .collect()
}

/// The host's egress proxy on a Unix socket under `dir`, allowing exactly `allowed`.
pub async fn host_egress(dir: &std::path::Path, name: &str, allowed: &[(String, u16)]) -> Endpoint {
    let endpoint = Endpoint::Unix(dir.join(format!("{name}.sock")));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let allowlist = EgressAllowlist::new(allowed.iter().map(|(h, p)| format!("{h}:{p}")));
    tokio::spawn(serve_egress(
        listener,
        Arc::new(allowlist),
        HostMetrics::new(),
    ));
    endpoint
}
