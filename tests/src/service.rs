//! The whole local stack as real processes: the Lit devnet (attested release, trusting this
//! stack's dev root), `aip-host` with its SQLite store, egress allowlist and metrics, and the
//! `aip-enclave` process it supervises (dev attestation measuring its own executable).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aip_client::tls::{Issued, OperatorCa};
use aip_wire::Endpoint;

use crate::devnet::{host_port, DevnetCa, LitDevnet, RpcRelay, SolanaDevnet};
use crate::hostile::HostileControl;
use crate::lying_rpc::LyingRpc;
use crate::unix_now;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The service binaries (`aip-host`, `aip-enclave` with dev attestation, `aip-attest`,
/// `aipctl`),
/// built once per test process; `cargo build` is a no-op when they are fresh. Debug builds,
/// or the `perf` profile (optimised, debug assertions kept so the dev attestation compiles)
/// when `AIP_BUILD_PROFILE=perf` (scripts/bench-payments); or, with `AIP_BINARIES_DIR`,
/// the binaries already there, unbuilt.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub host: PathBuf,
    pub enclave: PathBuf,
    pub attest: PathBuf,
    pub aipctl: PathBuf,
}

pub fn binaries() -> Binaries {
    static BUILT: Mutex<Option<Binaries>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(binaries) = built.as_ref() {
        return binaries.clone();
    }
    if let Some(dir) = std::env::var_os("AIP_BINARIES_DIR").map(PathBuf::from) {
        // Prebuilt binaries (a long soak keeps running the ones it started with while the
        // working tree changes).
        let binaries = Binaries {
            host: dir.join("aip-host"),
            enclave: dir.join("aip-enclave"),
            attest: dir.join("aip-attest"),
            aipctl: dir.join("aipctl"),
        };
        *built = Some(binaries.clone());
        return binaries;
    }
    let root = repo_root();
    let profile = std::env::var("AIP_BUILD_PROFILE").unwrap_or_else(|_| "dev".into());
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args([
            "build",
            "-q",
            "--profile",
            &profile,
            "-p",
            "aip-host",
            "-p",
            "aip-enclave",
            "-p",
            "aip-attestation",
            "-p",
            "aip-client",
            "--features",
            "aip-enclave/dev",
            "--bins",
        ])
        .status()
        .expect("run cargo build for the service binaries");
    assert!(status.success(), "building the service binaries failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join(if profile == "dev" { "debug" } else { &profile });
    let binaries = Binaries {
        host: target.join("aip-host"),
        enclave: target.join("aip-enclave"),
        attest: target.join("aip-attest"),
        aipctl: target.join("aipctl"),
    };
    *built = Some(binaries.clone());
    binaries
}

/// `count` (at most [`PORT_BLOCK`]) consecutive loopback ports that were free a moment ago,
/// for a service that is told its ports (the host; the Lit devnet, whose nodes listen on a base
/// port and the next ones, so that a restarted network keeps its addresses).
///
/// They come from below the kernel's ephemeral range (32768 and up on Linux): a port picked
/// there, released, and bound again later by the service can be taken meanwhile by any
/// outgoing connection's source port or any `bind(0)` (a CI run once lost the host's metrics
/// port that way). Ports are handed out in blocks, from a start that depends on the process id
/// so that test binaries do not start on the same block, and each block once per process.
pub fn consecutive_free_ports(count: u16) -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 10_000;
    const BLOCKS: u32 = (32_768 - FIRST) / PORT_BLOCK as u32;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    assert!(
        count <= PORT_BLOCK,
        "at most {PORT_BLOCK} consecutive ports"
    );
    let start = std::process::id().wrapping_mul(7_919) % BLOCKS;
    for _ in 0..BLOCKS {
        let block = start.wrapping_add(NEXT.fetch_add(1, Ordering::SeqCst)) % BLOCKS;
        let first = u16::try_from(FIRST + block * u32::from(PORT_BLOCK)).expect("below 32768");
        if (0..count).all(|i| TcpListener::bind(("127.0.0.1", first + i)).is_ok()) {
            return first;
        }
    }
    panic!("no {count} consecutive free ports on loopback below 32768");
}

/// Ports per block [`consecutive_free_ports`] hands out.
const PORT_BLOCK: u16 = 4;

/// The stack's Lit network on ports from `port_base`, with `extra` arguments (faults).
fn start_lit(dir: &Path, port_base: u16, extra: &[&str]) -> LitDevnet {
    let base = port_base.to_string();
    let mut args = vec!["--port-base", base.as_str()];
    args.extend_from_slice(extra);
    LitDevnet::start_attested(dir, &args)
}

/// A loopback port that was free a moment ago ([`consecutive_free_ports`]).
fn free_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], consecutive_free_ports(1)))
}

fn output(command: &mut Command) -> String {
    let out = command.output().expect("run a service binary");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The host's `/metrics` text (empty if it does not answer).
pub fn host_metrics(address: std::net::SocketAddr) -> String {
    ureq::get(&format!("http://{address}/metrics"))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default()
}

/// The value of the sample whose line starts with `name` (labels included, then a space).
pub fn metric(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
    })
}

/// What a stack is started with.
#[derive(Debug, Clone, Copy)]
pub struct StackOptions {
    /// Lit nodes on the host's egress allowlist (the first ones are left out).
    pub allowed_nodes: usize,
    /// Start the Solana devnet and let the enclave pay on it.
    pub solana: bool,
    /// Extra `aip-devnet lit` arguments (faults: `--down I`, `--wrong I`).
    pub lit_args: &'static [&'static str],
    /// Put a hostile host ([`HostileControl`]) between the enclave and the host's control
    /// channel.
    pub hostile: bool,
    /// Signatures per history page in the enclave's chain reconciliation.
    pub history_page_size: usize,
    /// Put a [`LyingRpc`] in front of every RPC endpoint (honest until told otherwise).
    pub lying_rpc: bool,
    /// RPC endpoints over the one devnet chain; the enclave's quorum is two of them (the
    /// least it accepts). Not used with `split_processes` (three relays).
    pub rpc_endpoints: usize,
    /// Extra lines for the enclave configuration's `[solana]` section.
    pub solana_config: &'static str,
    /// The host serves the enclave its configuration (`serve --config-from`), as on Nitro.
    pub config_from_host: bool,
    /// Every Lit node in a process of its own ([`Stack::lit_nodes`]) and every RPC endpoint a
    /// relay process of its own in front of the chain ([`Stack::rpc_relays`], three, quorum
    /// two), so each can be killed alone (scripts/soak). Lit faults (`lit_args`) are not
    /// applied.
    pub split_processes: bool,
    /// The enclave's `lit.payments_per_release` (its default when `None`).
    pub payments_per_release: Option<usize>,
}

/// The allowed-sets hash a stack's configuration holds until its policy exists.
/// The allowed sets in the configuration until the policy that pins it exists.
const UNPINNED_SETS: &str = r#"{"entries":[]}"#;

/// RPC endpoints the Solana devnet serves for a stack by default (all over one chain); the
/// enclave's quorum is all of them.
pub const RPC_ENDPOINTS: usize = 2;

/// The enclave's RPC quorum in every stack: the least its configuration accepts.
const RPC_QUORUM: usize = 2;

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            allowed_nodes: 3,
            solana: false,
            lit_args: &[],
            hostile: false,
            history_page_size: 1000,
            lying_rpc: false,
            rpc_endpoints: RPC_ENDPOINTS,
            solana_config: "",
            config_from_host: false,
            split_processes: false,
            payments_per_release: None,
        }
    }
}

/// The USDC mint the Solana devnet creates (at the mainnet address).
pub const DEVNET_USDC_MINT: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

/// A running stack; everything is stopped on drop.
#[derive(Debug)]
pub struct Stack {
    pub dir: PathBuf,
    pub lit: Option<LitDevnet>,
    /// With `split_processes`: one process per Lit node, in node order (`lit` is `None`).
    pub lit_nodes: Vec<LitDevnet>,
    /// With `split_processes`: the RPC endpoints the enclave is configured with.
    pub rpc_relays: Vec<RpcRelay>,
    /// The CA the devnets serve HTTPS under (the enclave's egress trusts it).
    pub devnet_ca: DevnetCa,
    lit_port_base: u16,
    pub solana: Option<SolanaDevnet>,
    host: Option<Child>,
    pub public: SocketAddr,
    pub metrics: SocketAddr,
    pub operator: OperatorCa,
    pub client: Issued,
    /// The operator's root API key (scope full), pinned in the enclave's configuration.
    pub root_api_key: zeroize::Zeroizing<String>,
    pub dev_root_pem: String,
    /// The allowed-sets hash of the stack's measurement policy (the condition names it).
    pub allowed_sets_sha256: String,
    pub binaries: Binaries,
    /// The hostile host on the control channel, when asked for.
    pub hostile: Option<HostileControl>,
    /// The RPC endpoints the enclave is configured with, when they are lying stand-ins.
    pub rpc_proxies: Vec<LyingRpc>,
}

impl Stack {
    pub fn start(name: &str, options: StackOptions) -> Stack {
        let binaries = binaries();
        let dir = std::env::temp_dir().join(format!("aip-stack-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let dev_pki = dir.join("dev-pki");
        let dev_root_pem = output(
            Command::new(&binaries.enclave)
                .arg("dev-root")
                .arg("--dev-pki")
                .arg(&dev_pki),
        );
        std::fs::write(dir.join("dev-root.pem"), &dev_root_pem).unwrap();
        // The Lit network first (the configuration names its nodes); its measurement policy,
        // which pins the configuration's identity, is written once the configuration is.
        let lit_port_base = consecutive_free_ports(3);
        let (lit, lit_nodes) = if options.split_processes {
            (None, LitDevnet::start_attested_apart(&dir, lit_port_base))
        } else {
            (
                Some(start_lit(&dir, lit_port_base, options.lit_args)),
                Vec::new(),
            )
        };
        let network = lit.as_ref().unwrap_or_else(|| &lit_nodes[0]);
        let operator = OperatorCa::generate("stack operator").unwrap();
        let root_api_key = aip_wire::api_key::generate();
        let client = operator
            .issue_client("backend", unix_now() - 60, unix_now() + 86_400)
            .unwrap();
        let (public, metrics) = (free_port(), free_port());
        let devnet_ca = DevnetCa::in_dir(&dir.join("devnet-tls"));
        let nodes: Vec<String> = network
            .nodes
            .iter()
            .map(|u| host_port(u).to_owned())
            .collect();
        let quote = |items: &[String]| {
            items
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sock = |name: &str| format!("unix:{}", dir.join(name).display());
        let hostile = options.hostile.then(|| {
            HostileControl::start(&dir.join("hostile-control.sock"), &dir.join("control.sock"))
        });
        let enclave_control = match &hostile {
            Some(_) => sock("hostile-control.sock"),
            None => sock("control.sock"),
        };
        let enclave_config = format!(
            "deployment = \"test-{name}\"\nroot_api_key_sha256 = \"{}\"\nserver_name = \"localhost\"\nplatform = \"dev\"\noperator_ca_pem = \"\"\"\n{}\"\"\"\n\n[transport]\ningress = \"{}\"\ncontrol = \"{}\"\negress = \"{}\"\n\n[egress_tls]\nca_pem = \"\"\"\n{}\"\"\"\n\n[lit]\nnetwork_public_key = \"{}\"\nthreshold = {}\nnodes = [{}]\naction_cid = \"{}\"\nallowed_sets = '''{}'''\nnode_timeout_ms = 15000\n",
            aip_wire::api_key::lookup_hex(&root_api_key),
            operator.certificate_pem(),
            sock("ingress.sock"),
            enclave_control,
            sock("egress.sock"),
            devnet_ca.pem,
            network.network_public_key,
            network.threshold,
            quote(&nodes),
            network.attested_release["actionCid"].as_str().unwrap(),
            UNPINNED_SETS,
        ) + &options
            .payments_per_release
            .map(|n| format!("payments_per_release = {n}\n"))
            .unwrap_or_default();
        let chain_endpoints = if options.split_processes {
            1
        } else {
            options.rpc_endpoints
        };
        let solana = options
            .solana
            .then(|| SolanaDevnet::start_quorum(&devnet_ca, chain_endpoints));
        let mut allowed = nodes[nodes.len() - options.allowed_nodes.min(nodes.len())..].to_vec();
        let mut enclave_config = enclave_config;
        let mut rpc_proxies = Vec::new();
        let mut rpc_relays = Vec::new();
        if let Some(solana) = &solana {
            let rpc: Vec<String> = if options.split_processes {
                rpc_relays = (0..3)
                    .map(|_| RpcRelay::start(host_port(&solana.urls[0])))
                    .collect();
                rpc_relays.iter().map(|r| r.listen.clone()).collect()
            } else if options.lying_rpc {
                rpc_proxies = solana
                    .urls
                    .iter()
                    .map(|u| LyingRpc::start(&devnet_ca, u))
                    .collect();
                rpc_proxies.iter().map(LyingRpc::host_port).collect()
            } else {
                solana
                    .urls
                    .iter()
                    .map(|u| host_port(u).to_owned())
                    .collect()
            };
            enclave_config.push_str(&format!(
                "\n[solana]\nrpc = [{}]\nrpc_quorum = {RPC_QUORUM}\nhistory_page_size = {}\nusdc_mints = [\"{DEVNET_USDC_MINT}\"]\n{}\n",
                quote(&rpc),
                options.history_page_size,
                options.solana_config,
            ));
            allowed.extend(rpc);
        }
        // The policy pins this configuration's identity (everything but the allowed sets) and
        // names the dev root, then the configuration carries the policy's allowed sets.
        std::fs::write(dir.join("enclave.toml"), &enclave_config).unwrap();
        let policy = output(
            Command::new(&binaries.enclave)
                .arg("dev-policy")
                .arg("--config")
                .arg(dir.join("enclave.toml"))
                .arg("--dev-pki")
                .arg(&dev_pki),
        );
        std::fs::write(dir.join("policy.toml"), &policy).unwrap();
        let policy = aip_attestation::MeasurementPolicy::from_toml(&policy).unwrap();
        let allowed_sets_sha256 = policy.allowed_sets_sha256_hex();
        let canonical = policy.canonical_json();
        assert!(
            !canonical.contains("'''"),
            "a TOML literal string holds the sets"
        );
        let enclave_config = enclave_config.replacen(UNPINNED_SETS, &canonical, 1);
        std::fs::write(dir.join("enclave.toml"), enclave_config).unwrap();
        let allowed = &allowed[..];
        let enclave_toml = dir.join("enclave.toml").display().to_string();
        let (config_args, served) = if options.config_from_host {
            let listen = sock("config.sock");
            (
                format!("\"--config-from\", \"{listen}\""),
                format!("config = {{ file = {enclave_toml:?}, listen = \"{listen}\" }}\n"),
            )
        } else {
            (format!("\"--config\", {enclave_toml:?}"), String::new())
        };
        let host_config = format!(
            "store = {:?}\n\n[listen]\npublic = \"{public}\"\ncontrol = \"{}\"\negress = \"{}\"\nmetrics = \"{metrics}\"\n\n[enclave]\ningress = \"{}\"\ncommand = [{:?}, \"serve\", {config_args}, \"--dev-pki\", {:?}]\n{served}\n[egress]\nallow = [{}]\n",
            dir.join("store.db").display().to_string(),
            sock("control.sock"),
            sock("egress.sock"),
            sock("ingress.sock"),
            binaries.enclave.display().to_string(),
            dev_pki.display().to_string(),
            quote(allowed),
        );
        std::fs::write(dir.join("host.toml"), host_config).unwrap();
        let mut stack = Stack {
            dir,
            lit,
            lit_nodes,
            rpc_relays,
            devnet_ca,
            lit_port_base,
            solana,
            host: None,
            public,
            metrics,
            operator,
            client,
            root_api_key,
            dev_root_pem,
            allowed_sets_sha256,
            binaries,
            hostile,
            rpc_proxies,
        };
        stack.start_host();
        stack
    }

    /// Starts `aip-host` (which starts the enclave); its log goes to `host.log` (appended).
    pub fn start_host(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("host.log"))
            .unwrap();
        let child = Command::new(&self.binaries.host)
            .arg("--config")
            .arg(self.dir.join("host.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start aip-host");
        self.host = Some(child);
    }

    /// Ctrl-C to the host (it stops the enclave first), then waits for it.
    pub fn stop_host(&mut self) {
        if let Some(mut child) = self.host.take() {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether `needle` appears in the host's log within `timeout`: the enclave's lines reach
    /// it over the control channel in batches (every half second).
    pub fn log_shows(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.host_log().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The host's PID while it runs.
    pub fn host_pid(&self) -> Option<u32> {
        self.host.as_ref().map(Child::id)
    }

    /// Waits (up to `timeout`) for the host process to exit; its exit status.
    pub fn wait_host_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.host.as_mut()?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.host = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The PID of the enclave process the host supervises (found by its configuration path).
    pub fn enclave_pid(&self) -> Option<u32> {
        let out = Command::new("pgrep")
            .arg("-f")
            .arg(format!("serve --config.*{}/", self.dir.display()))
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
    }

    /// Stops the whole Lit network (every node down).
    pub fn stop_lit(&mut self) {
        self.lit = None;
    }

    /// Starts the Lit network again: the same nodes (key shares, ports), no faults.
    pub fn restart_lit(&mut self) {
        self.lit = None;
        self.lit = Some(start_lit(&self.dir, self.lit_port_base, &[]));
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Tcp(self.public)
    }

    pub fn host_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("host.log")).unwrap_or_default()
    }

    pub fn client_pem(&self) -> (&str, &str) {
        (&self.client.certificate_pem, &self.client.key_pem)
    }

    /// Waits until the enclave serves (an attested fetch succeeds) and returns its TLS pin.
    pub async fn wait_attested(&self, timeout: Duration) -> [u8; 32] {
        match self.attestation_client().wait(timeout).await {
            Ok(signer) => signer.spki_sha256,
            Err(error) => panic!(
                "the stack did not come up: {error}\n--- host log ---\n{}",
                self.host_log()
            ),
        }
    }

    /// What a client needs to find the enclave again after a restart, without the stack.
    pub fn attestation_client(&self) -> AttestationClient {
        AttestationClient {
            endpoint: self.endpoint(),
            client_cert_pem: self.client.certificate_pem.clone(),
            client_key_pem: self.client.key_pem.clone(),
            dev_root_pem: self.dev_root_pem.clone(),
        }
    }

    /// SIGKILL to the host, as a crash (the enclave it supervises dies with it: it runs with
    /// a parent-death signal); waits for it.
    pub fn kill_host(&mut self) {
        if let Some(mut child) = self.host.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Copies the host's store (the host must be stopped).
    pub fn snapshot_store(&self, to: &Path) {
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", self.dir.join("store.db").display()));
            let dest = PathBuf::from(format!("{}{suffix}", to.display()));
            let _ = std::fs::remove_file(&dest);
            if from.exists() {
                std::fs::copy(&from, &dest).unwrap();
            }
        }
    }

    /// Puts a snapshot back in place of the host's store (the host must be stopped).
    pub fn restore_store(&self, from: &Path) {
        for suffix in ["", "-wal", "-shm"] {
            let dest = PathBuf::from(format!("{}{suffix}", self.dir.join("store.db").display()));
            let src = PathBuf::from(format!("{}{suffix}", from.display()));
            let _ = std::fs::remove_file(&dest);
            if src.exists() {
                std::fs::copy(&src, &dest).unwrap();
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_host();
    }
}

/// Attests a stack's enclave from outside it: the dev root, the endpoint and a client
/// certificate.
#[derive(Debug, Clone)]
pub struct AttestationClient {
    pub endpoint: Endpoint,
    pub client_cert_pem: String,
    pub client_key_pem: zeroize::Zeroizing<String>,
    pub dev_root_pem: String,
}

impl AttestationClient {
    /// Waits (up to `timeout`) until an attested fetch succeeds: the enclave's keys (its TLS
    /// pin, its signing key) as its evidence binds them.
    pub async fn wait(
        &self,
        timeout: Duration,
    ) -> Result<aip_attestation::fetch::AttestedSigner, aip_attestation::fetch::FetchError> {
        let verifier = aip_attestation::Verifier::new()
            .unwrap()
            .trust_dev_root(self.dev_root_pem.as_bytes())
            .unwrap();
        let deadline = Instant::now() + timeout;
        loop {
            match aip_attestation::fetch::fetch(
                &self.endpoint,
                Some((&self.client_cert_pem, &self.client_key_pem)),
                &verifier,
                None,
                unix_now() as u64,
            )
            .await
            {
                Ok(signer) => return Ok(signer),
                Err(error) if Instant::now() > deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}
