//! `crypto.jwt_sign(claims, key, {alg, kid, header})` -> a compact JWS.

use assay_sdk::{Args, Error, Result, Value};
use serde_json::{Map as JsonMap, Value as Json};

use super::keys::Key;
use super::{alg_name, b64_encode, claims, known_algs, parse_alg};

/// NumericDate claims: a float is written as whole seconds, which every verifier reads.
const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

/// The claims table as a JSON object.
fn claims_arg(args: &Args) -> Result<JsonMap<String, Json>> {
    let map = match args.get(1) {
        Value::Array(list) if !list.is_empty() => {
            return Err(args.invalid(1, "claims", "a table with string keys expected, got a list"));
        }
        _ => args.map(1, "claims")?,
    };
    let mut out = claims::map_to_json(map).map_err(|why| args.invalid(1, "claims", why))?;
    for name in TIME_CLAIMS {
        if let Some(Json::Number(n)) = out.get(name)
            && n.is_f64()
            && let Some(f) = n.as_f64()
            && f.abs() < 9.0e15
        {
            out.insert(name.to_owned(), Json::from(f.floor() as i64));
        }
    }
    Ok(out)
}

/// `crypto.jwt_sign(claims, key, opts)`: `opts.alg` defaults to the key's first algorithm
/// (HS256 for a secret, RS256, ES256, ES384 or EdDSA for a PEM key); `opts.kid` sets the
/// header's `kid`; `opts.header` adds header fields (not `alg`).
pub fn jwt_sign(args: Args) -> Result<String> {
    args.at_most(3, 0)?;
    let claims = claims_arg(&args)?;
    let key_bytes = args.bytes(2, "key")?;
    let opts = args.options(3, "opts")?;
    opts.only(&["alg", "kid", "header"])?;
    let key = Key::parse(key_bytes).map_err(|why| args.invalid(2, "key", why))?;
    let alg = match opts.str("alg")? {
        Some(name) => parse_alg(name).ok_or_else(|| {
            opts.invalid(
                "alg",
                format!(
                    "unknown algorithm '{name}'; expected one of {}",
                    known_algs()
                ),
            )
        })?,
        None => key.kind.algorithms()[0],
    };
    if let Some(why) = key.refuses(alg) {
        return Err(args.invalid(2, "key", why));
    }
    let encoding_key = key
        .encoding_key()
        .map_err(|why| args.invalid(2, "key", why))?;

    let mut header = match opts.map("header")? {
        Some(extra) => claims::map_to_json(extra)
            .map_err(|why| opts.invalid("header", why.replacen('$', "header", 1)))?,
        None => JsonMap::new(),
    };
    if header.contains_key("alg") {
        return Err(opts.invalid("header", "alg is set with opts.alg, not in the header"));
    }
    header.insert("alg".into(), Json::from(alg_name(alg)));
    header.entry("typ").or_insert_with(|| Json::from("JWT"));
    if let Some(kid) = opts.str("kid")? {
        header.insert("kid".into(), Json::from(kid));
    }

    let header_json = serde_json::to_vec(&header).map_err(Error::new)?;
    let claims_json = serde_json::to_vec(&claims).map_err(Error::new)?;
    let signed = format!("{}.{}", b64_encode(&header_json), b64_encode(&claims_json));
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), &encoding_key, alg)
        .map_err(|e| Error::new(format!("signing with {} failed: {e}", key.describe())))?;
    Ok(format!("{signed}.{signature}"))
}
