//! Session keys: registration of a device-bound key, enabling autonomy with a delegation,
//! revocation.

use aip_wire::payments::{
    possession_message, EnableAutonomy, EncryptionTarget, Limits, RegisterDeviceBound, Revoked,
    SessionKeyView,
};
use aip_wire::session::{delegation_message, DeviceBoundBlob};
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::{OsRng, RngCore};
use serde_json::json;
use solana_address::Address;

use super::account::{Account, Delegation};
use super::actor::Actor;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::released_key::check_once;
use crate::policy::UnixSeconds;

/// Verifies a hex Ed25519 signature by `key` over `message`.
pub(super) fn verify_signature(
    key: &Address,
    message: &[u8],
    signature_hex: &str,
    what: &str,
) -> Result<(), PaymentError> {
    let mut bytes = [0u8; 64];
    hex::decode_to_slice(signature_hex, &mut bytes)
        .map_err(|_| PaymentError::BadSignature(format!("{what} is not 64 bytes of hex")))?;
    let key = VerifyingKey::from_bytes(&key.to_bytes())
        .map_err(|_| PaymentError::BadSignature("the session key is not an Ed25519 key".into()))?;
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .map_err(|_| {
            PaymentError::BadSignature(format!("{what} does not verify with the session key"))
        })
}

fn check_limits(limits: &Limits, now: UnixSeconds) -> Result<(), PaymentError> {
    let invalid = |m: &str| Err(PaymentError::Invalid(m.to_owned()));
    if limits.max_per_transaction == 0 {
        return invalid("max_per_transaction must be greater than zero");
    }
    if limits.expires_at <= now.0 {
        return invalid("the limits have already expired");
    }
    let windows = [
        limits.max_per_day,
        limits.max_per_week,
        limits.max_per_month,
    ];
    let mut floor = limits.max_per_transaction;
    for cap in windows.into_iter().flatten() {
        if cap < floor {
            return invalid("caps must grow: per transaction <= day <= week <= month");
        }
        floor = cap;
    }
    Ok(())
}

pub async fn register(
    state: &PaymentContext,
    actor: Actor<'_>,
    request: RegisterDeviceBound,
) -> Result<SessionKeyView, PaymentError> {
    let public_key: Address = request
        .public_key
        .parse()
        .map_err(|_| PaymentError::Invalid("public_key is not a base58 address".into()))?;
    if public_key.to_string() != request.public_key {
        return Err(PaymentError::Invalid(
            "public_key is not in canonical base58".into(),
        ));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&request.encrypted_blob)
        .map_err(|_| PaymentError::Invalid("encrypted_blob is not base64".into()))?;
    DeviceBoundBlob::parse(&blob).map_err(|e| PaymentError::Invalid(e.to_string()))?;
    let at = state.now();
    check_limits(&request.limits, at)?;
    let message = possession_message(&request.public_key, &blob, &request.limits);
    verify_signature(
        &public_key,
        message.as_bytes(),
        &request.possession_signature,
        "possession_signature",
    )?;
    // One account per wallet: two would each have their own caps for the same money.
    let _registering = state.registering.lock().await;
    if state
        .accounts
        .all()
        .await?
        .iter()
        .any(|a| a.public_key == public_key)
    {
        return Err(PaymentError::Invalid(format!(
            "session key {public_key} is already registered"
        )));
    }
    let mut id = [0u8; 12];
    OsRng.fill_bytes(&mut id);
    let account = Account {
        id: format!("sk_{}", hex::encode(id)),
        public_key,
        blob: request.encrypted_blob,
        limits: request.limits,
        created_at: at,
        revoked_at: None,
        delegation: None,
        sessions: Default::default(),
        chain_cursor: None,
        key_usage: Default::default(),
        tenant: actor.tenant.to_owned(),
    };
    state
        .accounts
        .create(&state.store, &state.state_key, account.clone())
        .await?;
    record(
        state,
        "session_key_registered",
        json!({"id": account.id, "public_key": account.public_key.to_string(), "tenant": account.tenant}),
    )
    .await?;
    Ok(account.view())
}

pub(super) async fn record(
    state: &PaymentContext,
    kind: &str,
    body: serde_json::Value,
) -> Result<(), PaymentError> {
    let entry = state.ledger.record(kind, &body).await?;
    state.analytics_entry(&entry);
    Ok(())
}

/// The Lit network key and this enclave's attested-release conditions.
pub fn encryption_target(state: &PaymentContext) -> Result<EncryptionTarget, PaymentError> {
    let lit = &state.payer()?.lit;
    Ok(EncryptionTarget {
        network_public_key: lit.network_key.to_hex(),
        conditions_field: lit.conditions.field().to_owned(),
        conditions: lit.conditions.to_value(),
    })
}

pub async fn enable_autonomy(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
    request: EnableAutonomy,
) -> Result<SessionKeyView, PaymentError> {
    let payer = state.payer()?;
    let account = actor.account(state, id).await?;
    if account.revoked_at.is_some() {
        return Err(revoked(id));
    }
    let at = state.now();
    if request.max_total == 0 || request.expires_at <= at.0 {
        return Err(PaymentError::Delegation(
            "a delegation needs max_total > 0 and an expiry in the future".into(),
        ));
    }
    let message = delegation_message(id, request.max_total, request.expires_at)
        .map_err(|e| PaymentError::Delegation(e.to_string()))?;
    verify_signature(
        &account.public_key,
        message.as_bytes(),
        &request.delegation_signature,
        "delegation_signature",
    )?;
    let ours = &payer.lit.conditions;
    let theirs = aip_lit::Conditions::from_field(ours.field(), &request.conditions)
        .map_err(|e| PaymentError::Delegation(format!("conditions: {e}")))?;
    if theirs.hash_hex() != ours.hash_hex() {
        return Err(PaymentError::Delegation(format!(
            "the conditions do not bind to this enclave's measurement policy (their hash {}, ours {})",
            theirs.hash_hex(),
            ours.hash_hex()
        )));
    }
    // Prove now that the ciphertext releases this session's key, so a payment never finds out.
    let started = std::time::Instant::now();
    let released = payer
        .lit
        .release(
            &payer.me,
            &request.ciphertext,
            &request.data_to_encrypt_hash,
        )
        .await;
    state.metrics.observe_lit(started.elapsed());
    let (plaintext, _) = released.map_err(|error| PaymentError::Lit(std::sync::Arc::new(error)))?;
    let opened = check_once(plaintext, &account.public_key);
    crate::wipe::scrub_stack();
    if let Err(error) = opened {
        return Err(PaymentError::Delegation(format!(
            "the ciphertext does not hold this session's key: {error}"
        )));
    }
    let view = state
        .update_account(id, |account| {
            if account.revoked_at.is_some() {
                return Err(revoked(id));
            }
            let (committed, in_flight) = account
                .delegation
                .take()
                .map(|d| (d.committed, d.in_flight))
                .unwrap_or_default();
            account.delegation = Some(Delegation {
                max_total: request.max_total,
                expires_at: UnixSeconds(request.expires_at),
                signature: request.delegation_signature.clone(),
                ciphertext: request.ciphertext.clone(),
                data_to_encrypt_hash: request.data_to_encrypt_hash.clone(),
                committed,
                in_flight,
            });
            Ok(account.view())
        })
        .await?;
    record(
        state,
        "autonomy_enabled",
        json!({"session_key_id": id, "max_total": request.max_total, "expires_at": request.expires_at, "delegation_signature": request.delegation_signature}),
    )
    .await?;
    Ok(view)
}

fn revoked(id: &str) -> PaymentError {
    PaymentError::Denied(crate::policy::Denial::because(
        crate::policy::Rule::Revoked,
        format!("session key {id} is revoked"),
    ))
}

/// Revokes the key for every later request: its sessions end now, unsigned reservations are
/// released, and the delegation (with its ciphertext) is dropped.
pub async fn revoke(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
) -> Result<Revoked, PaymentError> {
    actor.account(state, id).await?;
    let at = state.now();
    let (revoked_at, released) = state
        .update_account(id, |account| {
            let revoked_at = account.revoked_at.map_or(at, |earlier| earlier.min(at));
            account.revoked_at = Some(revoked_at);
            account.delegation = None;
            let released: usize = account
                .sessions
                .values_mut()
                .map(|s| s.state.revoke(revoked_at).len())
                .sum();
            account.key_usage.release_unsigned();
            Ok((revoked_at, released))
        })
        .await?;
    record(
        state,
        "session_key_revoked",
        json!({"session_key_id": id, "revoked_at": revoked_at.0, "released_reservations": released}),
    )
    .await?;
    Ok(Revoked {
        session_key_id: id.to_owned(),
        revoked_at: revoked_at.0,
        released_reservations: released,
    })
}
