//! A Lit devnet that runs the attested-release Lit Action (under Node, as Lit's nodes run it),
//! a dev PKI and a measurement policy for a dev "image" naming its root, and the producer whose
//! evidence the action accepts.

use std::sync::Arc;

use aip_attestation::clock;
use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{BoundKeys, EvidenceProducer, MeasurementPolicy};
use aip_enclave::release::{EnclaveIdentity, LitNetwork, ReleaseKey};
use aip_host::metrics::HostMetrics;
use aip_host::proxy::{serve_egress, EgressAllowlist};
use aip_lit::conditions::{attested_release, Conditions};
use aip_wire::{Endpoint, Listener};

use aip_enclave::config::EgressTlsConfig;
use aip_enclave::egress_json::Egress;
use aip_tests::devnet::{host_port, DevnetCa, LitDevnet};
use aip_tests::service::consecutive_free_ports;

pub struct World {
    pub dir: std::path::PathBuf,
    pub producer: Arc<DevProducer>,
    pub net: LitDevnet,
    /// The dev image's policy, naming the world's dev root.
    pub policy: MeasurementPolicy,
}

pub const IMAGE: &[u8] = b"aip-enclave image";
/// The configuration identity the world's policy pins (the enclave's own is computed from
/// its configuration; these tests bind this one).
pub const CONFIG_IDENTITY: [u8; 32] = [9; 32];

/// The world's measurement policy: the dev image, pinning [`CONFIG_IDENTITY`], trusting the
/// dev root `root_pem` (as a dev deployment's policy does).
pub fn policy_toml(root_pem: &str) -> String {
    let bank = PcrBank::for_image(IMAGE, b"aip-enclave");
    let pcr = |i: usize| hex::encode(bank.get(i).unwrap());
    format!(
        "dev_root = \"\"\"\n{root_pem}\"\"\"\n[[nitro]]\nname = \"dev enclave\"\npcr0 = \"{}\"\npcr1 = \"{}\"\npcr2 = \"{}\"\nconfig = \"{}\"\n",
        pcr(0),
        pcr(1),
        pcr(2),
        hex::encode(CONFIG_IDENTITY)
    )
}

impl World {
    /// The allowed sets the enclave sends (the policy's canonical JSON).
    pub fn allowed_sets(&self) -> String {
        self.policy.canonical_json()
    }

    /// What an enclave of this world binds as its configuration.
    pub fn bound_config(&self) -> [u8; 32] {
        aip_attestation::bound_config_digest(&CONFIG_IDENTITY, &self.policy.allowed_sets_sha256())
    }

    /// The attested-release condition for this world's allowed sets.
    pub fn condition(&self) -> Conditions {
        attested_release(
            self.net.attested_release["actionCid"].as_str().unwrap(),
            &self.policy.allowed_sets_sha256_hex(),
        )
    }

    /// An enclave identity with a fresh release key, placeholder TLS and signing keys, and the
    /// world's configuration binding.
    pub fn enclave_identity(&self, producer: Arc<dyn EvidenceProducer>) -> EnclaveIdentity {
        let release_key = Arc::new(ReleaseKey::generate());
        let keys = BoundKeys {
            tls_spki_der: b"tls spki".to_vec(),
            signing_public_key: [7; 32],
            release_address: release_key.address(),
            config_sha256: self.bound_config(),
        };
        EnclaveIdentity::new(producer, keys, release_key)
    }

    /// The Lit network as the enclave sees it, through `egress`, with the world's condition.
    pub fn lit_network(&self, egress: Egress, nodes: Vec<(String, u16)>) -> LitNetwork {
        LitNetwork {
            egress,
            nodes,
            network_key: aip_lit::NetworkKey::from_hex(&self.net.network_public_key).unwrap(),
            threshold: self.net.threshold,
            conditions: self.condition(),
            allowed_sets: self.allowed_sets(),
            node_timeout: std::time::Duration::from_secs(10),
            max_price_wei: 0,
            reuse: Default::default(),
        }
    }
}

pub fn world(name: &str) -> World {
    world_on(name, |dir| LitDevnet::start_attested(dir, &[]))
}

/// A world whose three Lit nodes run in processes of their own, so that one can be restarted
/// or killed alone: the world's `net` is node 0's process, the others come beside it.
pub fn world_apart(name: &str) -> (World, Vec<LitDevnet>) {
    let mut others = Vec::new();
    let world = world_on(name, |dir| {
        let mut nodes = LitDevnet::start_attested_apart(dir, consecutive_free_ports(3));
        others = nodes.split_off(1);
        nodes.remove(0)
    });
    (world, others)
}

fn world_on(name: &str, start_lit: impl FnOnce(&std::path::Path) -> LitDevnet) -> World {
    let dir = std::env::temp_dir().join(format!("aip-attested-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pki = DevPki::load_or_create(&dir.join("pki"), clock::now()).unwrap();
    let policy_text = policy_toml(&pki.root_pem().unwrap());
    std::fs::write(dir.join("policy.toml"), &policy_text).unwrap();
    let policy = MeasurementPolicy::from_toml(&policy_text).unwrap();
    let bank = PcrBank::for_image(IMAGE, b"aip-enclave");
    let producer = Arc::new(DevProducer::new(pki, bank, "i-dev-attested"));
    let net = start_lit(&dir);
    assert_eq!(
        net.attested_release["actionCid"],
        aip_lit::action::attested_release_cid()
    );
    World {
        dir,
        producer,
        net,
        policy,
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
