//! What the device shows the user before it signs or approves a payment, decoded with the
//! same strict engine the enclave decides with (`aip-engine`): a signer that describes one
//! payment and hands over another is caught here, not after the money moved.

use aip_engine::policy::{in_user_units, Asset};
use aip_engine::solana::{Described, PaymentSummary, Signable, Transaction};
use aip_wire::payments::PaymentAnswer;
use solana_address::Address;

use crate::device::DeviceKeyError;

/// A payment transaction the device decoded and checked against the signer's description.
#[derive(Debug, Clone)]
pub struct Review {
    pub summary: PaymentSummary,
    /// The wallet paid (the answer's recipient, checked against the credited token account).
    pub recipient: Address,
    pub(crate) transaction: Transaction,
}

impl Review {
    /// Decodes `bytes` (an unsigned transaction), refuses whatever the enclave would refuse,
    /// and checks it pays `answer.amount` to `answer.recipient` from `session_key`'s tokens.
    pub fn of(
        bytes: &[u8],
        answer: &PaymentAnswer,
        session_key: &Address,
    ) -> Result<Self, DeviceKeyError> {
        let transaction = Transaction::from_bytes(bytes).map_err(DeviceKeyError::Decode)?;
        let signable =
            Signable::new(transaction.message.clone()).map_err(DeviceKeyError::Refused)?;
        let summary =
            PaymentSummary::of(signable.explanation()).map_err(DeviceKeyError::NotAPayment)?;
        let recipient: Address = answer
            .recipient
            .parse()
            .map_err(|_| DeviceKeyError::Transaction("the answer's recipient is not an address"))?;
        summary
            .check(&Described {
                amount: answer.amount,
                recipient: &recipient,
                mint: None,
                authority: Some(session_key),
            })
            .map_err(DeviceKeyError::NotAsDescribed)?;
        Ok(Self {
            summary,
            recipient,
            transaction,
        })
    }

    /// One line for the user: amount, mint, recipient, and what fees and rent cost whom.
    pub fn describe(&self) -> String {
        let s = &self.summary;
        let asset = Asset::Tokens {
            mints: vec![s.mint],
            decimals: s.decimals,
        };
        let amount = in_user_units(&asset, u128::from(s.amount));
        let payer = if s.fee_payer == s.authority {
            "this session wallet".to_owned()
        } else {
            format!("fee payer {}", s.fee_payer)
        };
        format!(
            "pay {amount} of mint {} to {} (token account {}); fees and rent {} paid by {payer}",
            s.mint,
            self.recipient,
            s.recipient_account,
            in_user_units(&Asset::Native, u128::from(s.fee_lamports))
        )
    }
}
