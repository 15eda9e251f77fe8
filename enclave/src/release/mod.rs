//! Obtaining keys from the Lit network: the attested release ([`attested`]) over HTTP through
//! the host's egress proxy ([`crate::egress_json`]). docs/design.md, "Lit threshold decryption".

pub mod attested;
pub mod release_key;
pub mod reuse;

pub use attested::{EnclaveIdentity, LitNetwork, NetworkReuse, ReleaseError};
pub use release_key::ReleaseKey;
