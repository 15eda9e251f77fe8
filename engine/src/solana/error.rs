//! Why bytes were not understood, or why an understood transaction will not be signed.
//!
//! Every variant has a stable `code()` so operators can alert on causes and clients can branch
//! on them; messages name the program and instruction involved.

use solana_address::Address;
use thiserror::Error;

/// The bytes are not a well-formed legacy or v0 transaction or message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("truncated: input ends inside the {what} at byte {offset}")]
    Truncated { what: &'static str, offset: usize },
    #[error("non-canonical compact-u16 length for the {what} at byte {offset}")]
    NonCanonicalLength { what: &'static str, offset: usize },
    #[error("compact-u16 length for the {what} at byte {offset} exceeds 65535")]
    LengthOverflow { what: &'static str, offset: usize },
    #[error("{count} trailing bytes after the message (from byte {offset})")]
    TrailingBytes { count: usize, offset: usize },
    #[error("V1 (SIMD-0385) messages are refused: only legacy and v0 messages are signed")]
    MessageV1Refused,
    #[error("unsupported message version {0}: only legacy and v0 messages are signed")]
    UnsupportedVersion(u8),
    #[error("the transaction carries {signatures} signatures but its header requires {required}")]
    SignatureCountMismatch { signatures: usize, required: usize },
    #[error("invalid message header: {0}")]
    InvalidHeader(&'static str),
    #[error("account {0} appears twice in the account keys")]
    DuplicateAccountKey(Address),
    #[error("instruction {instruction}: program index {program_index} is the fee payer or not a static account key")]
    InvalidProgramIndex {
        instruction: usize,
        program_index: u8,
    },
    #[error("instruction {instruction}: account index {account_index} is out of range")]
    AccountIndexOutOfRange {
        instruction: usize,
        account_index: u8,
    },
}

impl DecodeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::MessageV1Refused => "message_v1_refused",
            Self::UnsupportedVersion(_) => "unsupported_message_version",
            _ => "malformed_transaction",
        }
    }
}

/// The text given was not base64, base58 or hex of a transaction.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TextEncodingError {
    #[error("no input")]
    Empty,
    #[error("odd-length hex ({0} digits)")]
    OddHex(usize),
    #[error("invalid hex: {0}")]
    Hex(#[source] hex::FromHexError),
    #[error("invalid base58: {0}")]
    Base58(#[source] bs58::decode::Error),
    #[error("invalid base64: {0}")]
    Base64(#[source] base64::DecodeError),
    #[error("input is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("unknown text encoding {0:?}: expected base64, base58 or hex")]
    UnknownEncoding(String),
}

/// A well-formed transaction that the signer will not sign, whatever the policy says.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("instruction {index}: program {program_id} is not on the allowlist")]
    ProgramNotAllowed { index: usize, program_id: Address },
    #[error("instruction {index}: {program} instruction {instruction} is not allowed")]
    InstructionNotAllowed {
        index: usize,
        program: &'static str,
        instruction: String,
    },
    #[error(
        "instruction {index}: {program} {instruction} data is {actual} bytes, expected {expected}"
    )]
    DataLength {
        index: usize,
        program: &'static str,
        instruction: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error(
        "instruction {index}: {program} {instruction} takes {expected} accounts, got {actual}"
    )]
    AccountCount {
        index: usize,
        program: &'static str,
        instruction: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("instruction {index}: {program} {instruction}: {detail}")]
    InvalidAccounts {
        index: usize,
        program: &'static str,
        instruction: &'static str,
        detail: String,
    },
    #[error("instruction {index}: System AdvanceNonceAccount: durable-nonce transactions never expire and would outlive revocation")]
    DurableNonce { index: usize },
    #[error("instruction {index}: ComputeBudget {instruction} appears more than once")]
    DuplicateComputeBudget {
        index: usize,
        instruction: &'static str,
    },
    #[error("a compute unit price is set without SetComputeUnitLimit: the priority fee would be unbounded")]
    ComputeUnitLimitRequired,
    #[error("the priority fee overflows")]
    PriorityFeeOverflow,
    #[error("instruction {index}: account {account} is loaded through an address lookup table and cannot be checked offline")]
    LookupTableAccount { index: usize, account: u8 },
    #[error("the message loads accounts through {tables} address lookup table(s), which cannot be checked offline")]
    LookupTables { tables: usize },
    #[error("instruction {index}: {program} {instruction}: authority {authority} does not sign the transaction")]
    AuthorityNotSigner {
        index: usize,
        program: &'static str,
        instruction: &'static str,
        authority: Address,
    },
    #[error("instruction {index}: extra account {account} is writable or signs; only read-only references are allowed")]
    ExtraAccountNotReference { index: usize, account: Address },
    #[error("instruction {index}: Token-2022 TransferChecked with extra accounts (transfer hook or multisig) is not allowed")]
    Token2022ExtraAccounts { index: usize },
    #[error("instruction {index}: Memo is not valid UTF-8")]
    MemoNotUtf8 { index: usize },
    #[error("instruction {index}: Memo names account {account}, which does not sign")]
    MemoAccountNotSigner { index: usize, account: Address },
    #[error("the transaction contains no instruction")]
    NoInstructions,
}

impl Refusal {
    /// Order in which refusals are reported: unknown programs, then disallowed instructions,
    /// then durable nonces and lookup tables, then malformed details.
    pub fn rank(&self) -> u8 {
        match self {
            Self::ProgramNotAllowed { .. } => 0,
            Self::InstructionNotAllowed { .. } => 1,
            Self::DurableNonce { .. } => 2,
            Self::LookupTables { .. } | Self::LookupTableAccount { .. } => 3,
            _ => 4,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::ProgramNotAllowed { .. } => "program_not_allowed",
            Self::InstructionNotAllowed { .. } => "instruction_not_allowed",
            Self::DataLength { .. } => "instruction_data_length",
            Self::AccountCount { .. } => "instruction_account_count",
            Self::InvalidAccounts { .. } => "instruction_accounts_invalid",
            Self::DurableNonce { .. } => "durable_nonce_refused",
            Self::DuplicateComputeBudget { .. } => "duplicate_compute_budget",
            Self::ComputeUnitLimitRequired => "compute_unit_limit_required",
            Self::PriorityFeeOverflow => "priority_fee_overflow",
            Self::LookupTableAccount { .. } | Self::LookupTables { .. } => "lookup_tables_refused",
            Self::AuthorityNotSigner { .. } => "authority_not_signer",
            Self::ExtraAccountNotReference { .. } => "extra_account_not_reference",
            Self::Token2022ExtraAccounts { .. } => "token2022_extra_accounts",
            Self::MemoNotUtf8 { .. } => "memo_not_utf8",
            Self::MemoAccountNotSigner { .. } => "memo_account_not_signer",
            Self::NoInstructions => "no_instructions",
        }
    }
}

/// A payment could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuildError {
    #[error("amount must be greater than zero")]
    ZeroAmount,
    #[error("the fee payer must differ from the session key")]
    FeePayerIsAuthority,
    #[error("a sponsored payment cannot create the recipient's token account (the sponsor pays the network fee only)")]
    SponsorCreatesAccount,
    #[error("the sponsored message was refused: {0}")]
    Sponsor(#[source] SponsorError),
    #[error("memo is longer than {max} bytes")]
    MemoTooLong { max: usize },
    #[error("the built message did not decode: {0}")]
    Decode(#[source] DecodeError),
    #[error("the built message was refused: {0}")]
    Refused(#[source] Refusal),
}

/// A fee payer that is not the sponsor the caller named, or that the transaction would use for
/// more than its network fee (x402's fee payer isolation, `scheme_exact_svm.md` §2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SponsorError {
    #[error("the fee payer is {actual}, not the sponsor {expected}")]
    NotTheFeePayer { expected: Address, actual: Address },
    #[error("instruction {index} names the sponsor {sponsor} (as an account or its program)")]
    NamedByInstruction { index: usize, sponsor: Address },
    #[error("the sponsor {sponsor} would be debited more than its network fee")]
    Debited { sponsor: Address },
}

impl SponsorError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotTheFeePayer { .. } => "sponsor_not_fee_payer",
            Self::NamedByInstruction { .. } => "sponsor_in_instruction",
            Self::Debited { .. } => "sponsor_debited",
        }
    }
}

/// A signature could not be added.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    #[error("key {0} is not a required signer of this message")]
    NotASigner(Address),
}
