//! The ledger behind the devnet's JSON-RPC: LiteSVM plus the bookkeeping a cluster exposes
//! (block height, blockhash validity, signature statuses) and a faucet.
//!
//! LiteSVM accepts only its latest blockhash, so the devnet keeps one blockhash until it is
//! explicitly expired (`devnet_expireBlockhash`), which also moves the block height past that
//! blockhash's last valid block height: "expired and absent" is then observable exactly as on
//! a real cluster.

use std::collections::HashMap;

use litesvm::LiteSVM;
use solana_account::Account;
use solana_address::{address, Address};
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use spl_token_interface::state::{Account as TokenAccount, Mint};
use thiserror::Error;

/// USDC's mainnet address; the devnet serves a 6-decimal mint there.
pub const USDC_MINT: Address = address!("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
pub const USDC_DECIMALS: u8 = 6;
/// A blockhash stays valid for this many blocks after the block it was issued in.
pub const BLOCKHASH_VALIDITY_BLOCKS: u64 = 150;
/// Airdrops above this are refused, as on public test clusters.
pub const MAX_AIRDROP_LAMPORTS: u64 = 1_000 * 1_000_000_000;
/// Transactions LiteSVM remembers: its history both answers getSignatureStatuses and refuses
/// a replayed signature (AlreadyProcessed), as a cluster's status cache does. Beyond this
/// many, the oldest are forgotten.
pub const TRANSACTION_HISTORY: usize = 20_000;

#[derive(Debug, Error)]
pub enum ChainError {
    #[error("transaction simulation failed: {err}")]
    Simulation { err: String, logs: Vec<String> },
    #[error("airdrop of {0} lamports exceeds the faucet limit of {MAX_AIRDROP_LAMPORTS}")]
    AirdropTooLarge(u64),
    #[error("faucet transaction failed: {0}")]
    Faucet(String),
    #[error("{0} is not a token account")]
    NotTokenAccount(Address),
}

/// Outcome of a processed transaction, as getSignatureStatuses reports it.
#[derive(Debug, Clone)]
pub struct SignatureStatus {
    pub slot: u64,
    pub err: Option<String>,
}

/// What simulateTransaction reports.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub err: Option<String>,
    pub logs: Vec<String>,
    pub units_consumed: u64,
}

/// A token balance as getTokenAccountBalance reports it.
#[derive(Debug, Clone, Copy)]
pub struct TokenBalance {
    pub amount: u64,
    pub decimals: u8,
}

/// One token account's balance before or after a transaction (getTransaction's
/// `preTokenBalances` / `postTokenBalances`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBalanceEntry {
    pub account_index: usize,
    pub mint: Address,
    pub owner: Address,
    pub amount: u64,
    pub decimals: u8,
}

/// What getTransaction reports about a processed transaction.
#[derive(Debug, Clone)]
pub struct ProcessedTransaction {
    pub slot: u64,
    /// Unix seconds when the devnet processed it.
    pub block_time: i64,
    pub err: Option<String>,
    pub wire: Vec<u8>,
    pub pre_token_balances: Vec<TokenBalanceEntry>,
    pub post_token_balances: Vec<TokenBalanceEntry>,
}

pub struct Chain {
    svm: LiteSVM,
    faucet: Keypair,
    block_height: u64,
    blockhash_issued_at: u64,
    /// Block height at which each remembered transaction was processed.
    processed_at: HashMap<Signature, u64>,
    /// getTransaction's answers, by signature.
    processed: HashMap<Signature, ProcessedTransaction>,
    /// Signatures of processed transactions by account key, oldest first
    /// (getSignaturesForAddress).
    by_address: HashMap<Address, Vec<Signature>>,
}

impl Chain {
    /// A fresh chain with the default programs (System, SPL Token, Token-2022, ATA, Memo) and
    /// a USDC mint whose authority is the faucet.
    pub fn new() -> Result<Self, ChainError> {
        let mut svm = LiteSVM::new().with_transaction_history(TRANSACTION_HISTORY);
        let faucet = Keypair::new();
        svm.airdrop(&faucet.pubkey(), MAX_AIRDROP_LAMPORTS)
            .map_err(|e| ChainError::Faucet(e.err.to_string()))?;
        let mint = Mint {
            mint_authority: Some(faucet.pubkey()).into(),
            supply: 0,
            decimals: USDC_DECIMALS,
            is_initialized: true,
            freeze_authority: None.into(),
        };
        let mut data = vec![0u8; Mint::LEN];
        Mint::pack(mint, &mut data).map_err(|e| ChainError::Faucet(e.to_string()))?;
        svm.set_account(
            USDC_MINT,
            Account {
                lamports: svm.minimum_balance_for_rent_exemption(Mint::LEN),
                data,
                owner: spl_token_interface::ID,
                executable: false,
                rent_epoch: 0,
            },
        )
        .map_err(|e| ChainError::Faucet(e.to_string()))?;
        Ok(Self {
            svm,
            faucet,
            block_height: 1,
            blockhash_issued_at: 1,
            processed_at: HashMap::new(),
            processed: HashMap::new(),
            by_address: HashMap::new(),
        })
    }

    pub fn slot(&self) -> u64 {
        self.block_height
    }

    pub fn block_height(&self) -> u64 {
        self.block_height
    }

    /// The current blockhash and the last block height at which it is valid.
    pub fn latest_blockhash(&self) -> (Hash, u64) {
        (
            self.svm.latest_blockhash(),
            self.blockhash_issued_at
                .saturating_add(BLOCKHASH_VALIDITY_BLOCKS),
        )
    }

    /// Replaces the blockhash and moves the block height past the old one's validity.
    pub fn expire_blockhash(&mut self) -> u64 {
        self.block_height = self
            .blockhash_issued_at
            .saturating_add(BLOCKHASH_VALIDITY_BLOCKS)
            .saturating_add(1)
            .max(self.block_height.saturating_add(1));
        self.blockhash_issued_at = self.block_height;
        self.svm.expire_blockhash();
        self.svm.warp_to_slot(self.block_height);
        self.block_height
    }

    /// Runs the transaction; with preflight a failing one is refused and not recorded.
    pub fn send(
        &mut self,
        tx: VersionedTransaction,
        preflight: bool,
    ) -> Result<Signature, ChainError> {
        let signature = tx.signatures.first().copied().unwrap_or_default();
        if preflight {
            if let Err(failed) = self.svm.simulate_transaction(tx.clone()) {
                return Err(ChainError::Simulation {
                    err: failed.err.to_string(),
                    logs: failed.meta.logs,
                });
            }
        }
        let keys: Vec<Address> = tx.message.static_account_keys().to_vec();
        let wire = bincode::serialize(&tx).unwrap_or_default();
        let pre = self.token_balances(&keys);
        let result = self.svm.send_transaction(tx);
        self.record(signature);
        if self.processed_at.contains_key(&signature) && !self.processed.contains_key(&signature) {
            let post = self.token_balances(&keys);
            self.remember(
                signature,
                &keys,
                wire,
                pre,
                post,
                result.as_ref().err().map(|f| f.err.to_string()),
            );
        }
        match result {
            Ok(_) => Ok(signature),
            Err(failed) if preflight => Err(ChainError::Simulation {
                err: failed.err.to_string(),
                logs: failed.meta.logs,
            }),
            Err(_) => Ok(signature),
        }
    }

    /// Notes when a transaction LiteSVM included (succeeded, or failed after paying its fee)
    /// was processed; rejected ones never enter its history.
    fn record(&mut self, signature: Signature) {
        if self.svm.get_transaction(&signature).is_some() {
            self.processed_at
                .entry(signature)
                .or_insert(self.block_height);
        }
    }

    /// The token accounts among `keys` and their balances now.
    fn token_balances(&self, keys: &[Address]) -> Vec<TokenBalanceEntry> {
        keys.iter()
            .enumerate()
            .filter_map(|(account_index, key)| {
                let account = self.svm.get_account(key)?;
                if account.owner != spl_token_interface::ID {
                    return None;
                }
                let token = TokenAccount::unpack(&account.data).ok()?;
                let decimals = self
                    .svm
                    .get_account(&token.mint)
                    .and_then(|m| Mint::unpack(&m.data).ok())
                    .map_or(0, |m| m.decimals);
                Some(TokenBalanceEntry {
                    account_index,
                    mint: token.mint,
                    owner: token.owner,
                    amount: token.amount,
                    decimals,
                })
            })
            .collect()
    }

    fn remember(
        &mut self,
        signature: Signature,
        keys: &[Address],
        wire: Vec<u8>,
        pre_token_balances: Vec<TokenBalanceEntry>,
        post_token_balances: Vec<TokenBalanceEntry>,
        err: Option<String>,
    ) {
        let block_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        for key in keys {
            self.by_address.entry(*key).or_default().push(signature);
        }
        self.processed.insert(
            signature,
            ProcessedTransaction {
                slot: self.block_height,
                block_time,
                err,
                wire,
                pre_token_balances,
                post_token_balances,
            },
        );
    }

    /// Signatures of processed transactions that name `address`, newest first, as
    /// getSignaturesForAddress pages them: older than `before` and newer than `until` (both
    /// exclusive) where given.
    pub fn signatures_for_address(
        &self,
        address: &Address,
        limit: usize,
        before: Option<&Signature>,
        until: Option<&Signature>,
    ) -> Vec<(Signature, &ProcessedTransaction)> {
        let Some(list) = self.by_address.get(address) else {
            return Vec::new();
        };
        let newest_first = list.iter().rev();
        let start = before.map_or(0, |b| {
            list.iter()
                .rev()
                .position(|s| s == b)
                .map_or(list.len(), |i| i + 1)
        });
        newest_first
            .skip(start)
            .take_while(|s| Some(*s) != until)
            .filter_map(|s| self.processed.get(s).map(|p| (*s, p)))
            .take(limit)
            .collect()
    }

    /// The time of a slot in which a transaction was processed.
    pub fn block_time_of(&self, slot: u64) -> Option<i64> {
        self.processed
            .values()
            .find(|p| p.slot == slot)
            .map(|p| p.block_time)
    }

    pub fn transaction(&self, signature: &Signature) -> Option<&ProcessedTransaction> {
        self.processed.get(signature)
    }

    /// Runs `tx` against the current state without keeping anything. Signatures are checked
    /// only when `verify_signatures` (Solana's `sigVerify`, off unless asked): a partially
    /// signed transaction, such as an x402 payment before its facilitator signs, simulates.
    pub fn simulate(&self, tx: VersionedTransaction, verify_signatures: bool) -> Simulation {
        let outcome = if verify_signatures || !self.svm.get_sigverify() {
            self.svm.simulate_transaction(tx)
        } else {
            // LiteSVM turns verification off only by value; a copy of the state is simulated.
            self.svm
                .clone()
                .with_sigverify(false)
                .simulate_transaction(tx)
        };
        match outcome {
            Ok(info) => Simulation {
                err: None,
                logs: info.meta.logs,
                units_consumed: info.meta.compute_units_consumed,
            },
            Err(failed) => Simulation {
                err: Some(failed.err.to_string()),
                logs: failed.meta.logs,
                units_consumed: failed.meta.compute_units_consumed,
            },
        }
    }

    pub fn status(&self, signature: &Signature) -> Option<SignatureStatus> {
        let result = self.svm.get_transaction(signature)?;
        Some(SignatureStatus {
            slot: self
                .processed_at
                .get(signature)
                .copied()
                .unwrap_or(self.block_height),
            err: result.as_ref().err().map(|failed| failed.err.to_string()),
        })
    }

    pub fn balance(&self, address: &Address) -> u64 {
        self.svm.get_balance(address).unwrap_or(0)
    }

    pub fn account(&self, address: &Address) -> Option<Account> {
        self.svm
            .get_account(address)
            .filter(|a| a.lamports > 0 || !a.data.is_empty())
    }

    pub fn token_balance(&self, address: &Address) -> Result<TokenBalance, ChainError> {
        let account = self
            .account(address)
            .ok_or(ChainError::NotTokenAccount(*address))?;
        if account.owner != spl_token_interface::ID {
            return Err(ChainError::NotTokenAccount(*address));
        }
        let token = TokenAccount::unpack(&account.data)
            .map_err(|_| ChainError::NotTokenAccount(*address))?;
        let mint = self
            .account(&token.mint)
            .and_then(|m| Mint::unpack(&m.data).ok())
            .ok_or(ChainError::NotTokenAccount(*address))?;
        Ok(TokenBalance {
            amount: token.amount,
            decimals: mint.decimals,
        })
    }

    pub fn minimum_balance_for_rent_exemption(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    pub fn airdrop(&mut self, to: &Address, lamports: u64) -> Result<Signature, ChainError> {
        if lamports > MAX_AIRDROP_LAMPORTS {
            return Err(ChainError::AirdropTooLarge(lamports));
        }
        let signature = self
            .svm
            .airdrop(to, lamports)
            .map_err(|failed| ChainError::Faucet(failed.err.to_string()))?
            .signature;
        self.record(signature);
        Ok(signature)
    }

    /// USDC in `owner`'s associated token account (0 if it has none).
    pub fn usdc_balance(&self, owner: &Address) -> u64 {
        let account = spl_associated_token_account_interface::address::get_associated_token_address(
            owner, &USDC_MINT,
        );
        self.token_balance(&account).map_or(0, |b| b.amount)
    }

    /// Creates `owner`'s USDC account if needed and mints `amount` base units into it, in one
    /// transaction signed by the faucet (the mint authority).
    pub fn usdc_airdrop(
        &mut self,
        owner: &Address,
        amount: u64,
    ) -> Result<(Address, Signature), ChainError> {
        use spl_associated_token_account_interface::{address, instruction};
        let faucet = self.faucet.pubkey();
        let account = address::get_associated_token_address(owner, &USDC_MINT);
        let create = instruction::create_associated_token_account_idempotent(
            &faucet,
            owner,
            &USDC_MINT,
            &spl_token_interface::ID,
        );
        let mint_to = spl_token_interface::instruction::mint_to(
            &spl_token_interface::ID,
            &USDC_MINT,
            &account,
            &faucet,
            &[],
            amount,
        )
        .map_err(|e| ChainError::Faucet(e.to_string()))?;
        let message = solana_message::Message::new_with_blockhash(
            &[create, mint_to],
            Some(&faucet),
            &self.svm.latest_blockhash(),
        );
        let tx = solana_transaction::Transaction::new(
            &[&self.faucet],
            message,
            self.svm.latest_blockhash(),
        );
        let signature = self.send(tx.into(), true)?;
        Ok((account, signature))
    }
}
