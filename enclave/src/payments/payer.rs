//! What signing and paying needs beyond the policy: the Lit network and this enclave's
//! identity to release session keys, the cluster's RPC, and the service fee payer.

use aip_wire::process::error_chain;
use serde::{Deserialize, Serialize};
use solana_address::Address;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::chain::RpcQuorum;
use crate::release::{EnclaveIdentity, LitNetwork};
use crate::solana::SigningKeypair;
use crate::state::host_store::HostStore;
use crate::state::records::{self, RecordError};
use crate::state::sealed::StateKey;

/// The fee payer's seed, sealed in the host's store so gasless payments keep one payer
/// across restarts (the operator funds it with SOL).
pub const FEE_PAYER_RECORD: &str = "service/fee-payer";

/// The sealed record's plaintext; wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct FeePayerSeed {
    seed_hex: String,
}

#[derive(Debug)]
pub struct Payer {
    pub lit: LitNetwork,
    pub me: EnclaveIdentity,
    pub rpc: RpcQuorum,
    pub fee_payer: SigningKeypair,
    /// Mints that count as USDC (6 decimals).
    pub usdc_mints: Vec<Address>,
    /// Priority fee added to every payment, micro-lamports per compute unit (0: none).
    pub compute_unit_price: u64,
    /// The highest priority fee any payment may carry (micro-lamports per compute unit).
    pub max_compute_unit_price: u64,
    /// What the fee payer may spend on fees and rent per rolling day, all keys together.
    pub fee_payer_lamports_per_day: u64,
    /// The cluster's CAIP-2 id for x402 (`crate::config::SolanaConfig::x402_network`).
    pub x402_network: Option<String>,
    /// Held while a gasless payment checks the fee payer's daily budget and reserves, so two
    /// payments cannot both take its last lamports.
    pub fee_budget: tokio::sync::Mutex<()>,
    /// The releases under way that payments of the same session key may join.
    pub releases: super::release_batch::ReleaseBatches,
}

/// Compute units a token payment with an idempotent account creation needs, with margin.
pub const PAYMENT_COMPUTE_UNITS: u32 = 60_000;

/// The fee payer: recovered from the store, or created and stored on first boot.
pub async fn load_or_create_fee_payer(
    store: &HostStore,
    key: &StateKey,
) -> Result<SigningKeypair, RecordError> {
    if let Some((_, stored)) = records::read::<FeePayerSeed>(store, key, FEE_PAYER_RECORD).await? {
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(stored.seed_hex.as_bytes(), seed.as_mut())
            .map_err(|_| RecordError::Malformed(FEE_PAYER_RECORD.into()))?;
        return Ok(SigningKeypair::from_seed(&seed));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
    let record = FeePayerSeed {
        seed_hex: hex::encode(seed.as_ref()),
    };
    let written = records::write(store, key, FEE_PAYER_RECORD, None, &record).await;
    drop(record);
    match written {
        Ok(_) => Ok(SigningKeypair::from_seed(&seed)),
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "storing the fee payer failed");
            Err(error)
        }
    }
}
