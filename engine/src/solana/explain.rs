//! What a transaction does, in the terms the policy engine decides on.
//!
//! [`explain`] is total over decoded messages: every instruction is either classified or
//! carries its refusal, so operators and auditors see the whole picture (a durable-nonce
//! transfer explains and is refused). [`Signable`] is the only way to a policy decision and a
//! signature, and it exists only for messages with no refusal at all.

use serde::Serialize;
use solana_address::Address;
use solana_hash::Hash;

use super::classify::{classify, program_name, Action};
use super::error::Refusal;
use super::programs::{TokenProgram, LAMPORTS_PER_SIGNATURE, MICRO_LAMPORTS_PER_LAMPORT};
use super::signature::{check_signatures, SignatureCheck};
use super::wire::{Decoded, Message, MessageVersion};

/// The full account of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub version: MessageVersion,
    #[serde(with = "crate::solana::as_text")]
    pub fee_payer: Address,
    #[serde(with = "crate::solana::as_text::vec")]
    pub signers: Vec<Address>,
    #[serde(with = "crate::solana::as_text")]
    pub recent_blockhash: Hash,
    pub instructions: Vec<ExplainedInstruction>,
    pub fees: Fees,
    /// Every debit of an account that a signer of this transaction controls.
    pub debits: Vec<Debit>,
    pub recipients: Vec<Recipient>,
    pub rent_funded: Vec<RentFunding>,
    pub memos: Vec<String>,
    /// Read-only accounts appended to transfers (Solana Pay references).
    #[serde(with = "crate::solana::as_text::vec")]
    pub references: Vec<Address>,
    /// Present when a whole transaction (not a bare message) was explained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<SignatureCheck>>,
    #[serde(serialize_with = "serialize_refusals")]
    pub refusals: Vec<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedInstruction {
    pub index: usize,
    #[serde(with = "crate::solana::as_text")]
    pub program_id: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(with = "crate::solana::as_text::vec")]
    pub references: Vec<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fees {
    pub signatures: u8,
    pub base_lamports: u64,
    pub compute_unit_limit: Option<u32>,
    pub compute_unit_price_micro_lamports: Option<u64>,
    pub priority_lamports: u64,
    pub total_lamports: u64,
}

/// Why lamports leave an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LamportCause {
    Fee,
    Transfer,
    Rent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "asset", rename_all = "snake_case")]
pub enum Debit {
    Lamports {
        #[serde(with = "crate::solana::as_text")]
        account: Address,
        lamports: u64,
        cause: LamportCause,
    },
    Token {
        /// The token account debited.
        #[serde(with = "crate::solana::as_text")]
        source: Address,
        /// The signer that owns it (or is its delegate).
        #[serde(with = "crate::solana::as_text")]
        authority: Address,
        /// `None` for an unchecked SPL `Transfer`, which does not name its mint.
        #[serde(with = "crate::solana::as_text::option")]
        mint: Option<Address>,
        decimals: Option<u8>,
        amount: u64,
        program: TokenProgram,
    },
}

impl Debit {
    /// The signer whose funds this is.
    pub fn authority(&self) -> &Address {
        match self {
            Self::Lamports { account, .. } => account,
            Self::Token { authority, .. } => authority,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    Wallet {
        #[serde(with = "crate::solana::as_text")]
        address: Address,
        lamports: u64,
    },
    TokenAccount {
        #[serde(with = "crate::solana::as_text")]
        account: Address,
        /// Known when the transaction itself creates `account` as the owner's associated
        /// token account.
        #[serde(with = "crate::solana::as_text::option")]
        owner: Option<Address>,
        #[serde(with = "crate::solana::as_text::option")]
        mint: Option<Address>,
        amount: u64,
        program: TokenProgram,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RentFunding {
    #[serde(with = "crate::solana::as_text")]
    pub payer: Address,
    #[serde(with = "crate::solana::as_text")]
    pub account: Address,
    pub lamports: u64,
}

/// Explains a decoded transaction or message, checking signatures of a transaction.
pub fn explain_decoded(decoded: &Decoded) -> Explanation {
    let mut explanation = explain(decoded.message());
    if let Decoded::Transaction(tx) = decoded {
        explanation.signatures = Some(check_signatures(tx));
    }
    explanation
}

/// Explains a message.
pub fn explain(message: &Message) -> Explanation {
    let mut refusals = Vec::new();
    let mut instructions = Vec::with_capacity(message.instructions.len());
    let mut actions = Vec::with_capacity(message.instructions.len());
    let mut references = Vec::new();
    for (index, instruction) in message.instructions.iter().enumerate() {
        let program_id = message
            .account_keys
            .get(usize::from(instruction.program_id_index))
            .copied()
            .unwrap_or_default();
        let mut explained = ExplainedInstruction {
            index,
            program_id,
            program: program_name(&program_id),
            action: None,
            references: Vec::new(),
            refused: None,
        };
        match classify(message, index, instruction) {
            Ok(classified) => {
                if matches!(classified.action, Action::AdvanceNonceAccount { .. }) {
                    refusals.push(Refusal::DurableNonce { index });
                }
                references.extend(classified.references.iter().copied());
                explained.references = classified.references;
                actions.push(classified.action.clone());
                explained.action = Some(classified.action);
            }
            Err(refusal) => {
                explained.refused = Some(refusal.to_string());
                refusals.push(refusal);
            }
        }
        instructions.push(explained);
    }
    if message.instructions.is_empty() {
        refusals.push(Refusal::NoInstructions);
    }
    if !message.address_table_lookups.is_empty() {
        refusals.push(Refusal::LookupTables {
            tables: message.address_table_lookups.len(),
        });
    }
    let fee_payer = message.fee_payer().copied().unwrap_or_default();
    let fees = match compute_fees(message, &instructions) {
        Ok(fees) => fees,
        Err(refusal) => {
            refusals.push(refusal);
            zero_fees(message)
        }
    };
    // The most fundamental reason first: what the signer never runs, then what it cannot check.
    refusals.sort_by_key(Refusal::rank);
    let accounting = Accounting::of(&actions, fee_payer, &fees);
    Explanation {
        version: message.version,
        fee_payer,
        signers: message.signers().to_vec(),
        recent_blockhash: message.recent_blockhash.clone(),
        instructions,
        fees,
        debits: accounting.debits,
        recipients: accounting.recipients,
        rent_funded: accounting.rent_funded,
        memos: accounting.memos,
        references,
        signatures: None,
        refusals,
    }
}

/// Fees: 5000 lamports per required signature plus ceil(price x limit / 10^6); each compute
/// budget setting at most once, and a price only with an explicit limit.
fn compute_fees(message: &Message, instructions: &[ExplainedInstruction]) -> Result<Fees, Refusal> {
    let mut limit = None;
    let mut price = None;
    for instruction in instructions {
        let duplicate = match instruction.action {
            Some(Action::SetComputeUnitLimit { units }) => limit
                .replace(units)
                .is_some()
                .then_some("SetComputeUnitLimit"),
            Some(Action::SetComputeUnitPrice { micro_lamports }) => price
                .replace(micro_lamports)
                .is_some()
                .then_some("SetComputeUnitPrice"),
            _ => None,
        };
        if let Some(name) = duplicate {
            return Err(Refusal::DuplicateComputeBudget {
                index: instruction.index,
                instruction: name,
            });
        }
    }
    let priority_lamports = match (price, limit) {
        (None, _) | (Some(0), _) => 0,
        (Some(_), None) => return Err(Refusal::ComputeUnitLimitRequired),
        (Some(price), Some(limit)) => {
            let micro = u128::from(price).saturating_mul(u128::from(limit));
            let lamports = micro.div_ceil(MICRO_LAMPORTS_PER_LAMPORT);
            u64::try_from(lamports).map_err(|_| Refusal::PriorityFeeOverflow)?
        }
    };
    let base = zero_fees(message);
    Ok(Fees {
        compute_unit_limit: limit,
        compute_unit_price_micro_lamports: price,
        priority_lamports,
        total_lamports: base
            .base_lamports
            .checked_add(priority_lamports)
            .ok_or(Refusal::PriorityFeeOverflow)?,
        ..base
    })
}

fn zero_fees(message: &Message) -> Fees {
    let signatures = message.header.num_required_signatures;
    let base = LAMPORTS_PER_SIGNATURE.saturating_mul(u64::from(signatures));
    Fees {
        signatures,
        base_lamports: base,
        compute_unit_limit: None,
        compute_unit_price_micro_lamports: None,
        priority_lamports: 0,
        total_lamports: base,
    }
}

#[derive(Default)]
struct Accounting {
    debits: Vec<Debit>,
    recipients: Vec<Recipient>,
    rent_funded: Vec<RentFunding>,
    memos: Vec<String>,
}

impl Accounting {
    fn of(actions: &[Action], fee_payer: Address, fees: &Fees) -> Self {
        let mut out = Self::default();
        out.debits.push(Debit::Lamports {
            account: fee_payer,
            lamports: fees.total_lamports,
            cause: LamportCause::Fee,
        });
        let created_owner = |account: &Address| {
            actions.iter().find_map(|action| match action {
                Action::CreateAssociatedTokenAccount {
                    account: created,
                    wallet,
                    ..
                } if created == account => Some(*wallet),
                _ => None,
            })
        };
        for action in actions {
            match action {
                Action::SystemTransfer { from, to, lamports } => {
                    out.debits.push(Debit::Lamports {
                        account: *from,
                        lamports: *lamports,
                        cause: LamportCause::Transfer,
                    });
                    out.recipients.push(Recipient::Wallet {
                        address: *to,
                        lamports: *lamports,
                    });
                }
                Action::TokenTransfer {
                    program,
                    source,
                    destination,
                    authority,
                    amount,
                } => out.token_transfer(
                    *program,
                    *source,
                    *destination,
                    *authority,
                    None,
                    *amount,
                    created_owner(destination),
                ),
                Action::TokenTransferChecked {
                    program,
                    source,
                    mint,
                    destination,
                    authority,
                    amount,
                    decimals,
                } => out.token_transfer(
                    *program,
                    *source,
                    *destination,
                    *authority,
                    Some((*mint, *decimals)),
                    *amount,
                    created_owner(destination),
                ),
                Action::CreateAssociatedTokenAccount {
                    payer,
                    account,
                    program,
                    ..
                } => {
                    let lamports = program.account_rent_lamports();
                    out.debits.push(Debit::Lamports {
                        account: *payer,
                        lamports,
                        cause: LamportCause::Rent,
                    });
                    out.rent_funded.push(RentFunding {
                        payer: *payer,
                        account: *account,
                        lamports,
                    });
                }
                Action::Memo { text } => out.memos.push(text.clone()),
                Action::AdvanceNonceAccount { .. }
                | Action::SetComputeUnitLimit { .. }
                | Action::SetComputeUnitPrice { .. } => {}
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn token_transfer(
        &mut self,
        program: TokenProgram,
        source: Address,
        destination: Address,
        authority: Address,
        mint: Option<(Address, u8)>,
        amount: u64,
        owner: Option<Address>,
    ) {
        self.debits.push(Debit::Token {
            source,
            authority,
            mint: mint.map(|(mint, _)| mint),
            decimals: mint.map(|(_, decimals)| decimals),
            amount,
            program,
        });
        self.recipients.push(Recipient::TokenAccount {
            account: destination,
            owner,
            mint: mint.map(|(mint, _)| mint),
            amount,
            program,
        });
    }
}

fn serialize_refusals<S: serde::Serializer>(
    refusals: &[Refusal],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = serializer.serialize_seq(Some(refusals.len()))?;
    for refusal in refusals {
        seq.serialize_element(
            &serde_json::json!({"code": refusal.code(), "message": refusal.to_string()}),
        )?;
    }
    seq.end()
}

/// A message the signer is willing to consider: decoded, explained, and free of refusals.
///
/// The policy engine decides on a `Signable`, the reservation records its message, and the
/// signer signs exactly that message: there is no path from unexplained bytes to a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signable {
    message: Message,
    explanation: Explanation,
    /// An outside fee payer that signs after the session key ([`Self::sponsored_by`]).
    sponsor: Option<Address>,
}

impl Signable {
    /// Explains `message` and refuses it if anything in it is not allowed (the first refusal).
    pub fn new(message: Message) -> Result<Self, Refusal> {
        let explanation = explain(&message);
        if let Some(refusal) = explanation.refusals.first() {
            return Err(refusal.clone());
        }
        Ok(Self {
            message,
            explanation,
            sponsor: None,
        })
    }

    /// Declares the fee payer an outside sponsor (an x402 facilitator) that signs after the
    /// session key and pays the network fee, so the policy accepts that fee payer and counts
    /// none of its fees (they are not the user's money). Refused unless `sponsor` is the fee
    /// payer, no instruction names it (as an account or a program: it can then authorise
    /// nothing but the fee), and nothing debits it but that fee.
    pub fn sponsored_by(self, sponsor: Address) -> Result<Self, crate::solana::SponsorError> {
        use crate::solana::SponsorError;
        if self.explanation.fee_payer != sponsor {
            return Err(SponsorError::NotTheFeePayer {
                expected: sponsor,
                actual: self.explanation.fee_payer,
            });
        }
        let named =
            |index: &u8| self.message.account_keys.get(usize::from(*index)) == Some(&sponsor);
        if let Some((index, _)) = self
            .message
            .instructions
            .iter()
            .enumerate()
            .find(|(_, i)| named(&i.program_id_index) || i.accounts.iter().any(named))
        {
            return Err(SponsorError::NamedByInstruction { index, sponsor });
        }
        let debited = self.explanation.debits.iter().any(|debit| {
            *debit.authority() == sponsor
                && !matches!(
                    debit,
                    Debit::Lamports {
                        cause: LamportCause::Fee,
                        ..
                    }
                )
        });
        if debited {
            return Err(SponsorError::Debited { sponsor });
        }
        Ok(Self {
            sponsor: Some(sponsor),
            ..self
        })
    }

    /// The outside fee payer, if [`Self::sponsored_by`] declared one.
    pub fn sponsor(&self) -> Option<&Address> {
        self.sponsor.as_ref()
    }

    pub fn message(&self) -> &Message {
        &self.message
    }

    pub fn explanation(&self) -> &Explanation {
        &self.explanation
    }

    pub fn into_message(self) -> Message {
        self.message
    }
}
