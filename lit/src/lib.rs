//! aip-lit: the Lit Protocol as the enclave, the client and the devnet speak it.
//!
//! Canonical access-control conditions and their hashes, the identity string, decryption
//! share formats (v1 and v2), Lagrange combination and time-lock decryption (blsful 3.1).
//! See DESIGN.md, "Lit threshold decryption". Nothing is implemented here yet: the Lit issue
//! builds it.
