//! `POST /v1/x402/pay`: a resource's 402 answer paid within the session's intent.
//!
//! The enclave picks the requirement it can meet (`exact` on its own network, in an allowed
//! mint), builds the transaction exactly as x402's `exact` scheme on Solana prescribes
//! (`crate::x402`), decides on it with the same policy, reservation and autonomous signing as a
//! smart payment (the facilitator declared as the fee payer's sponsor: its fee costs the user
//! nothing), signs as the payer only and hands the payload back. It never submits: the
//! facilitator adds its signature and does. `track` then finds the landed transaction by the
//! payer's signature, or releases the reservation once its blockhash expired without it.

use aip_wire::payments::{X402Pay, X402PayAnswer};
use base64::Engine as _;
use rand_core::{OsRng, RngCore};

use super::account::USDC_DECIMALS;
use super::actor::Actor;
use super::context::{InFlight, PaymentContext};
use super::error::PaymentError;
use super::flow::{admit, denied_again, reserve_and_continue};
use super::record::{payment_id, request_sha256, stored, PaymentRecord, Stage, X402Part};
use crate::policy::Approval;
use crate::solana::Signable;
use crate::state::records;
use crate::x402::{self, ExactSvmPayment, PaymentRequired, NONCE_BYTES};

/// Pays `request.payment_required` or says why not; the same idempotency key gets the same
/// answer (and never a second payment).
pub async fn pay(
    state: &PaymentContext,
    actor: Actor<'_>,
    request: X402Pay,
) -> Result<X402PayAnswer, PaymentError> {
    admit(state, &request.idempotency_key, &request.agent_id)?;
    let id = payment_id(actor.key_id, &request.idempotency_key);
    let sha = request_sha256(&request);
    let name = PaymentRecord::record_name(&id);
    // Signed already: the same payload, handed back without the in-flight hold (tracking
    // holds the payment while it reads the chain; a retry need not wait for that).
    if let Some((_, record)) =
        records::read::<PaymentRecord>(&state.store, &state.state_key, &name).await?
    {
        if record.request_sha256 == sha && record.x402.is_some() && record.signed.is_some() {
            return answer(&record);
        }
    }
    let _in_flight = InFlight::take(state, &id)?;
    let existing: Option<(u64, PaymentRecord)> =
        records::read(&state.store, &state.state_key, &name).await?;
    let expected = match existing {
        Some((version, record)) => {
            if record.request_sha256 != sha || record.x402.is_none() {
                return Err(PaymentError::IdempotencyConflict(request.idempotency_key));
            }
            match record.stage {
                Stage::Denied => return Err(denied_again(&record)),
                Stage::Aborted => Some(version),
                // Signed or settled: the same payload again. A record stopped before its
                // signature resumes through the smart payment's path, which knows x402 records.
                _ if record.signed.is_some() => return answer(&record),
                _ => {
                    super::flow::resume(state, version, record).await?;
                    return answer(&stored(state, &name).await?);
                }
            }
        }
        None => None,
    };
    let (record, signable) = build(state, actor, &id, &sha, &request).await?;
    let version = records::write(&state.store, &state.state_key, &name, expected, &record).await?;
    reserve_and_continue(state, version, record, &signable, Approval::None).await?;
    answer(&stored(state, &name).await?)
}

/// The requirement chosen and the transaction that pays it, checked like any other payment.
async fn build(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
    sha: &str,
    request: &X402Pay,
) -> Result<(PaymentRecord, Signable), PaymentError> {
    let payer = state.payer()?;
    let account = actor.account(state, &request.session_key_id).await?;
    account.session_of(&request.agent_id)?;
    let required: PaymentRequired = serde_json::from_value(request.payment_required.clone())
        .map_err(|e| {
            PaymentError::Invalid(format!(
                "payment_required is not an x402 PaymentRequired document: {e}"
            ))
        })?;
    let network = payer.x402_network.as_deref().ok_or_else(|| {
        PaymentError::X402(x402::X402Error::Network {
            served: "none (this signer has no solana.x402_network)".into(),
            offered: required
                .accepts
                .iter()
                .filter_map(|a| a.get("network").and_then(|n| n.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        })
    })?;
    let selected =
        x402::select(&required, network, &payer.usdc_mints).map_err(PaymentError::X402)?;
    if selected.fee_payer == account.public_key {
        return Err(PaymentError::X402(x402::X402Error::Malformed {
            index: 0,
            field: "extra.feePayer",
            problem: "is the paying session key: the facilitator must pay the fee".into(),
        }));
    }
    // The enclave's quorum's blockhash, not the server's hint: its expiry is what `track`
    // proves against.
    let (recent_blockhash, last_valid_block_height) = payer
        .rpc
        .latest_blockhash()
        .await
        .map_err(PaymentError::Chain)?;
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let made = ExactSvmPayment::new(
        &selected,
        account.public_key,
        USDC_DECIMALS,
        recent_blockhash,
        nonce,
    );
    let signable = made
        .payment
        .build()
        .map_err(|e| PaymentError::Invalid(format!("cannot build this x402 payment: {e}")))?;
    let summary = super::transaction::summary_matching(
        &signable,
        selected.amount,
        &selected.pay_to,
        &selected.asset,
    )?;
    let record = PaymentRecord {
        id: id.to_owned(),
        caller: actor.key_id.to_owned(),
        request_sha256: sha.to_owned(),
        agent_id: request.agent_id.clone(),
        session_key_id: request.session_key_id.clone(),
        amount: summary.amount,
        mint: summary.mint.to_string(),
        recipient: selected.pay_to.to_string(),
        recipient_token_account: Some(summary.recipient_account.to_string()),
        // The facilitator's; the session wallet pays none.
        fee_lamports: Some(0),
        message: base64::engine::general_purpose::STANDARD.encode(signable.message().to_bytes()),
        last_valid_block_height,
        service_fee_payer: false,
        autonomous: false,
        stage: Stage::Pending,
        signed: None,
        denial: None,
        x402: Some(X402Part {
            fee_payer: selected.fee_payer.to_string(),
            resource_url: selected.resource_url.clone(),
            network: selected.network.clone(),
            accepted: selected.accepted.clone(),
            resource: selected.resource.clone(),
            landed_as: None,
        }),
    };
    Ok((record, signable))
}

/// The answer for an x402 record: the payload while it is signed (or settled), else the
/// refusal it ended in.
fn answer(record: &PaymentRecord) -> Result<X402PayAnswer, PaymentError> {
    let part = record
        .x402
        .as_ref()
        .ok_or(PaymentError::Internal("not an x402 payment"))?;
    let Some(signed) = &record.signed else {
        return Err(match record.stage {
            Stage::Denied => denied_again(record),
            _ => PaymentError::Invalid(format!(
                "this x402 payment was not signed (it stands {:?}); retry with a new idempotency key",
                record.stage
            )),
        });
    };
    let payload = x402::payment_payload(&part.resource, &part.accepted, &signed.transaction);
    Ok(X402PayAnswer {
        payment_id: record.id.clone(),
        status: record.answer().status,
        amount: record.amount,
        recipient: record.recipient.clone(),
        network: part.network.clone(),
        resource: part.resource_url.clone(),
        fee_payer: part.fee_payer.clone(),
        payer_signature: signed.signature.clone(),
        payment_signature_header: x402::payment_signature_header(&payload),
        payment_payload: payload,
        receipt: signed.receipt.clone(),
    })
}
