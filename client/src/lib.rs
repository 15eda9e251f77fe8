//! aip-client: the SDK for user devices and agent backends.
//!
//! Device side: session keys, the password-sealed device-bound blob, Lit encryption for the
//! enclave's condition, delegation and approval signatures. Backend side: a typed mTLS client.
//! It links no server code. Nothing is implemented here yet: the payments issue builds it.
