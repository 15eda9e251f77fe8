//! The enclave's API in-process over real sockets: a host store on a control socket, a ledger
//! with a few entries, dev attestation, TLS on a Unix ingress socket.

use std::sync::Arc;

use aip_attestation::dev::{DevPki, DevProducer, PcrBank};
use aip_attestation::{clock, BoundKeys};
use aip_client::tls::pinned_config;
use aip_client::tls::{Issued, OperatorCa};
use aip_enclave::api::keys::KeyRing;
use aip_enclave::api::routes::router;
use aip_enclave::api::server::serve;
use aip_enclave::api::state::{ApiState, Attestation};
use aip_enclave::api::tls::TlsIdentity;
use aip_enclave::ledger::Ledger;
use aip_enclave::state::host_store::HostStore;
use aip_enclave::state::sealed::StateKey;
use aip_tests::unix_now;
use aip_wire::{Endpoint, Listener};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use rustls::ClientConfig;

pub struct Api {
    pub dir: std::path::PathBuf,
    pub endpoint: Endpoint,
    pub state: Arc<ApiState>,
    pub tls: TlsIdentity,
    pub operator: OperatorCa,
    pub client: Issued,
    pub dev_root_pem: String,
    /// A copy of the enclave's signing key, to forge what only the enclave could sign.
    pub ledger_key: SigningKey,
}

impl Api {
    /// A client configuration with the operator-issued client certificate.
    pub fn config(&self) -> Arc<ClientConfig> {
        pinned_config(
            self.tls.spki_sha256(),
            Some((&self.client.certificate_pem, &self.client.key_pem)),
        )
        .unwrap()
    }
}

/// Starts the API with `keys` and a ledger of `entries` entries.
pub async fn start(name: &str, keys: KeyRing, entries: u64) -> Api {
    let dir = std::env::temp_dir().join(format!("aip-api-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (control, _) = super::host::control_channel(&dir).await;
    let store = HostStore::new(control);
    let state_key = StateKey::generate();
    let mut ledger = Ledger::load(&store, &state_key).await.unwrap();
    for i in 0..entries {
        ledger
            .append(&store, &state_key, i, "test", "{}")
            .await
            .unwrap();
    }
    let tls = TlsIdentity::generate("localhost").unwrap();
    let signing = SigningKey::generate(&mut OsRng);
    let pki = DevPki::ephemeral(clock::now()).unwrap();
    let dev_root_pem = pki.root_pem().unwrap();
    let producer = DevProducer::new(
        pki,
        PcrBank::for_image(b"api test image", b"aip-enclave"),
        "i-api",
    );
    let keys_bound = BoundKeys {
        tls_spki_der: tls.spki_der().to_vec(),
        signing_public_key: signing.verifying_key().to_bytes(),
        release_address: [3; 20],
        config_sha256: [4; 32],
    };
    let state = Arc::new(ApiState::new(
        keys,
        64 * 1024,
        store,
        state_key,
        ledger,
        signing.clone(),
        Attestation {
            producer: Arc::new(producer),
            keys: keys_bound,
        },
        aip_enclave::metrics::EnclaveMetrics::new(),
    ));
    let operator = OperatorCa::generate("operator").unwrap();
    let endpoint = Endpoint::Unix(dir.join("ingress.sock"));
    let listener = Listener::bind(&endpoint).await.unwrap();
    let server_config = tls.server_config(operator.certificate_pem()).unwrap();
    tokio::spawn(serve(listener, server_config, router(Arc::clone(&state))));
    let client = operator
        .issue_client("backend", unix_now() - 60, unix_now() + 3600)
        .unwrap();
    Api {
        dir,
        endpoint,
        state,
        tls,
        operator,
        client,
        dev_root_pem,
        ledger_key: signing,
    }
}
