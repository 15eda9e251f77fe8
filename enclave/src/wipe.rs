//! Wiping what Rust's moves leave behind. `Zeroizing` and `ZeroizeOnDrop` clear a secret
//! where it ends up, but every move is a copy that leaves the old bytes in place: on the
//! heap inside an async task's state (avoided by keeping keys out of async functions), and
//! on the thread's stack below the current frame. [`scrub_stack`] overwrites that stack
//! after a key was used, from the caller's frame down.

use zeroize::Zeroize;

/// How much stack below the caller is overwritten: more than the deepest signing call
/// (Ed25519 in a debug build) uses.
pub const SCRUB_BYTES: usize = 128 * 1024;

/// Overwrites [`SCRUB_BYTES`] of stack below the caller with zeros (volatile writes, so the
/// compiler cannot drop them). Call it right after a synchronous function that held a key
/// returns, from the same frame that called it.
#[inline(never)]
pub fn scrub_stack() {
    let mut area = [0xa5u8; SCRUB_BYTES];
    area.zeroize();
    std::hint::black_box(&area);
}
