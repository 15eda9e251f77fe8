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

use aip_enclave::config::EgressTlsConfig;
use aip_enclave::egress_json::Egress;
use aip_tests::devnet::{host_port, DevnetCa, LitDevnet};

pub struct World {
    pub dir: std::path::PathBuf,
    pub producer: DevProducer,
    pub net: LitDevnet,
}

pub const IMAGE: &[u8] = b"aip-enclave image";
/// The configuration identity the world's policy pins (the enclave's own is computed from
/// its configuration; these tests bind this one).
pub const CONFIG_IDENTITY: [u8; 32] = [9; 32];

/// The world's measurement policy: the dev image, pinning [`CONFIG_IDENTITY`].
pub fn policy_toml() -> String {
    let bank = PcrBank::for_image(IMAGE, b"aip-enclave");
    let pcr = |i: usize| hex::encode(bank.get(i).unwrap());
    format!(
        "[[nitro]]\nname = \"dev enclave\"\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\nconfig = \"{}\"\n",
        pcr(0),
        pcr(1),
        pcr(2),
        hex::encode(CONFIG_IDENTITY)
    )
}

/// The policy's allowed-sets hash (what the condition names).
pub fn allowed_sets() -> [u8; 32] {
    aip_attestation::MeasurementPolicy::from_toml(&policy_toml())
        .unwrap()
        .allowed_sets_sha256()
}

/// What an enclave of this world binds as its configuration.
pub fn bound_config() -> [u8; 32] {
    aip_attestation::bound_config_digest(&CONFIG_IDENTITY, &allowed_sets())
}

pub fn world(name: &str) -> World {
    let dir = std::env::temp_dir().join(format!("aip-attested-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pki = DevPki::load_or_create(&dir.join("pki"), clock::now()).unwrap();
    std::fs::write(dir.join("dev-root.pem"), pki.root_pem().unwrap()).unwrap();
    std::fs::write(dir.join("policy.toml"), policy_toml()).unwrap();
    let bank = PcrBank::for_image(IMAGE, b"aip-enclave");
    let producer = DevProducer::new(pki, bank, "i-dev-attested");
    let net = LitDevnet::start_attested(&dir, &[]);
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
        &hex::encode(allowed_sets()),
    )
}

/// An enclave identity with fresh HPKE keys, placeholder TLS and signing keys, and the world's
/// configuration binding.
pub fn enclave_identity(producer: Arc<dyn EvidenceProducer>) -> EnclaveIdentity {
    let recipient = Arc::new(ShareRecipient::generate());
    EnclaveIdentity {
        producer,
        keys: BoundKeys {
            tls_spki_der: b"tls spki".to_vec(),
            signing_public_key: [7; 32],
            hpke_public_key: recipient.public_key(),
            config_sha256: bound_config(),
        },
        recipient,
    }
}

/// The devnet nodes as (host, port).
pub fn node_addresses(net: &LitDevnet) -> Vec<(String, u16)> {
    net.nodes
        .iter()
        .map(|url| {
            let (host, port) = host_port(url).rsplit_once(':').unwrap();
            (host.to_owned(), port.parse().unwrap())
        })
        .collect()
}

/// The host's egress proxy on a Unix socket under `dir`, allowing exactly `allowed`, with the
/// enclave's TLS trusting the devnet CA of `dir` (as `world` made it).
pub async fn host_egress(dir: &std::path::Path, name: &str, allowed: &[(String, u16)]) -> Egress {
    host_egress_trusting(dir, name, allowed, &devnet_ca(dir).pem).await
}

/// As [`host_egress`], with the enclave's TLS trusting only the CA `ca_pem`.
pub async fn host_egress_trusting(
    dir: &std::path::Path,
    name: &str,
    allowed: &[(String, u16)],
    ca_pem: &str,
) -> Egress {
    let endpoint = Endpoint::Unix(dir.join(format!("{name}.sock")));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let allowlist = EgressAllowlist::new(allowed.iter().map(|(h, p)| format!("{h}:{p}")));
    tokio::spawn(serve_egress(
        listener,
        Arc::new(allowlist),
        HostMetrics::new(),
    ));
    let trust = EgressTlsConfig {
        web_pki: false,
        ca_pem: Some(ca_pem.to_owned()),
    };
    Egress::new(endpoint, &trust).unwrap()
}

/// The devnets' CA of a world in `dir`.
pub fn devnet_ca(dir: &std::path::Path) -> DevnetCa {
    DevnetCa::in_dir(&dir.join("devnet-tls"))
}
