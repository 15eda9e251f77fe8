//! Obtaining keys from the Lit network: the attested release ([`attested`]) over HTTP through
//! the host's egress proxy ([`node_http`]). DESIGN.md, "Lit threshold decryption".

pub mod attested;
pub mod node_http;

pub use attested::{EnclaveIdentity, LitNetwork, ReleaseError};
