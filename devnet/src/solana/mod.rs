//! `aip-devnet solana`: a Solana JSON-RPC endpoint on loopback backed by LiteSVM.

pub mod chain;
pub mod rpc;
