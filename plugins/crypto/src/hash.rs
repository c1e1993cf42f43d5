//! `crypto.hash(data, alg, opts)`: SHA-2 and SHA-3 digests.

use assay_sdk::{Args, Options, Result, Value};
use sha2::Digest as _;

use crate::encoding::Encoding;

/// A digest algorithm, by its Lua name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_512,
}

const NAMES: [(&str, Algorithm); 6] = [
    ("sha224", Algorithm::Sha224),
    ("sha256", Algorithm::Sha256),
    ("sha384", Algorithm::Sha384),
    ("sha512", Algorithm::Sha512),
    ("sha3-256", Algorithm::Sha3_256),
    ("sha3-512", Algorithm::Sha3_512),
];

impl Algorithm {
    /// The algorithm named `name` (ASCII case ignored).
    pub fn parse(name: &str) -> Option<Self> {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, alg)| *alg)
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Algorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
            Algorithm::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
            Algorithm::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
        }
    }
}

/// Reads the optional algorithm at `pos` and the options after it. A table in the algorithm's
/// place (with nothing after it) is taken as the options: `crypto.hash(s, {encoding = "raw"})`.
pub(crate) fn alg_and_options(args: &Args, pos: usize) -> Result<(Algorithm, Options<'_>)> {
    if matches!(args.get(pos), Value::Map(_) | Value::Array(_)) && args.get(pos + 1).is_nil() {
        return Ok((Algorithm::Sha256, args.options(pos, "opts")?));
    }
    let alg = match args.get(pos) {
        Value::Nil => Algorithm::Sha256,
        Value::Str(_) => {
            let name = args.str(pos, "alg")?;
            Algorithm::parse(name).ok_or_else(|| {
                args.invalid(
                    pos,
                    "alg",
                    format!(
                        "unknown algorithm '{name}'; expected sha224, sha256, sha384, sha512, \
                         sha3-256 or sha3-512"
                    ),
                )
            })?
        }
        _ => return Err(args.bad(pos, "alg", "string")),
    };
    Ok((alg, args.options(pos + 1, "opts")?))
}

/// `crypto.hash(data, alg, opts)` -> the digest, hex unless `opts.encoding` says otherwise.
pub fn hash(args: Args) -> Result<Value> {
    let data = args.bytes(1, "data")?;
    let (alg, opts) = alg_and_options(&args, 2)?;
    let encoding = Encoding::from_options(&opts)?;
    Ok(encoding.encode(alg.digest(data)))
}
