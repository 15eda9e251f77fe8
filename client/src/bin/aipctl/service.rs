//! `aipctl operator init`, `aipctl keys create`, `aipctl ledger verify`: talking to a running
//! signer over mutual TLS, trusting it by the pinned key hash `aip-attest fetch` printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aip_client::http::Response;
use aip_client::signer::Signer;
use aip_client::tls::OperatorCa;
use aip_wire::ledger::{verify_export, LedgerEntry, LedgerHead};
use aip_wire::Endpoint;
use clap::{Args, Subcommand};
use serde_json::json;
use zeroize::Zeroizing;

pub const EXIT_UNREADABLE: u8 = 1;
pub const EXIT_REFUSED: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;

#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Create an operator CA, a client certificate and the root API key in DIR (ca.pem,
    /// ca.key, client.pem, client.key, root-api-key; secrets 0600), and print the
    /// `root_api_key_sha256` line for the enclave's configuration. Refuses to overwrite.
    Init {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Create only the root API key in DIR (root-api-key, 0600) and print its configuration
    /// line. The enclave's configuration pins it: it is the deployment's first key, and no
    /// request can mint one without it. Refuses to overwrite.
    RootKey {
        #[arg(long)]
        dir: PathBuf,
    },
}

/// The root key's file in an operator directory.
const ROOT_KEY_FILE: &str = "root-api-key";

/// Writes a new root API key to `dir/root-api-key`; the configuration line that pins it.
fn write_root_key(dir: &Path) -> std::io::Result<String> {
    let key = aip_wire::api_key::generate();
    std::fs::create_dir_all(dir)?;
    write_secret(&dir.join(ROOT_KEY_FILE), &key)?;
    Ok(format!(
        "root_api_key_sha256 = \"{}\"",
        aip_wire::api_key::lookup_hex(&key)
    ))
}

/// [`Connection`] for commands whose `--url` names something else (`aipctl x402 pay`): the
/// signer is `--signer` there, the same environment variables apply.
#[derive(Args, Debug)]
pub struct SignerConnection {
    /// tcp:IP:PORT of the host's public port (or unix:PATH).
    #[arg(long = "signer", env = "AIP_URL")]
    signer_url: Endpoint,
    /// SHA-256 (hex) of the signer's TLS key, from `aip-attest fetch`.
    #[arg(long, env = "AIP_PIN")]
    pin: String,
    /// Directory with client.pem and client.key.
    #[arg(long, env = "AIP_CLIENT_DIR")]
    client_dir: PathBuf,
    /// API key (or the AIP_API_KEY environment variable).
    #[arg(long, env = "AIP_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

impl From<SignerConnection> for Connection {
    fn from(c: SignerConnection) -> Self {
        Self {
            url: c.signer_url,
            pin: c.pin,
            client_dir: c.client_dir,
            api_key: c.api_key,
        }
    }
}

/// Where the signer is and how this client proves itself.
#[derive(Args, Debug)]
pub struct Connection {
    /// tcp:IP:PORT of the host's public port (or unix:PATH).
    #[arg(long, env = "AIP_URL")]
    url: Endpoint,
    /// SHA-256 (hex) of the signer's TLS key, from `aip-attest fetch`.
    #[arg(long, env = "AIP_PIN")]
    pin: String,
    /// Directory with client.pem and client.key.
    #[arg(long, env = "AIP_CLIENT_DIR")]
    client_dir: PathBuf,
    /// API key (or the AIP_API_KEY environment variable).
    #[arg(long, env = "AIP_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create an API key with an API key that may (the first time: the operator's root key,
    /// `root-api-key` from `aipctl operator init`).
    Create {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        label: String,
        /// full, create_payments, read_analytics, manage_sessions, manage_delegates
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Export the whole ledger and verify the chain and the head signature.
    Verify {
        #[command(flatten)]
        connection: Connection,
        /// The enclave's signing key (hex), from `aip-attest fetch`.
        #[arg(long)]
        signing_key: String,
    },
}

pub fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("aipctl: {message}");
    ExitCode::from(code)
}

pub fn operator(command: OperatorCommand) -> ExitCode {
    let dir = match command {
        OperatorCommand::Init { dir } => dir,
        OperatorCommand::RootKey { dir } => {
            if dir.join(ROOT_KEY_FILE).exists() {
                return fail(
                    EXIT_REFUSED,
                    format!(
                        "{} exists; not overwriting",
                        dir.join(ROOT_KEY_FILE).display()
                    ),
                );
            }
            return match write_root_key(&dir) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(EXIT_UNREADABLE, format!("writing {}: {e}", dir.display())),
            };
        }
    };
    let files = [
        "ca.pem",
        "ca.key",
        "client.pem",
        "client.key",
        ROOT_KEY_FILE,
    ]
    .map(|f| dir.join(f));
    if let Some(existing) = files.iter().find(|f| f.exists()) {
        return fail(
            EXIT_REFUSED,
            format!("{} exists; not overwriting", existing.display()),
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let made = OperatorCa::generate("aip-signer operator CA").and_then(|ca| {
        let client = ca.issue_client("aip-signer backend", now - 60, now + 365 * 86_400)?;
        Ok((ca, client))
    });
    let (ca, client) = match made {
        Ok(made) => made,
        Err(e) => return fail(EXIT_REFUSED, e),
    };
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&files[0], ca.certificate_pem()))
        .and_then(|()| write_secret(&files[1], &ca.key_pem()))
        .and_then(|()| std::fs::write(&files[2], &client.certificate_pem))
        .and_then(|()| write_secret(&files[3], &client.key_pem))
        .and_then(|()| write_root_key(&dir));
    match written {
        Ok(line) => {
            eprintln!(
                "operator CA, client certificate and root API key written to {}; put this line in the enclave's configuration:",
                dir.display()
            );
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(EXIT_UNREADABLE, format!("writing {}: {e}", dir.display())),
    }
}

fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())
}

impl Connection {
    /// A typed client for the signer this connection names.
    pub fn signer(&self) -> Result<Signer, (u8, String)> {
        let mut pin = [0u8; 32];
        hex::decode_to_slice(&self.pin, &mut pin)
            .map_err(|_| (2, "--pin is not 32 bytes of hex".to_owned()))?;
        let read = |name: &str| {
            std::fs::read_to_string(self.client_dir.join(name)).map_err(|e| {
                (
                    EXIT_UNREADABLE,
                    format!("{}: {e}", self.client_dir.join(name).display()),
                )
            })
        };
        let (cert, key) = (read("client.pem")?, Zeroizing::new(read("client.key")?));
        Signer::new(self.url.clone(), pin, &cert, &key, self.api_key.clone())
            .map_err(|e| (EXIT_REFUSED, e.to_string()))
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, (u8, String)> {
        self.signer()?
            .raw(method, path, body.map(|b| b.to_string().into_bytes()))
            .await
            .map_err(|e| (EXIT_UNREACHABLE, aip_wire::process::error_chain(&e)))
    }
}

pub fn block_on<F: std::future::Future<Output = ExitCode>>(future: F) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => fail(EXIT_UNREACHABLE, format!("no runtime: {e}")),
    }
}

pub fn keys(command: KeysCommand) -> ExitCode {
    let KeysCommand::Create {
        connection,
        label,
        scopes,
        json,
    } = command;
    block_on(async move {
        let body = json!({ "label": label, "scopes": scopes });
        match connection
            .request("POST", "/v1/agent-keys", Some(body))
            .await
        {
            Err((code, message)) => fail(code, message),
            Ok(response) if response.status == 201 => {
                let answer = response.json();
                if json {
                    println!("{answer}");
                } else {
                    println!("id   {}", answer["id"].as_str().unwrap_or_default());
                    println!("key  {}", answer["key"].as_str().unwrap_or_default());
                    println!("(shown once: store it now)");
                }
                ExitCode::SUCCESS
            }
            Ok(response) => fail(EXIT_REFUSED, String::from_utf8_lossy(&response.body)),
        }
    })
}

pub fn ledger(command: LedgerCommand) -> ExitCode {
    let LedgerCommand::Verify {
        connection,
        signing_key,
    } = command;
    block_on(async move {
        let mut key = [0u8; 32];
        if hex::decode_to_slice(&signing_key, &mut key).is_err() {
            return fail(2, "--signing-key is not 32 bytes of hex");
        }
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&key) else {
            return fail(2, "--signing-key is not an Ed25519 key");
        };
        let mut entries: Vec<LedgerEntry> = Vec::new();
        let head = loop {
            let path = format!("/v1/ledger?from={}&limit=1000", entries.len() + 1);
            let response = match connection.request("GET", &path, None).await {
                Ok(r) if r.status == 200 => r,
                Ok(r) => return fail(EXIT_REFUSED, String::from_utf8_lossy(&r.body)),
                Err((code, message)) => return fail(code, message),
            };
            let body = response.json();
            let page: Vec<LedgerEntry> = match serde_json::from_value(body["entries"].clone()) {
                Ok(page) => page,
                Err(e) => return fail(EXIT_REFUSED, format!("ledger entries: {e}")),
            };
            let head = match LedgerHead::from_header(body["head"].as_str().unwrap_or_default()) {
                Ok(head) => head,
                Err(e) => return fail(EXIT_REFUSED, e),
            };
            let done = page.is_empty() || entries.len() + page.len() >= head.seq as usize;
            entries.extend(page);
            if done {
                break head;
            }
        };
        match verify_export(&entries, &head, &key) {
            Ok(()) => {
                println!(
                    "ledger valid: {} entries, head {} signed by the enclave key",
                    entries.len(),
                    head.seq
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(EXIT_REFUSED, format!("ledger invalid: {e}")),
        }
    })
}
