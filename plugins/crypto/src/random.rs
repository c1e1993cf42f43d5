//! `crypto.random(n, opts)`: `n` bytes from the operating system's CSPRNG.

use assay_sdk::{Args, Error, Result, Value};

use crate::encoding::Encoding;

/// The most bytes one call returns (1 MiB).
pub const MAX_BYTES: i64 = 1 << 20;

/// `crypto.random(n, opts)` -> `n` random bytes, hex unless `opts.encoding` says otherwise.
pub fn random(args: Args) -> Result<Value> {
    args.at_most(2, 0)?;
    let n = args.int(1, "n")?;
    if !(0..=MAX_BYTES).contains(&n) {
        return Err(args.invalid(
            1,
            "n",
            format!("must be between 0 and {MAX_BYTES}, got {n}"),
        ));
    }
    let encoding = Encoding::from_options(&args.options(2, "opts")?)?;
    let mut bytes = vec![0u8; usize::try_from(n).map_err(Error::new)?];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::new(format!("the system's random source failed: {e}")))?;
    Ok(encoding.encode(bytes))
}
