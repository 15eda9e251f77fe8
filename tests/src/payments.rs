//! A paying stack for end-to-end tests: the service with the Solana devnet, a full API key,
//! and helpers to set up funded session keys the way a device and a backend would.

use std::time::Duration;

use aip_client::device::SessionKey;
use aip_client::signer::Signer;
use aip_enclave::solana::programs::{associated_token_address, USDC_MAINNET_MINT};
use aip_enclave::solana::TokenProgram;
use aip_wire::payments::{CreateSession, FeeMode, Limits, SessionKeyView, SmartPayment};
use solana_address::Address;

use crate::rpc::Rpc;
use crate::service::{Stack, StackOptions, DEVNET_USDC_MINT};
use crate::unix_now;

pub const USDC: u64 = 1_000_000;
pub const PASSWORD: &str = "correct horse battery staple";

/// A running stack that can pay, with a client holding a `full` key.
#[derive(Debug)]
pub struct PayingStack {
    pub stack: Stack,
    pub pin: [u8; 32],
    pub signer: Signer,
    pub api_key: String,
    pub fee_payer: Address,
}

impl PayingStack {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, &[]).await
    }

    /// With extra Lit devnet arguments (faults).
    pub async fn start_with(name: &str, lit_args: &'static [&'static str]) -> Self {
        Self::start_options(
            name,
            StackOptions {
                lit_args,
                ..StackOptions::default()
            },
        )
        .await
    }

    /// With these stack options (Solana is always on).
    pub async fn start_options(name: &str, options: StackOptions) -> Self {
        let stack = Stack::start(
            name,
            StackOptions {
                solana: true,
                ..options
            },
        );
        let pin = stack.wait_attested(Duration::from_secs(90)).await;
        let (cert, key) = stack.client_pem();
        let root = Signer::new(
            stack.endpoint(),
            pin,
            cert,
            key,
            Some(stack.root_api_key.to_string()),
        )
        .unwrap();
        let created = root
            .raw(
                "POST",
                "/v1/agent-keys",
                Some(br#"{"label":"test backend","scopes":["full"],"rate":{"burst":1000,"per_minute":60000}}"#.to_vec()),
            )
            .await
            .unwrap();
        assert_eq!(
            created.status,
            201,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
        let api_key = created.json()["key"].as_str().unwrap().to_owned();
        let signer = Signer::new(stack.endpoint(), pin, cert, key, Some(api_key.clone())).unwrap();
        let fee_payer: Address = signer.service().await.unwrap().fee_payer.parse().unwrap();
        let paying = Self {
            stack,
            pin,
            signer,
            api_key,
            fee_payer,
        };
        paying.rpc().airdrop(&fee_payer, 10_000_000_000).unwrap();
        paying
    }

    /// After the enclave restarted (new TLS key): waits for it and reconnects, keeping the
    /// ledger head seen so far.
    pub async fn reconnect(&mut self) {
        self.reconnect_with(true).await;
    }

    /// As [`Self::reconnect`]; without `keep_head` the client forgets the ledger head it saw
    /// (a backend that does not help detect a rollback).
    pub async fn reconnect_with(&mut self, keep_head: bool) {
        self.pin = self.stack.wait_attested(Duration::from_secs(90)).await;
        let (cert, key) = self.stack.client_pem();
        let signer = Signer::new(
            self.stack.endpoint(),
            self.pin,
            cert,
            key,
            Some(self.api_key.clone()),
        )
        .unwrap();
        if let Some(head) = self.signer.head().filter(|_| keep_head) {
            signer.remember_head(head);
        }
        self.signer = signer;
    }

    pub fn rpc(&self) -> &Rpc {
        &self.stack.solana.as_ref().unwrap().rpc
    }

    /// A signer client with its own API key of `scopes`.
    pub async fn client_with(&self, scopes: &[&str]) -> Signer {
        self.client_in(scopes, None).await
    }

    /// A signer client with its own API key of `scopes`, in `tenant` if named.
    pub async fn client_in(&self, scopes: &[&str], tenant: Option<&str>) -> Signer {
        let mut body = serde_json::json!({"label": "scoped", "scopes": scopes});
        if let Some(tenant) = tenant {
            body["tenant"] = serde_json::json!(tenant);
        }
        let created = self
            .signer
            .raw(
                "POST",
                "/v1/agent-keys",
                Some(body.to_string().into_bytes()),
            )
            .await
            .unwrap();
        assert_eq!(created.status, 201);
        let (cert, key) = self.stack.client_pem();
        Signer::new(
            self.stack.endpoint(),
            self.pin,
            cert,
            key,
            Some(created.json()["key"].as_str().unwrap().to_owned()),
        )
        .unwrap()
    }

    /// A registered session key whose wallet holds `usdc` and some SOL.
    pub async fn session_key(&self, limits: Limits, usdc: u64) -> (SessionKey, SessionKeyView) {
        self.register(SessionKey::generate(), limits, usdc).await
    }

    /// Registers `key` and funds its wallet with `usdc` and some SOL.
    pub async fn register(
        &self,
        key: SessionKey,
        limits: Limits,
        usdc: u64,
    ) -> (SessionKey, SessionKeyView) {
        let request = key.register_request(PASSWORD, limits).unwrap();
        let view = self.signer.register_device_bound(&request).await.unwrap();
        let wallet: Address = view.public_key.parse().unwrap();
        self.rpc().usdc_airdrop(&wallet, usdc).unwrap();
        self.rpc().airdrop(&wallet, 1_000_000_000).unwrap();
        (key, view)
    }

    /// `key` registered and funded with `usdc`, autonomy up to `max_total`, and `agent`'s
    /// session under the same limits with the service paying fees: the common setup.
    pub async fn autonomous(
        &self,
        key: SessionKey,
        limits: Limits,
        usdc: u64,
        max_total: u64,
        agent: &str,
    ) -> (SessionKey, SessionKeyView) {
        let (key, view) = self.register(key, limits, usdc).await;
        self.enable_autonomy(&key, &view, max_total).await;
        self.session(&view, agent, limits, FeeMode::Service).await;
        (key, view)
    }

    /// Autonomy for `key` up to `max_total`.
    pub async fn enable_autonomy(&self, key: &SessionKey, view: &SessionKeyView, max_total: u64) {
        let target = self.signer.encryption_target().await.unwrap();
        let request = key
            .autonomy_request(&view.id, max_total, unix_now() + 7 * 86_400, &target)
            .unwrap();
        self.signer
            .enable_autonomy(&view.id, &request)
            .await
            .unwrap();
    }

    pub async fn session(&self, view: &SessionKeyView, agent: &str, limits: Limits, fees: FeeMode) {
        self.signer
            .create_session(&CreateSession {
                session_key_id: view.id.clone(),
                agent_id: agent.to_owned(),
                limits,
                allowed_recipients: None,
                max_payments_per_day: None,
                fees,
            })
            .await
            .unwrap();
    }

    /// Pays, waiting while the enclave is still anchoring its clock and reconciling after a
    /// start (`unavailable`).
    pub async fn pay_when_ready(
        &self,
        request: &SmartPayment,
    ) -> aip_wire::payments::PaymentAnswer {
        self.smart_payment_when_ready(request).await.unwrap()
    }

    /// The signer's answer to `request` once it takes payments: `unavailable` (clock not yet
    /// anchored, usage not yet reconciled since a start) is waited out, any other answer is
    /// returned. A session's usage can show the chain's debits a moment before the round
    /// that counted them opens payments, so a test that expects a refusal after a restart
    /// asks through this.
    pub async fn smart_payment_when_ready(
        &self,
        request: &SmartPayment,
    ) -> Result<aip_wire::payments::PaymentAnswer, aip_client::signer::SignerError> {
        for _ in 0..200 {
            match self.signer.smart_payment(request).await {
                Err(error) if error.code() == Some("unavailable") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
        panic!("the enclave never became ready to pay");
    }

    /// Waits (up to `within`) until the payment `id` reads as `wanted`.
    pub async fn wait_status(
        &self,
        id: &str,
        wanted: aip_wire::payments::PaymentStatus,
        within: Duration,
    ) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let answer = self.signer.payment(id).await.unwrap();
            if answer.status == wanted {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never {wanted:?}: {answer:?}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Waits (up to a minute) until the first session of `session_key` shows `amount` spent
    /// today: the chain reconciliation after a start.
    pub async fn wait_spent_today(&self, session_key: &str, amount: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let sessions = self.signer.sessions(Some(session_key)).await.unwrap();
            if sessions[0].spent.day == amount {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "usage never reconciled to {amount}: {sessions:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What `agent`'s session on `session_key` has spent today, as the signer reports it.
    pub async fn spent_today(&self, session_key: &str, agent: &str) -> u64 {
        self.signer
            .sessions(Some(session_key))
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.agent_id == agent)
            .unwrap_or_else(|| panic!("no session for {agent}"))
            .spent
            .day
    }

    /// The signed ledger's entries (up to 1000) as the export gives them.
    pub async fn ledger_entries(&self) -> Vec<serde_json::Value> {
        let export = self
            .signer
            .raw("GET", "/v1/ledger?from=1&limit=1000", None)
            .await
            .unwrap()
            .json();
        export["entries"].as_array().cloned().unwrap_or_default()
    }

    /// The bodies of the ledger's entries of `kind`, in order.
    pub async fn ledger_bodies(&self, kind: &str) -> Vec<serde_json::Value> {
        self.ledger_entries()
            .await
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| serde_json::from_str(e["body"].as_str().unwrap()).unwrap())
            .collect()
    }

    /// An unsigned transaction paying `amount` USDC from `wallet` to `to` (creating its token
    /// account) on a current blockhash, with `price` as priority fee, fees paid by `fee_payer`:
    /// what a caller or the device builds without the signer.
    pub fn unsigned_transfer(
        &self,
        wallet: Address,
        to: Address,
        amount: u64,
        price: Option<u64>,
        fee_payer: aip_enclave::solana::FeePayer,
    ) -> aip_enclave::solana::Transaction {
        let (recent_blockhash, _) = self.rpc().latest_blockhash().unwrap();
        let transfer = aip_enclave::solana::TokenPayment {
            authority: wallet,
            recipient: to,
            mint: USDC_MAINNET_MINT,
            decimals: aip_enclave::solana::programs::USDC_DECIMALS,
            program: TokenProgram::Token,
            amount,
            memo: None,
            create_recipient_account: true,
            compute_unit_limit: price.map(|_| 60_000),
            compute_unit_price_micro_lamports: price,
            fee_payer,
            recent_blockhash,
            reference: None,
        };
        aip_enclave::solana::Transaction::unsigned(transfer.build().unwrap().into_message())
    }

    /// The device pays `amount` USDC from its session wallet to `to` without the signer: it
    /// builds and signs the transfer itself and sends it to the cluster (the wallet gets SOL
    /// for the fee first). The signature, as the cluster reports it.
    pub fn pay_outside_the_signer(&self, device: &SessionKey, to: &Address, amount: u64) -> String {
        let wallet = Address::new_from_array(device.public_key());
        self.rpc().airdrop(&wallet, 10_000_000).unwrap();
        let unsigned = self.unsigned_transfer(
            wallet,
            *to,
            amount,
            None,
            aip_enclave::solana::FeePayer::Session,
        );
        let signed = device.sign_transaction(&unsigned.to_bytes()).unwrap();
        self.rpc().send(&signed).unwrap()
    }

    /// USDC (base units) in `owner`'s associated token account.
    pub fn usdc_of(&self, owner: &Address) -> u64 {
        let account = associated_token_address(owner, &USDC_MAINNET_MINT, TokenProgram::Token);
        self.rpc().token_balance(&account).unwrap().unwrap_or(0)
    }
}

/// Limits of `per_tx` per payment and `per_day` a day, for a week.
pub fn limits(per_tx: u64, per_day: Option<u64>) -> Limits {
    Limits {
        max_per_transaction: per_tx,
        max_per_day: per_day,
        max_per_week: None,
        max_per_month: None,
        require_approval_above: None,
        expires_at: unix_now() + 7 * 86_400,
        max_fee_lamports_per_transaction: 2_100_000,
        max_fee_lamports_per_day: 100_000_000,
    }
}

/// A payment request of `amount` to `to` under `idempotency_key`.
pub fn payment(
    view: &SessionKeyView,
    agent: &str,
    to: &Address,
    amount: u64,
    idempotency_key: &str,
) -> SmartPayment {
    SmartPayment {
        agent_id: agent.to_owned(),
        session_key_id: view.id.clone(),
        recipient: to.to_string(),
        amount,
        mint: DEVNET_USDC_MINT.to_owned(),
        memo: None,
        gasless: None,
        auto_detect_gasless: false,
        idempotency_key: idempotency_key.to_owned(),
        transaction: None,
        dry_run: false,
    }
}

/// A fresh wallet address with no key anyone uses.
pub fn fresh_address() -> Address {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    Address::new_from_array(bytes)
}
