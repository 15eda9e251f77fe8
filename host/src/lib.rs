//! aip-host: the untrusted parent side of the signer.
//!
//! It proxies API and Lit traffic to and from the enclave without terminating TLS, stores
//! opaque sealed blobs in SQLite and supervises the enclave; it is trusted for liveness only.
//! See DESIGN.md, "Parties". Nothing is implemented here yet: the service issue builds it.
