//! Starting `aip-devnet` (its own Cargo workspace) as a child process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use crate::rpc::Rpc;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The devnet binary: `AIP_DEVNET_BIN`, or `devnet/target/debug/aip-devnet`, built on first
/// use if missing (scripts/test builds it beforehand).
pub fn devnet_binary() -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    if let Some(path) = std::env::var_os("AIP_DEVNET_BIN") {
        return PathBuf::from(path);
    }
    let root = repo_root();
    let binary = root.join("devnet/target/debug/aip-devnet");
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !binary.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--manifest-path"])
            .arg(root.join("devnet/Cargo.toml"))
            .status()
            .expect("run cargo build for the devnet");
        assert!(status.success(), "building aip-devnet failed");
    }
    binary
}

/// The devnets' local CA (`aip-devnet ca`): they serve HTTPS under it, the enclave's egress
/// trusts it through its configuration, and test clients through [`DevnetCa::agent`].
#[derive(Debug, Clone)]
pub struct DevnetCa {
    pub dir: PathBuf,
    pub pem: String,
}

impl DevnetCa {
    /// The CA in `dir`, made there first if missing.
    pub fn in_dir(dir: &Path) -> Self {
        if !dir.join("ca.pem").exists() {
            let status = Command::new(devnet_binary())
                .arg("ca")
                .arg("--dir")
                .arg(dir)
                .status()
                .expect("run aip-devnet ca");
            assert!(status.success(), "aip-devnet ca failed");
        }
        Self {
            dir: dir.to_owned(),
            pem: std::fs::read_to_string(dir.join("ca.pem")).expect("read the devnet CA"),
        }
    }

    /// A TLS client configuration trusting only this CA (the enclave's egress configuration).
    pub fn client_config(&self) -> std::sync::Arc<rustls::ClientConfig> {
        aip_enclave::egress_json::tls_client_config(&aip_enclave::config::EgressTlsConfig {
            web_pki: false,
            ca_pem: Some(self.pem.clone()),
        })
        .expect("the devnet CA as egress roots")
    }

    /// An HTTP client for the devnets' HTTPS.
    pub fn agent(&self) -> ureq::Agent {
        ureq::AgentBuilder::new()
            .tls_config(self.client_config())
            .timeout(std::time::Duration::from_secs(30))
            .build()
    }

    pub fn tls_dir_arg(&self) -> String {
        self.dir.to_str().expect("utf-8 path").to_owned()
    }
}

/// `host:port` of a devnet URL (`http://` or `https://`).
pub fn host_port(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// Starts the devnet binary with `args` and reads its one JSON "listening" line.
fn spawn_listening(binary: &Path, args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Command::new(binary)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let event =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{args:?} printed {line:?}: {e}"));
    (child, event)
}

/// A running `aip-devnet lit`, killed on drop.
#[derive(Debug)]
pub struct LitDevnet {
    child: Child,
    /// The arguments it was started with (a restart reuses them: same keys, same ports).
    args: Vec<String>,
    pub nodes: Vec<String>,
    pub threshold: usize,
    pub network_public_key: String,
    /// `{"actionCid"}` when the network runs Lit Actions.
    pub attested_release: serde_json::Value,
}

impl LitDevnet {
    /// `aip-devnet lit` with these extra arguments (data dir, node count, faults...).
    pub fn start(args: &[&str]) -> Self {
        let mut all = vec!["lit"];
        all.extend_from_slice(args);
        let (child, event) = spawn_listening(&devnet_binary(), &all);
        let lit = &event["lit"];
        Self {
            child,
            args: all.iter().map(|a| (*a).to_owned()).collect(),
            nodes: lit["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|u| u.as_str().expect("url").to_owned())
                .collect(),
            threshold: lit["threshold"].as_u64().expect("threshold") as usize,
            network_public_key: lit["networkPublicKey"].as_str().expect("key").to_owned(),
            attested_release: lit["attestedRelease"].clone(),
        }
    }
}

impl LitDevnet {
    /// Three nodes running Lit Actions (the attested-release action under Node, as Lit's nodes
    /// run it), their keys under `dir/lit`, serving HTTPS under the devnet CA in
    /// `dir/devnet-tls` (made if missing); `extra` arguments after. The allowed sets, dev root
    /// included, come with each request: the nodes hold no policy.
    pub fn start_attested(dir: &Path, extra: &[&str]) -> Self {
        let data = dir.join("lit").to_str().expect("utf-8 path").to_owned();
        let tls = DevnetCa::in_dir(&dir.join("devnet-tls")).tls_dir_arg();
        let mut args = vec![
            "--nodes",
            "3",
            "--data-dir",
            &data,
            "--lit-actions",
            "--tls-dir",
            &tls,
        ];
        args.extend_from_slice(extra);
        Self::start(&args)
    }

    /// As [`LitDevnet::start_attested`], each of the three nodes in a process of its own, so
    /// that one can be killed or restarted alone, on the fixed ports from `port_base` (a
    /// restarted node keeps its address); in node order, node 0 first: it deals the key
    /// shares the others load.
    pub fn start_attested_apart(dir: &Path, port_base: u16) -> Vec<Self> {
        let base = port_base.to_string();
        (0..3)
            .map(|i| Self::start_attested(dir, &["--port-base", &base, "--only", &i.to_string()]))
            .collect()
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A devnet process that can crash (SIGKILL) and come back as it was.
pub trait Crashable {
    fn pid(&self) -> u32;
    /// SIGKILL, as a crash: no clean shutdown; waits for it.
    fn kill(&mut self);
    /// Starts it again as it was (the same keys, the same addresses).
    fn restart(&mut self);
}

impl Crashable for LitDevnet {
    /// The devnet process (its CPU time includes the Lit Action runs it waited for).
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(&mut self) {
        kill(&mut self.child);
    }

    fn restart(&mut self) {
        self.kill();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.child = spawn_listening(&devnet_binary(), &args).0;
    }
}

/// One RPC provider's endpoint in front of the chain (`aip-devnet relay`): TCP forwarded to
/// an endpoint of the Solana devnet, so it can be killed while the chain lives on. Killed on
/// drop.
#[derive(Debug)]
pub struct RpcRelay {
    child: Child,
    /// `host:port` it listens on (kept across restarts).
    pub listen: String,
    to: String,
}

impl RpcRelay {
    /// A relay on a free loopback port to `to` (`host:port`).
    pub fn start(to: &str) -> Self {
        let (child, event) = spawn_listening(
            &devnet_binary(),
            &["relay", "--listen", "127.0.0.1:0", "--to", to],
        );
        Self {
            child,
            listen: event["relay"].as_str().expect("relay address").to_owned(),
            to: to.to_owned(),
        }
    }
}

impl Crashable for RpcRelay {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(&mut self) {
        kill(&mut self.child);
    }

    fn restart(&mut self) {
        self.kill();
        let args = ["relay", "--listen", &self.listen, "--to", &self.to];
        self.child = spawn_listening(&devnet_binary(), &args).0;
    }
}

impl Drop for RpcRelay {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Drop for LitDevnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `aip-devnet solana`, killed on drop.
#[derive(Debug)]
pub struct SolanaDevnet {
    child: Child,
    /// A client of the first endpoint.
    pub rpc: Rpc,
    /// Every endpoint's URL (one chain behind them all).
    pub urls: Vec<String>,
}

impl SolanaDevnet {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One plain-HTTP endpoint (for tests of the devnet itself).
    pub fn start() -> Self {
        Self::start_with(&devnet_binary())
    }

    pub fn start_with(binary: &Path) -> Self {
        let (child, event) = spawn_listening(binary, &["solana", "--listen", "127.0.0.1:0"]);
        let url = event["rpc_url"].as_str().expect("rpc_url").to_string();
        Self {
            child,
            rpc: Rpc::new(url.clone()),
            urls: vec![url],
        }
    }

    /// `endpoints` HTTPS endpoints under `ca` over one chain: an RPC quorum, as the enclave
    /// is configured in production.
    pub fn start_quorum(ca: &DevnetCa, endpoints: usize) -> Self {
        let tls = ca.tls_dir_arg();
        let mut args = vec!["solana"];
        for _ in 0..endpoints {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        args.extend(["--tls-dir", &tls]);
        let (child, event) = spawn_listening(&devnet_binary(), &args);
        let urls: Vec<String> = event["rpc_urls"]
            .as_array()
            .expect("rpc_urls")
            .iter()
            .map(|u| u.as_str().expect("url").to_owned())
            .collect();
        Self {
            child,
            rpc: Rpc::with_agent(urls[0].clone(), ca.agent()),
            urls,
        }
    }
}

impl Drop for SolanaDevnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
