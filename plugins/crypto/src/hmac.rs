//! `crypto.hmac(key, data, alg, opts)`: HMAC (RFC 2104) over the digests of `crypto.hash`.

use assay_sdk::{Args, Error, Result, Value};
use hmac::{Hmac, Mac};

use crate::encoding::Encoding;
use crate::hash::{Algorithm, alg_and_options};

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    // HMAC takes keys of any length; the error cannot happen.
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
        .map_err(|_| Error::new("invalid HMAC key length"))?;
    m.update(data);
    Ok(m.finalize().into_bytes().to_vec())
}

/// The HMAC of `data` under `key` with `alg`'s digest.
pub fn compute(alg: Algorithm, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    match alg {
        Algorithm::Sha224 => mac::<Hmac<sha2::Sha224>>(key, data),
        Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(key, data),
        Algorithm::Sha384 => mac::<Hmac<sha2::Sha384>>(key, data),
        Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(key, data),
        Algorithm::Sha3_256 => mac::<Hmac<sha3::Sha3_256>>(key, data),
        Algorithm::Sha3_512 => mac::<Hmac<sha3::Sha3_512>>(key, data),
        Algorithm::Md5 => mac::<Hmac<md5::Md5>>(key, data),
        Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(key, data),
    }
}

/// `crypto.hmac(key, data, alg, opts)` -> the MAC, hex unless `opts.encoding` says otherwise.
pub fn hmac(args: Args) -> Result<Value> {
    args.at_most(4, 0)?;
    let key = args.bytes(1, "key")?;
    let data = args.bytes(2, "data")?;
    let (alg, opts) = alg_and_options(&args, 3)?;
    let encoding = Encoding::from_options(&opts)?;
    Ok(encoding.encode(compute(alg, key, data)?))
}
