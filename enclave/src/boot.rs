//! Boot as a fail-closed state machine (after tkhq/qos): every stage must succeed before the
//! next starts, and the API is served only after all of them did. A failure stops the boot
//! with the stage and the reason; nothing is served half-initialized.
//!
//! LoadConfig -> GenerateKeys -> Attest -> StateKey -> LoadState -> Serve

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aip_attestation::{BoundKeys, EvidenceProducer};
use aip_lit::conditions::attested_release;
use aip_lit::NetworkKey;
use aip_wire::process::error_chain;
use aip_wire::{Endpoint, Listener};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use rustls::ServerConfig;
use serde_json::json;

use crate::api::agent_keys::KEY_RECORD_PREFIX;
use crate::api::keys::{KeyRecord, KeyRing};
use crate::api::state::{ApiState, Attestation};
use crate::api::tls::TlsIdentity;
use crate::chain::{RpcQuorum, SolanaRpc};
use crate::config::{EnclaveConfig, MeasuredConfig};
use crate::egress_json::Egress;
use crate::ledger::Ledger;
use crate::metrics::EnclaveMetrics;
use crate::payments::analytics::Analytics;
use crate::payments::payer::load_or_create_fee_payer;
use crate::payments::registry::Accounts;
use crate::payments::release_batch::ReleaseBatches;
use crate::payments::Payer;
use crate::release::{EnclaveIdentity, LitNetwork, ReleaseKey};
use crate::state::host_store::HostStore;
use crate::state::sealed::{open, StateKey};
use crate::state::state_key::derive_state_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    LoadConfig,
    GenerateKeys,
    Attest,
    StateKey,
    LoadState,
    Serve,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::LoadConfig => "load_config",
            Stage::GenerateKeys => "generate_keys",
            Stage::Attest => "attest",
            Stage::StateKey => "state_key",
            Stage::LoadState => "load_state",
            Stage::Serve => "serve",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("boot stopped at {stage}: {reason}")]
pub struct BootError {
    pub stage: Stage,
    pub reason: String,
}

fn at<E: std::error::Error>(stage: Stage) -> impl FnOnce(E) -> BootError {
    move |error| BootError {
        stage,
        reason: error_chain(&error),
    }
}

fn enter(stage: Stage) {
    tracing::info!(%stage, "boot stage");
}

/// Everything needed to serve.
#[derive(Debug)]
pub struct Booted {
    pub api: Arc<ApiState>,
    pub tls: Arc<ServerConfig>,
    pub ingress: Endpoint,
    /// The host's control channel (a second connection reports metrics).
    pub control: Endpoint,
}

/// Runs the stages up to serving. `producer_for` picks the evidence source for the
/// configured platform (the binary decides what this build may offer).
pub async fn boot(
    config_text: &str,
    producer_for: impl FnOnce(&EnclaveConfig) -> Result<Arc<dyn EvidenceProducer>, String>,
) -> Result<Booted, BootError> {
    enter(Stage::LoadConfig);
    let measured = MeasuredConfig::from_toml(config_text).map_err(at(Stage::LoadConfig))?;
    let config = &measured.config;

    enter(Stage::GenerateKeys);
    let tls = TlsIdentity::generate(&config.server_name).map_err(at(Stage::GenerateKeys))?;
    let signing = SigningKey::generate(&mut OsRng);
    let release_key = Arc::new(ReleaseKey::generate());
    // Public: the address Lit charges releases to (a payer delegates to it; docs/lit.md).
    tracing::info!(
        release_address = %aip_lit::siwe::checksummed(&release_key.address()),
        "release key made"
    );
    let keys = BoundKeys {
        tls_spki_der: tls.spki_der().to_vec(),
        signing_public_key: signing.verifying_key().to_bytes(),
        release_address: release_key.address(),
        config_sha256: measured.sha256,
    };

    enter(Stage::Attest);
    let producer = producer_for(config).map_err(|reason| BootError {
        stage: Stage::Attest,
        reason,
    })?;
    if producer.platform() != config.platform {
        return Err(BootError {
            stage: Stage::Attest,
            reason: format!(
                "the configuration says {} but this build's evidence is {}",
                config.platform,
                producer.platform()
            ),
        });
    }
    // A device that cannot attest now would fail every release later: find out first.
    let mut probe = [0u8; 32];
    OsRng.fill_bytes(&mut probe);
    let (probe_producer, probe_keys) = (Arc::clone(&producer), keys.clone());
    tokio::task::spawn_blocking(move || probe_producer.produce(&probe_keys, &probe))
        .await
        .map_err(|_| BootError {
            stage: Stage::Attest,
            reason: "the evidence task stopped".into(),
        })?
        .map_err(at(Stage::Attest))?;

    enter(Stage::StateKey);
    let store = HostStore::new(config.transport.control.clone());
    let network_key =
        NetworkKey::from_hex(&config.lit.network_public_key).map_err(at(Stage::StateKey))?;
    let egress = Egress::new(config.transport.egress.clone(), &config.egress_tls)
        .map_err(at(Stage::StateKey))?;
    let lit = LitNetwork {
        egress: egress.clone(),
        nodes: config.lit_nodes(),
        network_key,
        threshold: config.lit.threshold,
        conditions: attested_release(
            &config.lit.action_cid,
            &config.lit.allowed_sets_sha256_hex(),
        ),
        allowed_sets: config.lit.allowed_sets.clone(),
        node_timeout: Duration::from_millis(config.lit.node_timeout_ms),
        max_price_wei: config.lit.max_price_wei,
        reuse: Arc::default(),
    };
    let me = EnclaveIdentity::new(Arc::clone(&producer), keys.clone(), release_key);
    let metrics = EnclaveMetrics::new();
    let started = std::time::Instant::now();
    let state_key = derive_state_key(&lit, &me, &config.deployment)
        .await
        .map_err(at(Stage::StateKey))?;
    metrics.observe_lit(started.elapsed());
    tracing::info!(deployment = %config.deployment, "state key ready");

    enter(Stage::LoadState);
    let mut ring = load_keys(&store, &state_key)
        .await
        .map_err(|reason| BootError {
            stage: Stage::LoadState,
            reason,
        })?;
    ring.pin_root(&config.root_api_key_sha256);
    let ledger = Ledger::load(&store, &state_key)
        .await
        .map_err(at(Stage::LoadState))?;
    let server_config = tls
        .server_config(&config.operator_ca_pem)
        .map_err(at(Stage::LoadState))?;
    let accounts = Accounts::load(&store, &state_key)
        .await
        .map_err(at(Stage::LoadState))?;
    let analytics = rebuild_analytics(&store, &state_key, &ledger)
        .await
        .map_err(at(Stage::LoadState))?;
    let payer = match config.solana_rpc() {
        None => None,
        Some(endpoints) => {
            let solana = config.solana.as_ref().ok_or_else(|| BootError {
                stage: Stage::LoadState,
                reason: "solana configuration vanished".into(),
            })?;
            let fee_payer = load_or_create_fee_payer(&store, &state_key)
                .await
                .map_err(at(Stage::LoadState))?;
            tracing::info!(fee_payer = %fee_payer.address(), "payments enabled");
            Some(Payer {
                lit,
                me,
                rpc: RpcQuorum {
                    endpoints: endpoints
                        .into_iter()
                        .map(|(host, port)| SolanaRpc {
                            egress: egress.clone(),
                            host,
                            port,
                            timeout: Duration::from_millis(solana.rpc_timeout_ms),
                        })
                        .collect(),
                    quorum: solana.rpc_quorum,
                    page: solana.history_page_size,
                },
                fee_payer,
                usdc_mints: solana
                    .usdc_mints
                    .iter()
                    .filter_map(|m| m.parse().ok())
                    .collect(),
                compute_unit_price: solana.compute_unit_price_micro_lamports,
                max_compute_unit_price: solana.max_compute_unit_price_micro_lamports,
                fee_payer_lamports_per_day: solana.fee_payer_lamports_per_day,
                x402_network: solana.x402_network.clone(),
                fee_budget: tokio::sync::Mutex::new(()),
                releases: ReleaseBatches::new(config.lit.payments_per_release),
            })
        }
    };
    let api = Arc::new(
        ApiState::new(
            ring,
            config.max_body_bytes,
            store,
            state_key,
            ledger,
            signing,
            Attestation { producer, keys },
            metrics,
        )
        .with_payments(accounts, payer, analytics),
    );
    api.record(
        "enclave_booted",
        &json!({
            "platform": config.platform.to_string(),
            "deployment": config.deployment,
            "tls_spki_sha256": hex::encode(tls.spki_sha256()),
            "signing_public_key": hex::encode(api.ledger.public_key()),
            "config_sha256": hex::encode(measured.sha256),
        }),
    )
    .await
    .map_err(|e| BootError {
        stage: Stage::LoadState,
        reason: e.message,
    })?;
    Ok(Booted {
        api,
        tls: server_config,
        ingress: config.transport.ingress.clone(),
        control: config.transport.control.clone(),
    })
}

async fn load_keys(store: &HostStore, state_key: &StateKey) -> Result<KeyRing, String> {
    let mut ring = KeyRing::default();
    for entry in store
        .list(KEY_RECORD_PREFIX)
        .await
        .map_err(|e| error_chain(&e))?
    {
        let (version, sealed) = store
            .get(&entry.key)
            .await
            .map_err(|e| error_chain(&e))?
            .ok_or_else(|| format!("{} vanished while loading", entry.key))?;
        let bytes = open(state_key, &entry.key, version, &sealed).map_err(|e| error_chain(&e))?;
        let record: KeyRecord = serde_json::from_slice(&bytes)
            .map_err(|_| format!("{} is not a key record", entry.key))?;
        ring.insert(record);
    }
    Ok(ring)
}

/// Payments by agent, from the ledger's entries.
async fn rebuild_analytics(
    store: &HostStore,
    state_key: &StateKey,
    ledger: &Ledger,
) -> Result<Analytics, crate::ledger::LedgerStoreError> {
    const PAGE: u64 = 1000;
    let mut analytics = Analytics::default();
    let mut from = 1;
    while from <= ledger.seq {
        for entry in ledger.export(store, state_key, from, PAGE).await? {
            analytics.add_entry(&entry);
        }
        from += PAGE;
    }
    Ok(analytics)
}

/// How often usage is reconciled with the chain after the first time (at serve).
const RECONCILE_EVERY: Duration = Duration::from_secs(60);
/// How often keys that pay fast are reconciled between full rounds (`reconcile::BUSY_RECORDS`):
/// what a round passes folds, so a busy key's record, written whole with each group of
/// changes, holds about this long of payments (at 1 s the signer spent a quarter more CPU per
/// payment at 150 payments/s).
const RECONCILE_BUSY_EVERY: Duration = Duration::from_millis(250);
/// How often the full round is retried until payments open.
const RECONCILE_RETRY_EVERY: Duration = Duration::from_secs(1);
/// How often signed payments are looked up until they land or expire (a blockhash lives
/// about a minute, so a dropped transaction is re-sent several times while it can land).
const TRACK_EVERY: Duration = Duration::from_secs(2);

/// Serves the API on the ingress endpoint until the listener fails.
pub async fn serve(booted: Booted) -> Result<(), BootError> {
    enter(Stage::Serve);
    let listener = Listener::bind(&booted.ingress)
        .await
        .map_err(at(Stage::Serve))?;
    // From here on the log lines go to the host over the control channel.
    crate::log_shipping::LOG_QUEUE.start_shipping();
    tokio::spawn(crate::log_shipping::ship(
        Arc::new(HostStore::new(booted.control.clone())),
        Duration::from_millis(500),
    ));
    tracing::info!(ingress = %booted.ingress, "serving; log lines go to the host");
    let reporter = Arc::new(HostStore::new(booted.control.clone()));
    tokio::spawn(crate::metrics::report(
        Arc::clone(&booted.api.metrics),
        Arc::clone(&booted.api.clock),
        reporter,
        Duration::from_secs(2),
    ));
    if booted.api.payments.payer.is_some() {
        tokio::spawn(crate::payments::reconcile::keep_reconciled(
            Arc::clone(&booted.api.payments),
            RECONCILE_EVERY,
            RECONCILE_BUSY_EVERY,
            RECONCILE_RETRY_EVERY,
        ));
        tokio::spawn(crate::payments::track::keep_tracked(
            Arc::clone(&booted.api.payments),
            TRACK_EVERY,
        ));
    }
    let router = crate::api::routes::router(booted.api);
    crate::api::server::serve(listener, booted.tls, router)
        .await
        .map_err(at(Stage::Serve))
}
