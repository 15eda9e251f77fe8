//! aip-wire: what the untrusted host and the trusted enclave both speak.
//!
//! The host never links enclave code; both link this crate. It will hold the transports
//! (vsock in production, TCP or Unix sockets locally), length-prefixed framing with a size cap
//! checked before allocation, and the control messages (blob store, time hints, health).
//! See DESIGN.md, "Transports". Nothing is implemented here yet: the service issue builds it.
