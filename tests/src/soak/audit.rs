//! What must hold after the soak, read from the chain (the truth) and the enclave's signed
//! ledger, not from the enclave's own answers:
//!
//! - every transfer that left a session wallet is a `payment_signed` entry of the ledger (same
//!   signature, amount, session key) and its payment's receipt names that signature and is
//!   signed by the enclave key of some boot;
//! - no payment landed twice (one transfer per payment id, and per amount: each request had
//!   its own amount);
//! - no session key or session exceeded a cap: landed totals within each session's day cap,
//!   each key's day cap and its autonomy total;
//! - every reservation is landed or released on proof: after the run every payment's final
//!   state agrees with the chain (confirmed ones landed, expired or failed ones did not),
//!   and the enclave's spent and committed totals equal what landed (nothing held by a lost
//!   reservation, nothing landed uncounted);
//! - the ledger verifies as one hash chain under the current boot's signed head, and no
//!   client ever saw it roll back.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aip_client::signer::{Signer, SignerError};
use aip_wire::ledger::{verify_chain, verify_export, LedgerEntry, LedgerHead};
use aip_wire::payments::PaymentStatus;
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use super::load::{Attempt, Outcome, SoakSession};
use crate::rpc::Rpc;

/// A transfer out of a session wallet, as the chain has it.
#[derive(Debug, Clone)]
pub struct Debit {
    pub signature: String,
    pub wallet: String,
    pub amount: u64,
}

/// A `payment_signed` ledger entry.
#[derive(Debug, Clone)]
struct Signed {
    payment_id: String,
    session_key_id: String,
    agent_id: String,
    amount: u64,
}

/// What the audit found.
#[derive(Debug, Default)]
pub struct Findings {
    pub violations: Vec<String>,
    pub landed: usize,
    pub landed_amount: u64,
    pub ledger_entries: usize,
    pub final_status: BTreeMap<String, usize>,
}

/// How long the audit waits out the API's rate limit for one read before calling it a
/// failure.
const RATE_LIMIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// A read, asked again while `limited` says the API refused it for its rate limit: the audit
/// reads every payment and session (tens of thousands after a long optimised run), far more
/// than one API key may ask per second, and a rate limit is a refusal to answer now, not a
/// finding.
async fn patiently<R, F, Fut>(mut read: F, limited: impl Fn(&R) -> bool) -> R
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let started = std::time::Instant::now();
    loop {
        let answer = read().await;
        if !limited(&answer) || started.elapsed() >= RATE_LIMIT_PATIENCE {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Whether a typed read was refused with `rate_limited`.
fn rate_limited<T>(answer: &Result<T, SignerError>) -> bool {
    matches!(answer, Err(error) if error.code() == Some("rate_limited"))
}

/// The whole ledger, verified as one chain ending at the signed head of the current boot.
async fn ledger(signer: &Signer, findings: &mut Findings) -> Vec<LedgerEntry> {
    let mut entries: Vec<LedgerEntry> = Vec::new();
    let mut after = (0u64, [0u8; 32]);
    loop {
        let path = format!("/v1/ledger?from={}&limit=1000", after.0 + 1);
        let answer = patiently(
            || signer.raw("GET", &path, None),
            |answer| matches!(answer, Ok(a) if a.status == 429),
        )
        .await;
        let export = match answer {
            Ok(answer) if answer.status == 200 => answer.json(),
            other => {
                findings
                    .violations
                    .push(format!("the ledger export failed: {other:?}"));
                return entries;
            }
        };
        let page: Vec<LedgerEntry> =
            serde_json::from_value(export["entries"].clone()).unwrap_or_default();
        if page.is_empty() {
            let head = export["head"]
                .as_str()
                .and_then(|h| LedgerHead::from_header(h).ok());
            let key = export["signingPublicKey"]
                .as_str()
                .and_then(|k| hex::decode(k).ok())
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .and_then(|k| VerifyingKey::from_bytes(&k).ok());
            match (head, key) {
                (Some(head), Some(key)) => {
                    if let Err(e) = verify_export(&entries, &head, &key) {
                        findings
                            .violations
                            .push(format!("the ledger does not verify: {e}"));
                    }
                }
                _ => findings
                    .violations
                    .push("the ledger export has no signed head".into()),
            }
            return entries;
        }
        match verify_chain(after, &page) {
            Ok(last) => after = last,
            Err(e) => {
                findings
                    .violations
                    .push(format!("the ledger chain breaks: {e}"));
                return entries;
            }
        }
        entries.extend(page);
    }
}

/// Every debit of `wallet`'s USDC on chain.
fn debits(rpc: &Rpc, wallet: &str) -> Result<Vec<Debit>, String> {
    let mut found = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut options = json!({"limit": 1000});
        if let Some(b) = &before {
            options["before"] = json!(b);
        }
        let page = rpc
            .call("getSignaturesForAddress", json!([wallet, options]))
            .map_err(|e| e.to_string())?;
        let page = page.as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            return Ok(found);
        }
        for item in &page {
            let Some(signature) = item["signature"].as_str() else {
                continue;
            };
            before = Some(signature.to_owned());
            if !item["err"].is_null() {
                continue;
            }
            let tx = rpc
                .call("getTransaction", json!([signature, {"encoding": "base64"}]))
                .map_err(|e| e.to_string())?;
            let amount = |list: &Value| -> u64 {
                list.as_array()
                    .into_iter()
                    .flatten()
                    .filter(|b| b["owner"].as_str() == Some(wallet))
                    .filter_map(|b| b["uiTokenAmount"]["amount"].as_str()?.parse::<u64>().ok())
                    .sum()
            };
            let (pre, post) = (
                amount(&tx["meta"]["preTokenBalances"]),
                amount(&tx["meta"]["postTokenBalances"]),
            );
            if pre > post {
                found.push(Debit {
                    signature: signature.to_owned(),
                    wallet: wallet.to_owned(),
                    amount: pre - post,
                });
            }
        }
    }
}

/// Runs every check; `attempts` are the backend's requests, `enclave_keys` the keys of every
/// boot it saw, `rolled_back` whether any client saw a rollback.
pub async fn audit(
    signer: &Signer,
    rpc: &Rpc,
    sessions: &[SoakSession],
    attempts: &[Attempt],
    enclave_keys: &BTreeSet<[u8; 32]>,
) -> Findings {
    let mut findings = Findings::default();
    let v = |findings: &mut Findings, text: String| findings.violations.push(text);

    let entries = ledger(signer, &mut findings).await;
    findings.ledger_entries = entries.len();
    let mut signed: HashMap<String, Signed> = HashMap::new();
    // In ledger order: receipts then come in runs from one boot (one key).
    let mut ledger_payments: Vec<String> = Vec::new();
    for entry in entries.iter().filter(|e| e.kind == "payment_signed") {
        let body: Value = serde_json::from_str(&entry.body).unwrap_or_default();
        let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
        ledger_payments.push(field("payment_id"));
        signed.insert(
            field("signature"),
            Signed {
                payment_id: field("payment_id"),
                session_key_id: field("session_key_id"),
                agent_id: field("agent_id"),
                amount: body["amount"].as_u64().unwrap_or_default(),
            },
        );
    }

    // The chain's debits of every session wallet.
    let wallets: BTreeSet<String> = sessions.iter().map(|s| s.wallet.to_string()).collect();
    let mut landed: Vec<Debit> = Vec::new();
    for wallet in &wallets {
        match debits(rpc, wallet) {
            Ok(found) => landed.extend(found),
            Err(e) => v(&mut findings, format!("reading {wallet}'s history: {e}")),
        }
    }
    findings.landed = landed.len();
    findings.landed_amount = landed.iter().map(|d| d.amount).sum();

    let key_of_wallet: HashMap<String, String> = sessions
        .iter()
        .map(|s| (s.wallet.to_string(), s.key_id.clone()))
        .collect();
    let mut per_payment: HashMap<String, Vec<String>> = HashMap::new();
    let mut per_amount: HashMap<(String, u64), usize> = HashMap::new();
    let mut per_key: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_session: BTreeMap<(String, String), u64> = BTreeMap::new();
    for debit in &landed {
        *per_amount
            .entry((debit.wallet.clone(), debit.amount))
            .or_default() += 1;
        *per_key
            .entry(key_of_wallet[&debit.wallet].clone())
            .or_default() += debit.amount;
        let Some(entry) = signed.get(&debit.signature) else {
            v(
                &mut findings,
                format!(
                    "{} landed {} from {} without a ledger entry",
                    debit.signature, debit.amount, debit.wallet
                ),
            );
            continue;
        };
        if entry.amount != debit.amount || entry.session_key_id != key_of_wallet[&debit.wallet] {
            v(
                &mut findings,
                format!(
                    "{} landed {} but the ledger says {} from {}",
                    debit.signature, debit.amount, entry.amount, entry.session_key_id
                ),
            );
        }
        per_payment
            .entry(entry.payment_id.clone())
            .or_default()
            .push(debit.signature.clone());
        *per_session
            .entry((entry.session_key_id.clone(), entry.agent_id.clone()))
            .or_default() += debit.amount;
    }
    for (payment, signatures) in &per_payment {
        if signatures.len() > 1 {
            v(
                &mut findings,
                format!(
                    "payment {payment} landed {} times: {signatures:?}",
                    signatures.len()
                ),
            );
        }
    }
    for ((wallet, amount), count) in &per_amount {
        if *count > 1 {
            v(
                &mut findings,
                format!("{count} transfers of {amount} left {wallet}: one request each"),
            );
        }
    }

    // Caps, against what landed.
    for session in sessions {
        let key_total = per_key.get(&session.key_id).copied().unwrap_or(0);
        if key_total > session.key_day_cap.min(session.autonomy_total) {
            v(
                &mut findings,
                format!(
                    "key {} landed {key_total}, caps {} a day and {} delegated",
                    session.key_id, session.key_day_cap, session.autonomy_total
                ),
            );
        }
        let session_total = per_session
            .get(&(session.key_id.clone(), session.agent.clone()))
            .copied()
            .unwrap_or(0);
        if session_total > session.session_day_cap {
            v(
                &mut findings,
                format!(
                    "{} under {} landed {session_total}, cap {}",
                    session.agent, session.key_id, session.session_day_cap
                ),
            );
        }
    }

    // Every payment's final state against the chain; receipts.
    let landed_by_signature: HashMap<&str, &Debit> =
        landed.iter().map(|d| (d.signature.as_str(), d)).collect();
    let mut ids: Vec<String> = ledger_payments;
    ids.extend(attempts.iter().filter_map(|a| a.payment_id.clone()));
    let mut listed = BTreeSet::new();
    ids.retain(|id| listed.insert(id.clone()));
    // Receipts come in runs from one boot: the key that verified the last one goes first.
    let mut keys: Vec<VerifyingKey> = enclave_keys
        .iter()
        .filter_map(|k| VerifyingKey::from_bytes(k).ok())
        .collect();
    for id in &ids {
        let answer = match patiently(|| signer.payment(id), rate_limited).await {
            Ok(answer) => answer,
            Err(e) => {
                v(&mut findings, format!("payment {id}: {e}"));
                continue;
            }
        };
        *findings
            .final_status
            .entry(format!("{:?}", answer.status).to_lowercase())
            .or_default() += 1;
        let on_chain = answer
            .signature
            .as_deref()
            .and_then(|s| landed_by_signature.get(s));
        match (answer.status, on_chain) {
            (PaymentStatus::Confirmed, Some(_)) => {
                let signed_by = answer.receipt.as_ref().and_then(|receipt| {
                    (Some(&receipt.receipt.signature) == answer.signature.as_ref())
                        .then(|| keys.iter().position(|k| receipt.verify(k).is_ok()))
                        .flatten()
                });
                match signed_by {
                    Some(index) => keys.swap(0, index),
                    None => v(
                        &mut findings,
                        format!(
                            "payment {id} landed without a valid receipt: {:?}",
                            answer.receipt
                        ),
                    ),
                }
            }
            (PaymentStatus::Confirmed, None) => v(
                &mut findings,
                format!("payment {id} is confirmed but not on chain"),
            ),
            (PaymentStatus::Expired | PaymentStatus::Failed, Some(_)) => v(
                &mut findings,
                format!("payment {id} is {:?} but landed", answer.status),
            ),
            (
                PaymentStatus::Submitted
                | PaymentStatus::RequiresSignature
                | PaymentStatus::ApprovalRequired,
                _,
            ) => v(
                &mut findings,
                format!(
                    "payment {id} is still {:?} after its blockhash expired",
                    answer.status
                ),
            ),
            _ => {}
        }
    }
    for attempt in attempts {
        if attempt.outcome == Outcome::Refused("rollback_detected".into()) {
            v(
                &mut findings,
                format!(
                    "{}: the client saw the ledger roll back",
                    attempt.request.idempotency_key
                ),
            );
        }
    }

    // The enclave's totals equal what landed: no reservation lost, no landing uncounted.
    let key_ids: BTreeSet<&str> = sessions.iter().map(|s| s.key_id.as_str()).collect();
    for key_id in key_ids {
        let landed_total = per_key.get(key_id).copied().unwrap_or(0);
        match patiently(|| signer.session_key(key_id), rate_limited).await {
            Ok(view) => {
                let committed = view.autonomy.map(|a| a.committed).unwrap_or(0);
                if committed != landed_total {
                    v(&mut findings, format!("key {key_id}: the enclave counts {committed} committed, {landed_total} landed"));
                }
            }
            Err(e) => v(&mut findings, format!("key {key_id}: {e}")),
        }
        match patiently(|| signer.sessions(Some(key_id)), rate_limited).await {
            Ok(views) => {
                for view in views {
                    let landed = per_session
                        .get(&(key_id.to_owned(), view.agent_id.clone()))
                        .copied()
                        .unwrap_or(0);
                    if view.spent.day != landed {
                        v(
                            &mut findings,
                            format!(
                                "{} under {key_id}: the enclave counts {} spent, {landed} landed",
                                view.agent_id, view.spent.day
                            ),
                        );
                    }
                }
            }
            Err(e) => v(&mut findings, format!("sessions of {key_id}: {e}")),
        }
    }
    findings
}
