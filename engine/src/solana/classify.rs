//! Classification of single instructions against the program allowlist.
//!
//! Each allowed instruction is decoded into an [`Action`] with its accounts resolved; anything
//! else becomes a [`Refusal`] that names the program and the instruction. Data lengths must be
//! exact: a longer buffer than the program reads could hide a second meaning.

use serde::Serialize;
use solana_address::Address;

use super::error::Refusal;
use super::programs::{
    associated_token_address, TokenProgram, ASSOCIATED_TOKEN_PROGRAM, COMPUTE_BUDGET_PROGRAM,
    MEMO_PROGRAM, MEMO_V1_PROGRAM, RENT_SYSVAR, SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM,
};
use super::wire::{CompiledInstruction, Message};

/// What an allowed instruction does, with its accounts resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    SystemTransfer {
        #[serde(with = "crate::solana::as_text")]
        from: Address,
        #[serde(with = "crate::solana::as_text")]
        to: Address,
        lamports: u64,
    },
    /// Recognised so that it can be explained; always refused.
    AdvanceNonceAccount {
        #[serde(with = "crate::solana::as_text")]
        nonce_account: Address,
        #[serde(with = "crate::solana::as_text")]
        authority: Address,
    },
    /// SPL Token `Transfer`: carries no mint, so the policy cannot tell what is moved.
    TokenTransfer {
        program: TokenProgram,
        #[serde(with = "crate::solana::as_text")]
        source: Address,
        #[serde(with = "crate::solana::as_text")]
        destination: Address,
        #[serde(with = "crate::solana::as_text")]
        authority: Address,
        amount: u64,
    },
    TokenTransferChecked {
        program: TokenProgram,
        #[serde(with = "crate::solana::as_text")]
        source: Address,
        #[serde(with = "crate::solana::as_text")]
        mint: Address,
        #[serde(with = "crate::solana::as_text")]
        destination: Address,
        #[serde(with = "crate::solana::as_text")]
        authority: Address,
        amount: u64,
        decimals: u8,
    },
    CreateAssociatedTokenAccount {
        idempotent: bool,
        #[serde(with = "crate::solana::as_text")]
        payer: Address,
        #[serde(with = "crate::solana::as_text")]
        account: Address,
        #[serde(with = "crate::solana::as_text")]
        wallet: Address,
        #[serde(with = "crate::solana::as_text")]
        mint: Address,
        program: TokenProgram,
    },
    SetComputeUnitLimit {
        units: u32,
    },
    SetComputeUnitPrice {
        micro_lamports: u64,
    },
    Memo {
        text: String,
    },
}

/// One classified instruction: the action and the read-only references appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub action: Action,
    pub references: Vec<Address>,
}

/// The instruction's view of the message: resolved accounts and the message's flags.
struct Context<'a> {
    index: usize,
    message: &'a Message,
    instruction: &'a CompiledInstruction,
}

impl Context<'_> {
    fn account(&self, position: usize) -> Result<Address, Refusal> {
        let account_index =
            *self
                .instruction
                .accounts
                .get(position)
                .ok_or(Refusal::InvalidAccounts {
                    index: self.index,
                    program: "message",
                    instruction: "accounts",
                    detail: format!("missing account {position}"),
                })?;
        self.message
            .account_keys
            .get(usize::from(account_index))
            .copied()
            .ok_or(Refusal::LookupTableAccount {
                index: self.index,
                account: account_index,
            })
    }

    fn message_index(&self, position: usize) -> usize {
        self.instruction
            .accounts
            .get(position)
            .map_or(usize::MAX, |&i| usize::from(i))
    }

    fn expect_data_len(
        &self,
        program: &'static str,
        instruction: &'static str,
        expected: usize,
    ) -> Result<(), Refusal> {
        let actual = self.instruction.data.len();
        if actual == expected {
            Ok(())
        } else {
            Err(Refusal::DataLength {
                index: self.index,
                program,
                instruction,
                expected,
                actual,
            })
        }
    }

    fn expect_min_accounts(
        &self,
        program: &'static str,
        instruction: &'static str,
        expected: usize,
    ) -> Result<(), Refusal> {
        let actual = self.instruction.accounts.len();
        if actual >= expected {
            Ok(())
        } else {
            Err(Refusal::AccountCount {
                index: self.index,
                program,
                instruction,
                expected,
                actual,
            })
        }
    }

    fn expect_exact_accounts(
        &self,
        program: &'static str,
        instruction: &'static str,
        expected: usize,
    ) -> Result<(), Refusal> {
        let actual = self.instruction.accounts.len();
        if actual == expected {
            Ok(())
        } else {
            Err(Refusal::AccountCount {
                index: self.index,
                program,
                instruction,
                expected,
                actual,
            })
        }
    }

    /// The account at `position` must sign the transaction (it is the debited authority).
    fn signer(
        &self,
        position: usize,
        program: &'static str,
        instruction: &'static str,
    ) -> Result<Address, Refusal> {
        let authority = self.account(position)?;
        if self.message.is_signer(self.message_index(position)) {
            Ok(authority)
        } else {
            Err(Refusal::AuthorityNotSigner {
                index: self.index,
                program,
                instruction,
                authority,
            })
        }
    }

    /// Accounts after the first `fixed` must be read-only non-signers (Solana Pay references).
    fn references(&self, fixed: usize) -> Result<Vec<Address>, Refusal> {
        let mut references = Vec::new();
        for position in fixed..self.instruction.accounts.len() {
            let account = self.account(position)?;
            let message_index = self.message_index(position);
            if self.message.is_signer(message_index) || self.message.is_writable(message_index) {
                return Err(Refusal::ExtraAccountNotReference {
                    index: self.index,
                    account,
                });
            }
            references.push(account);
        }
        Ok(references)
    }

    fn data_u64(&self, offset: usize) -> u64 {
        let mut bytes = [0u8; 8];
        if let Some(slice) = self.instruction.data.get(offset..offset.saturating_add(8)) {
            bytes.copy_from_slice(slice);
        }
        u64::from_le_bytes(bytes)
    }

    fn data_u32(&self, offset: usize) -> u32 {
        let mut bytes = [0u8; 4];
        if let Some(slice) = self.instruction.data.get(offset..offset.saturating_add(4)) {
            bytes.copy_from_slice(slice);
        }
        u32::from_le_bytes(bytes)
    }

    fn not_allowed(&self, program: &'static str, instruction: String) -> Refusal {
        Refusal::InstructionNotAllowed {
            index: self.index,
            program,
            instruction,
        }
    }
}

/// Classifies instruction `index` of `message`.
pub fn classify(
    message: &Message,
    index: usize,
    instruction: &CompiledInstruction,
) -> Result<Classified, Refusal> {
    let ctx = Context {
        index,
        message,
        instruction,
    };
    let program_id = message
        .account_keys
        .get(usize::from(instruction.program_id_index))
        .copied()
        .ok_or(Refusal::LookupTableAccount {
            index,
            account: instruction.program_id_index,
        })?;
    let plain = |action| {
        Ok(Classified {
            action,
            references: Vec::new(),
        })
    };
    if program_id == SYSTEM_PROGRAM {
        classify_system(&ctx)
    } else if let Some(program) = TokenProgram::from_id(&program_id) {
        classify_token(&ctx, program)
    } else if program_id == ASSOCIATED_TOKEN_PROGRAM {
        classify_associated_token(&ctx).and_then(plain)
    } else if program_id == COMPUTE_BUDGET_PROGRAM {
        classify_compute_budget(&ctx).and_then(plain)
    } else if program_id == MEMO_PROGRAM || program_id == MEMO_V1_PROGRAM {
        classify_memo(&ctx).and_then(plain)
    } else {
        Err(Refusal::ProgramNotAllowed { index, program_id })
    }
}

const SYSTEM: &str = "System";
const SYSTEM_INSTRUCTIONS: [&str; 14] = [
    "CreateAccount",
    "Assign",
    "Transfer",
    "CreateAccountWithSeed",
    "AdvanceNonceAccount",
    "WithdrawNonceAccount",
    "InitializeNonceAccount",
    "AuthorizeNonceAccount",
    "Allocate",
    "AllocateWithSeed",
    "AssignWithSeed",
    "TransferWithSeed",
    "UpgradeNonceAccount",
    "CreateAccountAllowPrefund",
];

fn classify_system(ctx: &Context<'_>) -> Result<Classified, Refusal> {
    if ctx.instruction.data.len() < 4 {
        return Err(ctx.not_allowed(
            SYSTEM,
            format!("with {}-byte data", ctx.instruction.data.len()),
        ));
    }
    match ctx.data_u32(0) {
        2 => {
            ctx.expect_data_len(SYSTEM, "Transfer", 12)?;
            ctx.expect_min_accounts(SYSTEM, "Transfer", 2)?;
            let from = ctx.signer(0, SYSTEM, "Transfer")?;
            Ok(Classified {
                action: Action::SystemTransfer {
                    from,
                    to: ctx.account(1)?,
                    lamports: ctx.data_u64(4),
                },
                references: ctx.references(2)?,
            })
        }
        4 => {
            ctx.expect_data_len(SYSTEM, "AdvanceNonceAccount", 4)?;
            ctx.expect_exact_accounts(SYSTEM, "AdvanceNonceAccount", 3)?;
            Ok(Classified {
                action: Action::AdvanceNonceAccount {
                    nonce_account: ctx.account(0)?,
                    authority: ctx.account(2)?,
                },
                references: Vec::new(),
            })
        }
        tag => Err(ctx.not_allowed(SYSTEM, instruction_name(&SYSTEM_INSTRUCTIONS, tag))),
    }
}

const TOKEN_INSTRUCTIONS: [&str; 25] = [
    "InitializeMint",
    "InitializeAccount",
    "InitializeMultisig",
    "Transfer",
    "Approve",
    "Revoke",
    "SetAuthority",
    "MintTo",
    "Burn",
    "CloseAccount",
    "FreezeAccount",
    "ThawAccount",
    "TransferChecked",
    "ApproveChecked",
    "MintToChecked",
    "BurnChecked",
    "InitializeAccount2",
    "SyncNative",
    "InitializeAccount3",
    "InitializeMultisig2",
    "InitializeMint2",
    "GetAccountDataSize",
    "InitializeImmutableOwner",
    "AmountToUiAmount",
    "UiAmountToAmount",
];

fn classify_token(ctx: &Context<'_>, program: TokenProgram) -> Result<Classified, Refusal> {
    let name = match program {
        TokenProgram::Token => "SPL Token",
        TokenProgram::Token2022 => "Token-2022",
    };
    let Some(&tag) = ctx.instruction.data.first() else {
        return Err(ctx.not_allowed(name, "with empty data".to_string()));
    };
    match (tag, program) {
        (3, TokenProgram::Token) => {
            ctx.expect_data_len(name, "Transfer", 9)?;
            ctx.expect_min_accounts(name, "Transfer", 3)?;
            let authority = ctx.signer(2, name, "Transfer")?;
            Ok(Classified {
                action: Action::TokenTransfer {
                    program,
                    source: ctx.account(0)?,
                    destination: ctx.account(1)?,
                    authority,
                    amount: ctx.data_u64(1),
                },
                references: ctx.references(3)?,
            })
        }
        (12, _) => {
            ctx.expect_data_len(name, "TransferChecked", 10)?;
            ctx.expect_min_accounts(name, "TransferChecked", 4)?;
            if program == TokenProgram::Token2022 && ctx.instruction.accounts.len() > 4 {
                return Err(Refusal::Token2022ExtraAccounts { index: ctx.index });
            }
            let authority = ctx.signer(3, name, "TransferChecked")?;
            Ok(Classified {
                action: Action::TokenTransferChecked {
                    program,
                    source: ctx.account(0)?,
                    mint: ctx.account(1)?,
                    destination: ctx.account(2)?,
                    authority,
                    amount: ctx.data_u64(1),
                    decimals: ctx.instruction.data.get(9).copied().unwrap_or_default(),
                },
                references: ctx.references(4)?,
            })
        }
        (tag, _) => {
            Err(ctx.not_allowed(name, instruction_name(&TOKEN_INSTRUCTIONS, u32::from(tag))))
        }
    }
}

const ATA: &str = "AssociatedTokenAccount";

fn classify_associated_token(ctx: &Context<'_>) -> Result<Action, Refusal> {
    let (idempotent, instruction) = match ctx.instruction.data.as_slice() {
        [] | [0] => (false, "Create"),
        [1] => (true, "CreateIdempotent"),
        [2] => return Err(ctx.not_allowed(ATA, "RecoverNested".to_string())),
        data => return Err(ctx.not_allowed(ATA, format!("with {}-byte data", data.len()))),
    };
    // Older clients append the Rent sysvar as a seventh account; the program ignores it.
    let accounts = ctx.instruction.accounts.len();
    if accounts == 7 && ctx.account(6)? != RENT_SYSVAR {
        return Err(Refusal::InvalidAccounts {
            index: ctx.index,
            program: ATA,
            instruction,
            detail: "account 6 is not the Rent sysvar".to_string(),
        });
    }
    if accounts != 7 {
        ctx.expect_exact_accounts(ATA, instruction, 6)?;
    }
    let payer = ctx.signer(0, ATA, instruction)?;
    let account = ctx.account(1)?;
    let wallet = ctx.account(2)?;
    let mint = ctx.account(3)?;
    let invalid = |detail: String| Refusal::InvalidAccounts {
        index: ctx.index,
        program: ATA,
        instruction,
        detail,
    };
    if ctx.account(4)? != SYSTEM_PROGRAM {
        return Err(invalid("account 4 is not the System program".to_string()));
    }
    let token_program_id = ctx.account(5)?;
    let program = TokenProgram::from_id(&token_program_id).ok_or_else(|| {
        invalid(format!(
            "account 5 ({token_program_id}) is not a token program"
        ))
    })?;
    if associated_token_address(&wallet, &mint, program) != account {
        return Err(invalid(format!(
            "{account} is not the associated token account of {wallet} for mint {mint}"
        )));
    }
    Ok(Action::CreateAssociatedTokenAccount {
        idempotent,
        payer,
        account,
        wallet,
        mint,
        program,
    })
}

const COMPUTE_BUDGET: &str = "ComputeBudget";
const COMPUTE_BUDGET_INSTRUCTIONS: [&str; 5] = [
    "RequestUnits (deprecated)",
    "RequestHeapFrame",
    "SetComputeUnitLimit",
    "SetComputeUnitPrice",
    "SetLoadedAccountsDataSizeLimit",
];

fn classify_compute_budget(ctx: &Context<'_>) -> Result<Action, Refusal> {
    let Some(&tag) = ctx.instruction.data.first() else {
        return Err(ctx.not_allowed(COMPUTE_BUDGET, "with empty data".to_string()));
    };
    let (action, instruction) = match tag {
        2 => {
            ctx.expect_data_len(COMPUTE_BUDGET, "SetComputeUnitLimit", 5)?;
            (
                Action::SetComputeUnitLimit {
                    units: ctx.data_u32(1),
                },
                "SetComputeUnitLimit",
            )
        }
        3 => {
            ctx.expect_data_len(COMPUTE_BUDGET, "SetComputeUnitPrice", 9)?;
            (
                Action::SetComputeUnitPrice {
                    micro_lamports: ctx.data_u64(1),
                },
                "SetComputeUnitPrice",
            )
        }
        tag => {
            return Err(ctx.not_allowed(
                COMPUTE_BUDGET,
                instruction_name(&COMPUTE_BUDGET_INSTRUCTIONS, u32::from(tag)),
            ))
        }
    };
    ctx.expect_exact_accounts(COMPUTE_BUDGET, instruction, 0)?;
    Ok(action)
}

fn classify_memo(ctx: &Context<'_>) -> Result<Action, Refusal> {
    let text = std::str::from_utf8(&ctx.instruction.data)
        .map_err(|_| Refusal::MemoNotUtf8 { index: ctx.index })?
        .to_string();
    for position in 0..ctx.instruction.accounts.len() {
        let account = ctx.account(position)?;
        if !ctx.message.is_signer(ctx.message_index(position)) {
            return Err(Refusal::MemoAccountNotSigner {
                index: ctx.index,
                account,
            });
        }
    }
    Ok(Action::Memo { text })
}

fn instruction_name(names: &[&str], tag: u32) -> String {
    usize::try_from(tag)
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| format!("with tag {tag}"), |name| (*name).to_string())
}

/// The program name used in explanations.
pub fn program_name(program_id: &Address) -> Option<&'static str> {
    [
        (SYSTEM_PROGRAM, "system"),
        (TOKEN_PROGRAM, "spl_token"),
        (TOKEN_2022_PROGRAM, "token_2022"),
        (ASSOCIATED_TOKEN_PROGRAM, "associated_token_account"),
        (COMPUTE_BUDGET_PROGRAM, "compute_budget"),
        (MEMO_PROGRAM, "memo"),
        (MEMO_V1_PROGRAM, "memo_v1"),
    ]
    .iter()
    .find(|(id, _)| id == program_id)
    .map(|(_, name)| *name)
}
