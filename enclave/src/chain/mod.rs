//! The Solana cluster as the enclave sees it: JSON-RPC through the host's egress proxy.
//!
//! The chain is not trusted for anything but its own state: it is asked for a recent
//! blockhash, given signed transactions, and asked whether they landed.

pub mod rpc;

pub use rpc::{LandedStatus, RpcError, SignatureInfo, SolanaRpc};
