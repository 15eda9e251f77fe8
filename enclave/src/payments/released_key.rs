//! A session key the Lit network released to this enclave, for the few instructions that sign
//! with it (docs/design.md, "Keys and flows").
//!
//! The type holds the compiler to the rule that the key never lives in an async task's state:
//! it is not `Send`, so a future that kept it across an `.await` would not be `Send` either,
//! and the server (which runs every request as a spawned, `Send` task) would not compile. It
//! exists from the plaintext's arrival to the signature, between two awaits, and its seed is
//! wiped on drop.

use std::marker::PhantomData;

use solana_address::Address;
use zeroize::Zeroizing;

use crate::solana::{SigningKeypair, Transaction};

/// The released key, checked to be the session's own.
pub struct ReleasedKey {
    keypair: SigningKeypair,
    /// Not `Send` (nor `Sync`): see the module documentation.
    _pinned_to_this_step: PhantomData<*const ()>,
}

/// What a released plaintext turned out not to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReleasedKeyError {
    #[error("the released plaintext is {0} bytes, not a 32-byte Ed25519 seed")]
    NotASeed(usize),
    #[error("the released key is not this session's key")]
    OtherKey,
}

impl ReleasedKey {
    /// The key in `plaintext` if it is the 32-byte seed of `expected`; the plaintext and the
    /// seed copy are wiped on return either way.
    pub fn open(
        plaintext: Zeroizing<Vec<u8>>,
        expected: &Address,
    ) -> Result<Self, ReleasedKeyError> {
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            plaintext
                .as_slice()
                .try_into()
                .map_err(|_| ReleasedKeyError::NotASeed(plaintext.len()))?,
        );
        drop(plaintext);
        let keypair = SigningKeypair::from_seed(&seed);
        if keypair.address() != *expected {
            return Err(ReleasedKeyError::OtherKey);
        }
        Ok(Self {
            keypair,
            _pinned_to_this_step: PhantomData,
        })
    }

    /// Signs `tx` in the session key's slot (after the fee payer's, if it co-signs).
    pub fn sign(
        &self,
        tx: &mut Transaction,
        fee_payer: Option<&SigningKeypair>,
    ) -> Result<(), crate::solana::SignError> {
        if let Some(fee_payer) = fee_payer {
            fee_payer.sign_transaction(tx)?;
        }
        self.keypair.sign_transaction(tx)
    }
}

/// Opens the released key, signs each transaction with it (after the fee payer, where it
/// co-signs) and drops it, all below the caller's frame: moving a key leaves copies of it
/// behind on the stack, and the caller scrubs that stack (`crate::wipe::scrub_stack`) as soon
/// as this returns. Each transaction gets its own outcome; a plaintext that is not the
/// session's key signs none.
#[inline(never)]
pub fn sign_each<'a>(
    plaintext: Zeroizing<Vec<u8>>,
    expected: &Address,
    transactions: impl IntoIterator<Item = (&'a mut Transaction, Option<&'a SigningKeypair>)>,
) -> Result<Vec<Result<(), crate::solana::SignError>>, ReleasedKeyError> {
    let key = ReleasedKey::open(plaintext, expected)?;
    Ok(transactions
        .into_iter()
        .map(|(tx, fee_payer)| key.sign(tx, fee_payer))
        .collect())
}

/// Checks that `plaintext` holds `expected`'s key and drops it, below the caller's frame (see
/// [`sign_once`]).
#[inline(never)]
pub fn check_once(
    plaintext: Zeroizing<Vec<u8>>,
    expected: &Address,
) -> Result<(), ReleasedKeyError> {
    ReleasedKey::open(plaintext, expected).map(drop)
}

impl std::fmt::Debug for ReleasedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReleasedKey")
            .field("address", &self.keypair.address())
            .finish_non_exhaustive()
    }
}

// Compile-time proof that `ReleasedKey` is not `Send`: if it were, both impls would apply and
// the path below would be ambiguous (the technique of `static_assertions::assert_not_impl_any`).
const _: fn() = || {
    trait AmbiguousIfSend<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    let _ = <ReleasedKey as AmbiguousIfSend<_>>::some_item;
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_the_sessions_own_seed() {
        let keypair_seed = Zeroizing::new([7u8; 32]);
        let expected = SigningKeypair::from_seed(&keypair_seed).address();
        let plaintext = || Zeroizing::new(vec![7u8; 32]);
        assert!(ReleasedKey::open(plaintext(), &expected).is_ok());
        assert_eq!(
            ReleasedKey::open(plaintext(), &Address::new_from_array([1; 32])).err(),
            Some(ReleasedKeyError::OtherKey)
        );
        assert_eq!(
            ReleasedKey::open(Zeroizing::new(vec![7u8; 31]), &expected).err(),
            Some(ReleasedKeyError::NotASeed(31))
        );
    }

    #[test]
    fn signs_each_transaction_it_can_and_none_with_another_key() {
        let seed = Zeroizing::new([9u8; 32]);
        let session = SigningKeypair::from_seed(&seed);
        let transfer = |authority| crate::test_transfers::usdc_transfer(authority, 1);
        let (mut mine, mut also_mine) = (transfer(session.address()), transfer(session.address()));
        let mut strangers = transfer(SigningKeypair::generate().address());
        let outcomes = sign_each(
            Zeroizing::new(seed.to_vec()),
            &session.address(),
            [
                (&mut mine, None),
                (&mut strangers, None),
                (&mut also_mine, None),
            ],
        )
        .unwrap();
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
        assert!(matches!(
            outcomes[1],
            Err(crate::solana::SignError::NotASigner(_))
        ));
        let mut expected = transfer(session.address());
        expected.message = mine.message.clone();
        session.sign_transaction(&mut expected).unwrap();
        assert_eq!(mine.signatures, expected.signatures);
        assert_ne!(also_mine.signatures[0], [0u8; 64]);
        assert_eq!(strangers.signatures[0], [0u8; 64], "untouched");

        let mut untouched = transfer(session.address());
        assert_eq!(
            sign_each(
                Zeroizing::new(vec![1u8; 32]),
                &session.address(),
                [(&mut untouched, None)],
            )
            .err(),
            Some(ReleasedKeyError::OtherKey)
        );
        assert_eq!(untouched.signatures[0], [0u8; 64]);
    }
}
