//! `crypto.equal(a, b)`: whether two strings are equal, in time that does not depend on where
//! they differ.
//!
//! Comparing a secret (an HMAC signature, a webhook token) with `==` stops at the first
//! differing byte, and the time it takes tells an attacker how much of a guess was right. This
//! compares every byte whatever it finds (the `subtle` crate, which keeps the compiler from
//! adding an early exit). Strings of different lengths are unequal at once: the length is not
//! hidden, as with Python's `hmac.compare_digest` and Go's `subtle.ConstantTimeCompare`, so
//! compare digests (of a fixed length) rather than raw secrets when the length matters.

use assay_sdk::{Args, Result};
use subtle::ConstantTimeEq as _;

/// `crypto.equal(a, b)` -> boolean.
pub fn equal(args: Args) -> Result<bool> {
    args.at_most(2, 0)?;
    let a = args.bytes(1, "a")?;
    let b = args.bytes(2, "b")?;
    Ok(a.len() == b.len() && bool::from(a.ct_eq(b)))
}
