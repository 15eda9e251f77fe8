//! The chaos soak (`scripts/soak`): concurrent autonomous payments across several session keys
//! and agents while processes are killed (-9) at random moments and restarted, then an audit
//! against the chain, not the enclave's own view.
//!
//! - [`load`]: the sessions and the workers paying through them, retrying as a backend would
//!   (the same idempotency key after a transient error or a lost connection).
//! - [`chaos`]: the killer: the enclave, the host, one Lit node, one RPC endpoint, one at a
//!   time; and the cluster moving on (an expired blockhash).
//! - [`audit`]: what must hold afterwards, read from the chain and the signed ledger.

pub mod audit;
pub mod chaos;
pub mod load;
