//! The payment's transaction from the request: built by the service (a fresh blockhash, the
//! recipient's token account created only when missing) or supplied by the caller, decoded
//! and explained like any other, and checked to be exactly the payment requested. The record
//! takes its figures from the transaction, never from the request.

use aip_wire::payments::{FeeMode, SmartPayment};
use base64::Engine as _;
use solana_address::Address;

use super::account::USDC_DECIMALS;
use super::actor::Actor;
use super::context::PaymentContext;
use super::error::PaymentError;
use super::payer::PAYMENT_COMPUTE_UNITS;
use super::record::{PaymentRecord, Stage};
use crate::solana::programs::associated_token_address;
use crate::solana::{
    foreign_payment_reference, payment_reference, Described, FeePayer, PaymentSummary, Signable,
    TokenPayment, TokenProgram, Transaction,
};

/// Builds the payment's message from the request (a fresh blockhash from the cluster).
pub(super) async fn build(
    state: &PaymentContext,
    actor: Actor<'_>,
    id: &str,
    sha: &str,
    request: &SmartPayment,
) -> Result<(PaymentRecord, Signable), PaymentError> {
    let payer = state.payer()?;
    let caller = actor.key_id;
    let account = actor.account(state, &request.session_key_id).await?;
    let session = account.session_of(&request.agent_id)?;
    let choice = fee_choice(session.fees, request)?;
    let recipient: Address = request
        .recipient
        .parse()
        .map_err(|_| PaymentError::Invalid("recipient is not a base58 address".into()))?;
    let mint: Address = request
        .mint
        .parse()
        .map_err(|_| PaymentError::Invalid("mint is not a base58 address".into()))?;
    let (recent_blockhash, last_valid_block_height) = payer
        .rpc
        .latest_blockhash()
        .await
        .map_err(PaymentError::Chain)?;
    let price = payer.compute_unit_price;
    // The recipient's token account is created (and its rent paid) only when it is missing.
    let recipient_account = associated_token_address(&recipient, &mint, TokenProgram::Token);
    let create_recipient_account = !payer
        .rpc
        .account_exists(&recipient_account.to_string())
        .await
        .map_err(PaymentError::Chain)?;
    let mut payment = TokenPayment {
        authority: account.public_key,
        recipient,
        mint,
        decimals: USDC_DECIMALS,
        program: TokenProgram::Token,
        amount: request.amount,
        memo: request.memo.clone(),
        create_recipient_account,
        compute_unit_limit: (price > 0).then_some(PAYMENT_COMPUTE_UNITS),
        compute_unit_price_micro_lamports: (price > 0).then_some(price),
        fee_payer: FeePayer::Session,
        recent_blockhash,
        reference: Some(payment_reference(id)),
    };
    let built = |payment: &TokenPayment| {
        payment
            .build()
            .map_err(|e| PaymentError::Invalid(format!("cannot build this payment: {e}")))
    };
    // Detection builds the wallet-paid payment to learn its cost; it is kept when the wallet
    // can pay it.
    let (service, session_paid) = match choice {
        FeeChoice::Session => (false, None),
        FeeChoice::Service => (true, None),
        // A caller's transaction names its own fee payer, never the service's.
        FeeChoice::Detect if request.transaction.is_some() => (false, None),
        FeeChoice::Detect => {
            let session_paid = built(&payment)?;
            let needed = PaymentSummary::of(session_paid.explanation())
                .map_err(|e| PaymentError::Invalid(format!("transaction: {e}")))?
                .fee_lamports
                .saturating_add(WALLET_RENT_EXEMPT_LAMPORTS);
            let balance = payer
                .rpc
                .balance(&account.public_key.to_string())
                .await
                .map_err(PaymentError::Chain)?;
            if balance < needed {
                (true, None)
            } else {
                (false, Some(session_paid))
            }
        }
    };
    if service {
        payment.fee_payer = FeePayer::Service {
            address: payer.fee_payer.address(),
        };
    }
    let signable = match &request.transaction {
        None => match session_paid {
            Some(signable) => signable,
            None => built(&payment)?,
        },
        // The service's fee payer signs only what the service built: a caller's transaction
        // could spend its lamports in ways no budget foresees.
        Some(_) if service => {
            return Err(PaymentError::Invalid(
                "a caller-supplied transaction cannot use the service fee payer; pay fees from the session wallet or let the service build the payment".into(),
            ))
        }
        Some(given) => {
            let signable = given_transaction(given)?;
            if let Some(reference) = foreign_payment_reference(signable.message(), id) {
                return Err(PaymentError::TransactionChanged(format!(
                    "this transaction names another payment's reference ({reference}): it was made for that payment, and the cluster would run it once for both; nothing was signed"
                )));
            }
            signable
        }
    };
    let summary = summary_matching(&signable, request.amount, &recipient, &mint)?;
    let price = signable
        .explanation()
        .fees
        .compute_unit_price_micro_lamports;
    if let Some(price) = price.filter(|p| *p > payer.max_compute_unit_price) {
        return Err(PaymentError::Invalid(format!(
            "the priority fee of {price} micro-lamports per compute unit exceeds the service's cap of {}",
            payer.max_compute_unit_price
        )));
    }
    let record = PaymentRecord {
        id: id.to_owned(),
        caller: caller.to_owned(),
        request_sha256: sha.to_owned(),
        agent_id: request.agent_id.clone(),
        session_key_id: request.session_key_id.clone(),
        // What the transaction does, not what the request says (they were checked equal).
        amount: summary.amount,
        mint: summary.mint.to_string(),
        recipient: recipient.to_string(),
        recipient_token_account: Some(summary.recipient_account.to_string()),
        fee_lamports: Some(summary.fee_lamports),
        message: base64::engine::general_purpose::STANDARD.encode(signable.message().to_bytes()),
        last_valid_block_height,
        service_fee_payer: service,
        autonomous: false,
        stage: Stage::Pending,
        signed: None,
        denial: None,
        x402: None,
    };
    Ok((record, signable))
}

/// A caller's unsigned transaction: decoded and explained like any other (anything outside
/// the signer's rules is refused).
fn given_transaction(base64_tx: &str) -> Result<Signable, PaymentError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_tx)
        .map_err(|_| PaymentError::Invalid("transaction is not base64".into()))?;
    let tx = Transaction::from_bytes(&bytes)
        .map_err(|e| PaymentError::Invalid(format!("transaction: {e}")))?;
    Signable::new(tx.message).map_err(|refusal| PaymentError::Refused(refusal.to_string()))
}

/// The payment the transaction makes, which must be the one requested: exactly `amount` of
/// `mint` to `recipient` (its token account for the mint). The record, receipt and ledger
/// take their figures from here.
pub(super) fn summary_matching(
    signable: &Signable,
    amount: u64,
    recipient: &Address,
    mint: &Address,
) -> Result<PaymentSummary, PaymentError> {
    let summary = PaymentSummary::of(signable.explanation())
        .map_err(|e| PaymentError::Invalid(format!("transaction: {e}")))?;
    summary
        .check(&Described {
            amount,
            recipient,
            mint: Some(mint),
            authority: None,
        })
        .map_err(|mismatch| PaymentError::Invalid(mismatch.to_string()))?;
    Ok(summary)
}

/// What a wallet with no data must keep to stay rent-exempt after paying (Solana refuses a
/// transaction that leaves a fee payer below it, short of emptying it).
const WALLET_RENT_EXEMPT_LAMPORTS: u64 = 890_880;

/// Who pays a payment's fees, from the session's fee mode and the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FeeChoice {
    Session,
    Service,
    /// The service if the session wallet lacks the SOL (`FeeMode::Auto`).
    Detect,
}

fn fee_choice(mode: FeeMode, request: &SmartPayment) -> Result<FeeChoice, PaymentError> {
    let refuse = |m: String| Err(PaymentError::Invalid(m));
    match (mode, request.gasless, request.auto_detect_gasless) {
        (FeeMode::Auto, Some(_), true) => {
            refuse("gasless and auto_detect_gasless exclude each other".into())
        }
        (FeeMode::Auto, Some(true), false) => Ok(FeeChoice::Service),
        (FeeMode::Auto, Some(false), false) => Ok(FeeChoice::Session),
        (FeeMode::Auto, None, _) => Ok(FeeChoice::Detect),
        (FeeMode::Session | FeeMode::Service, _, true) => {
            refuse("auto_detect_gasless needs a session whose fees are auto (either payer)".into())
        }
        (FeeMode::Service, None | Some(true), false) => Ok(FeeChoice::Service),
        (FeeMode::Session, None | Some(false), false) => Ok(FeeChoice::Session),
        (FeeMode::Service, Some(false), false) => refuse(
            "this session's fees are paid by the service; gasless must be true or absent".into(),
        ),
        (FeeMode::Session, Some(true), false) => refuse(
            "this session's fees are paid by the session wallet; gasless must be false or absent"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(gasless: Option<bool>, auto: bool) -> SmartPayment {
        SmartPayment {
            agent_id: "a".into(),
            session_key_id: "k".into(),
            recipient: "r".into(),
            amount: 1,
            mint: "m".into(),
            memo: None,
            gasless,
            auto_detect_gasless: auto,
            idempotency_key: "i".into(),
            transaction: None,
            dry_run: false,
        }
    }

    #[test]
    fn who_pays_follows_the_session_mode_and_the_request() {
        use FeeChoice::*;
        let rows = [
            (FeeMode::Session, None, false, Some(Session)),
            (FeeMode::Session, Some(false), false, Some(Session)),
            (FeeMode::Session, Some(true), false, None),
            (FeeMode::Session, None, true, None),
            (FeeMode::Service, None, false, Some(Service)),
            (FeeMode::Service, Some(true), false, Some(Service)),
            (FeeMode::Service, Some(false), false, None),
            (FeeMode::Service, None, true, None),
            (FeeMode::Auto, None, false, Some(Detect)),
            (FeeMode::Auto, None, true, Some(Detect)),
            (FeeMode::Auto, Some(true), false, Some(Service)),
            (FeeMode::Auto, Some(false), false, Some(Session)),
            (FeeMode::Auto, Some(true), true, None),
        ];
        for (mode, gasless, auto, expected) in rows {
            let got = fee_choice(mode, &request(gasless, auto)).ok();
            assert_eq!(got, expected, "{mode:?} gasless={gasless:?} auto={auto}");
        }
    }
}
