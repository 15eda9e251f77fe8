//! The Solana cluster as the enclave sees it: JSON-RPC over TLS that ends in the enclave,
//! through the host's egress proxy, to a quorum of endpoints.
//!
//! The chain is not trusted for anything but its own state: it is asked for a recent
//! blockhash, its time, given signed transactions, and asked whether they landed and what a
//! wallet spent. No single endpoint's word decides anything (`quorum`).

pub mod landed;
pub mod quorum;
pub mod rpc;

pub use landed::{LandedTransaction, ServedTransactionError};
pub use quorum::{Cosigned, Debit, History, RpcQuorum, Span};
pub use rpc::{LandedStatus, RpcError, SignatureInfo, SolanaRpc};
