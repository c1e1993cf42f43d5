//! `crypto.hash(data, alg, opts)`: SHA-2 and SHA-3 digests, and MD5 and SHA-1.
//!
//! MD5 and SHA-1 are broken for security (collisions can be made at will): they are here for
//! checksums and legacy protocols that name them (S3's `Content-MD5`, Git object ids, old
//! package indexes), never for signatures or passwords.

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
    /// Not for security: checksums and legacy protocols only.
    Md5,
    /// Not for security: checksums and legacy protocols only.
    Sha1,
}

const NAMES: [(&str, Algorithm); 8] = [
    ("sha224", Algorithm::Sha224),
    ("sha256", Algorithm::Sha256),
    ("sha384", Algorithm::Sha384),
    ("sha512", Algorithm::Sha512),
    ("sha3-256", Algorithm::Sha3_256),
    ("sha3-512", Algorithm::Sha3_512),
    ("md5", Algorithm::Md5),
    ("sha1", Algorithm::Sha1),
];

/// The names in messages: "sha224, sha256, ... or sha1".
fn expected_names() -> String {
    let names: Vec<&str> = NAMES.iter().map(|(name, _)| *name).collect();
    match names.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A digest being computed piece by piece ([`Algorithm::hasher`]), for data that does not
/// fit in memory at once.
pub enum Hasher {
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha3_256(sha3::Sha3_256),
    Sha3_512(sha3::Sha3_512),
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Sha3_256(h) => h.update(data),
            Hasher::Sha3_512(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
            Hasher::Sha3_256(h) => h.finalize().to_vec(),
            Hasher::Sha3_512(h) => h.finalize().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
        }
    }
}

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
        let mut hasher = self.hasher();
        hasher.update(data);
        hasher.finish()
    }

    /// A fresh [`Hasher`] for this algorithm.
    pub fn hasher(self) -> Hasher {
        match self {
            Algorithm::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Algorithm::Sha3_256 => Hasher::Sha3_256(sha3::Sha3_256::new()),
            Algorithm::Sha3_512 => Hasher::Sha3_512(sha3::Sha3_512::new()),
            Algorithm::Md5 => Hasher::Md5(md5::Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
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
                    format!("unknown algorithm '{name}'; expected {}", expected_names()),
                )
            })?
        }
        _ => return Err(args.bad(pos, "alg", "string")),
    };
    Ok((alg, args.options(pos + 1, "opts")?))
}

/// `crypto.hash(data, alg, opts)` -> the digest, hex unless `opts.encoding` says otherwise.
pub fn hash(args: Args) -> Result<Value> {
    args.at_most(3, 0)?;
    let data = args.bytes(1, "data")?;
    let (alg, opts) = alg_and_options(&args, 2)?;
    let encoding = Encoding::from_options(&opts)?;
    Ok(encoding.encode(alg.digest(data)))
}
