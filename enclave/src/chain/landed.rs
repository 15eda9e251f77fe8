//! Reading a landed transaction as one endpoint serves it (`getTransaction`, base64). Pure:
//! the answer's JSON in, what the signer may believe of it out.
//!
//! An endpoint can lie in the JSON around the transaction (its token balances, its error),
//! which the quorum meets by taking the answer that cannot hurt the user (the largest debit).
//! The transaction's own bytes it cannot change undetected: the id must be the first
//! signature, and every signature must verify over the message. The signatures are what
//! reconciliation and x402 tracking recognise a payment by, so an endpoint that could add one
//! (or carry one over to another transaction) could hide a debit as a payment the signer
//! already counted, or settle an x402 payment under another transaction's id.

use base64::Engine as _;
use serde_json::Value;
use solana_address::Address;

use crate::solana::{check_signatures, DecodeError, SignatureState, Transaction};

/// A landed transaction as one endpoint serves it ([`super::SolanaRpc::landed_transaction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedTransaction {
    /// Every signature, the transaction's id first; each verified over the message.
    pub signatures: Vec<String>,
    /// The runtime's error, if it failed (its fee was still paid).
    pub failed: Option<String>,
    /// Base units of the asked mints the asked owner's token accounts lost in it.
    pub debit: u64,
}

/// Why a served transaction is not taken.
#[derive(Debug, thiserror::Error)]
pub enum ServedTransactionError {
    #[error("the answer holds no base64 transaction")]
    Missing,
    #[error("the transaction is not base64")]
    NotBase64(#[source] base64::DecodeError),
    #[error("the transaction does not decode")]
    Decode(#[source] DecodeError),
    #[error("the transaction served is {served}, not the one asked for")]
    NotAsked { served: String },
    #[error("signature {index} (of {signer}) does not verify over the message served")]
    SignatureInvalid { index: usize, signer: Address },
    #[error("a token balance has no decimal amount")]
    TokenAmount,
}

/// The transaction `signature` in a `getTransaction` `result` (`null`: the endpoint does not
/// know it), with the base units of `mints` that token accounts owned by `owner` lost in it
/// (from the pre- and post-token balances).
pub fn read(
    result: &Value,
    signature: &str,
    owner: &str,
    mints: &[String],
) -> Result<Option<LandedTransaction>, ServedTransactionError> {
    if result.is_null() {
        return Ok(None);
    }
    let wire = base64::engine::general_purpose::STANDARD
        .decode(
            result["transaction"][0]
                .as_str()
                .ok_or(ServedTransactionError::Missing)?,
        )
        .map_err(ServedTransactionError::NotBase64)?;
    let decoded = Transaction::from_bytes(&wire).map_err(ServedTransactionError::Decode)?;
    let signatures: Vec<String> = decoded
        .signatures
        .iter()
        .map(|s| bs58::encode(s).into_string())
        .collect();
    if signatures.first().map(String::as_str) != Some(signature) {
        return Err(ServedTransactionError::NotAsked {
            served: signatures.first().cloned().unwrap_or_default(),
        });
    }
    if let Some((index, check)) = check_signatures(&decoded)
        .into_iter()
        .enumerate()
        .find(|(_, check)| check.state != SignatureState::Valid)
    {
        return Err(ServedTransactionError::SignatureInvalid {
            index,
            signer: check.signer,
        });
    }
    let meta = &result["meta"];
    let failed = match &meta["err"] {
        Value::Null => None,
        err => Some(err.to_string()),
    };
    Ok(Some(LandedTransaction {
        signatures,
        failed,
        debit: debit(meta, owner, mints)?,
    }))
}

/// What `owner`'s token accounts of `mints` lost, from a transaction's token balances.
fn debit(meta: &Value, owner: &str, mints: &[String]) -> Result<u64, ServedTransactionError> {
    let amount = |entry: &Value| -> Result<u64, ServedTransactionError> {
        entry["uiTokenAmount"]["amount"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or(ServedTransactionError::TokenAmount)
    };
    let ours = |entry: &&Value| {
        entry["owner"].as_str() == Some(owner)
            && entry["mint"]
                .as_str()
                .is_some_and(|m| mints.iter().any(|x| x == m))
    };
    let empty = Vec::new();
    let pre = meta["preTokenBalances"].as_array().unwrap_or(&empty);
    let post = meta["postTokenBalances"].as_array().unwrap_or(&empty);
    let mut debit: u64 = 0;
    for before in pre.iter().filter(ours) {
        let index = before["accountIndex"].as_u64();
        let after = post
            .iter()
            .find(|p| p["accountIndex"].as_u64() == index)
            .map(amount)
            .transpose()?
            .unwrap_or(0);
        debit = debit.saturating_add(amount(before)?.saturating_sub(after));
    }
    Ok(debit)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::solana::programs::USDC_MAINNET_MINT;
    use crate::solana::SigningKeypair;

    /// A USDC transfer of 5 signed by its wallet, served as `getTransaction` answers it
    /// (the wallet's account at index 1 went from 10 to 5 USDC).
    fn served(tamper: impl FnOnce(&mut Transaction)) -> (Value, String, String) {
        let wallet = SigningKeypair::generate();
        let mut tx = crate::test_transfers::usdc_transfer(wallet.address(), 5_000_000);
        wallet.sign_transaction(&mut tx).unwrap();
        let id = bs58::encode(tx.signatures[0]).into_string();
        tamper(&mut tx);
        let owner = wallet.address().to_string();
        let balance = |amount: &str| {
            json!([{"accountIndex": 1, "mint": USDC_MAINNET_MINT.to_string(), "owner": owner,
                    "uiTokenAmount": {"amount": amount}}])
        };
        let result = json!({
            "transaction": [base64::engine::general_purpose::STANDARD.encode(tx.to_bytes()), "base64"],
            "meta": {"err": null, "preTokenBalances": balance("10000000"),
                     "postTokenBalances": balance("5000000")},
        });
        (result, id, owner)
    }

    fn mints() -> Vec<String> {
        vec![USDC_MAINNET_MINT.to_string()]
    }

    #[test]
    fn a_transaction_as_signed_is_read_with_its_debit() {
        let (result, id, owner) = served(|_| {});
        let landed = read(&result, &id, &owner, &mints()).unwrap().unwrap();
        assert_eq!(landed.signatures, [id]);
        assert_eq!(landed.debit, 5_000_000);
        assert_eq!(landed.failed, None);
        assert!(read(&Value::Null, "x", &owner, &mints()).unwrap().is_none());
    }

    #[test]
    fn a_signature_the_endpoint_added_or_changed_is_refused() {
        // A known signature added the way the test suite's lying endpoint adds it: one more
        // required signer, one more signature. It decodes, but nothing in it verifies now.
        let known = [9u8; 64];
        let (result, id, owner) = served(|tx| {
            tx.message.header.num_required_signatures += 1;
            tx.signatures.push(known);
        });
        assert!(matches!(
            read(&result, &id, &owner, &mints()),
            Err(ServedTransactionError::SignatureInvalid { index: 0, .. })
        ));
        // Another transaction's id on this message.
        let (result, _, owner) = served(|tx| tx.signatures[0] = known);
        let other = bs58::encode(known).into_string();
        assert!(matches!(
            read(&result, &other, &owner, &mints()),
            Err(ServedTransactionError::SignatureInvalid { index: 0, .. })
        ));
        // A transaction other than the one asked for.
        let (result, _, owner) = served(|_| {});
        assert!(matches!(
            read(&result, &other, &owner, &mints()),
            Err(ServedTransactionError::NotAsked { .. })
        ));
    }

    #[test]
    fn an_answer_without_a_readable_transaction_or_amount_is_refused() {
        let (mut result, id, owner) = served(|_| {});
        result["meta"]["preTokenBalances"][0]["uiTokenAmount"]["amount"] = json!(10);
        assert!(matches!(
            read(&result, &id, &owner, &mints()),
            Err(ServedTransactionError::TokenAmount)
        ));
        result["transaction"][0] = json!("not base64!");
        assert!(matches!(
            read(&result, &id, &owner, &mints()),
            Err(ServedTransactionError::NotBase64(_))
        ));
        result["transaction"] = json!(null);
        assert!(matches!(
            read(&result, &id, &owner, &mints()),
            Err(ServedTransactionError::Missing)
        ));
    }
}
