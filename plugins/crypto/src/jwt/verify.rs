//! `crypto.jwt_verify(token, key, {algs, aud, iss, leeway})` -> the claims, or an error saying
//! why the token is refused. Order: shape, algorithm, signature, then the claims.

use std::time::{SystemTime, UNIX_EPOCH};

use assay_sdk::{Args, Error, Options, Result, Value};
use jsonwebtoken::Algorithm;
use serde_json::{Map as JsonMap, Value as Json};

use super::keys::Key;
use super::{Token, alg_list, claims, known_algs, parse_alg};

/// What the claims are checked against.
struct Expect<'a> {
    aud: Option<Vec<&'a str>>,
    iss: Option<Vec<&'a str>>,
    leeway: f64,
    now: f64,
}

/// `opts.algs`, else the algorithms the key's type allows (the algorithm-confusion defence).
fn allowed_algs(opts: &Options<'_>, key: &Key) -> Result<Vec<Algorithm>> {
    let Some(names) = opts.strings("algs")? else {
        return Ok(key.kind.algorithms().to_vec());
    };
    if names.is_empty() {
        return Err(opts.invalid("algs", "lists no algorithm"));
    }
    names
        .into_iter()
        .map(|name| {
            parse_alg(name).ok_or_else(|| {
                opts.invalid(
                    "algs",
                    format!(
                        "unknown algorithm '{name}'; expected one of {}",
                        known_algs()
                    ),
                )
            })
        })
        .collect()
}

/// A string or list of strings that, when given, names at least one value.
fn non_empty<'a>(opts: &Options<'a>, key: &str) -> Result<Option<Vec<&'a str>>> {
    match opts.strings(key)? {
        Some(list) if list.is_empty() => Err(opts.invalid(key, "lists no value")),
        other => Ok(other),
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A NumericDate as text: whole seconds without a fraction.
fn seconds(t: f64) -> String {
    if t.fract() == 0.0 && t.abs() < 1e15 {
        format!("{}", t as i64)
    } else {
        format!("{t}")
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn numeric(claims: &JsonMap<String, Json>, name: &str) -> Result<Option<f64>> {
    match claims.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(Error::new(format!(
            "malformed token: the {name} claim is not a number"
        ))),
    }
}

fn check_claims(claims: &JsonMap<String, Json>, expect: &Expect<'_>) -> Result<()> {
    let (now, leeway) = (expect.now, expect.leeway);
    if let Some(exp) = numeric(claims, "exp")?
        && now - leeway >= exp
    {
        return Err(Error::new(format!(
            "token expired (exp {}, now {}, leeway {}s)",
            seconds(exp),
            seconds(now.floor()),
            seconds(leeway)
        )));
    }
    if let Some(nbf) = numeric(claims, "nbf")?
        && nbf > now + leeway
    {
        return Err(Error::new(format!(
            "token not yet valid (nbf {}, now {}, leeway {}s)",
            seconds(nbf),
            seconds(now.floor()),
            seconds(leeway)
        )));
    }
    if let Some(wanted) = &expect.iss {
        match claims.get("iss") {
            Some(Json::String(iss)) if wanted.contains(&iss.as_str()) => {}
            Some(Json::String(iss)) => {
                return Err(Error::new(format!(
                    "wrong issuer: '{iss}', expected {}",
                    quoted(wanted)
                )));
            }
            Some(_) => return Err(Error::new("malformed token: the iss claim is not a string")),
            None => {
                return Err(Error::new(format!(
                    "wrong issuer: the token has no iss, expected {}",
                    quoted(wanted)
                )));
            }
        }
    }
    check_audience(claims.get("aud"), expect.aud.as_deref())
}

/// RFC 7519 4.1.3: a token that names an audience is refused unless one of its audiences is
/// expected, so a token for one service cannot be replayed at another.
fn check_audience(aud: Option<&Json>, wanted: Option<&[&str]>) -> Result<()> {
    let audiences: Vec<&str> = match aud {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::String(s)) => vec![s.as_str()],
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| v.as_str())
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Error::new("malformed token: the aud claim is not a string or list of strings")
            })?,
        Some(_) => {
            return Err(Error::new(
                "malformed token: the aud claim is not a string or list of strings",
            ));
        }
    };
    match wanted {
        None if audiences.is_empty() => Ok(()),
        None => Err(Error::new(format!(
            "wrong audience: the token is for {} and no aud was given to accept it",
            quoted(&audiences)
        ))),
        Some(wanted) if audiences.iter().any(|a| wanted.contains(a)) => Ok(()),
        Some(wanted) if audiences.is_empty() => Err(Error::new(format!(
            "wrong audience: the token has no aud, expected {}",
            quoted(wanted)
        ))),
        Some(wanted) => Err(Error::new(format!(
            "wrong audience: {}, expected {}",
            quoted(&audiences),
            quoted(wanted)
        ))),
    }
}

/// `crypto.jwt_verify(token, key, opts)` -> the claims table.
pub fn jwt_verify(args: Args) -> Result<Value> {
    args.at_most(3, 0)?;
    let token = args.str(1, "token")?;
    let key_bytes = args.bytes(2, "key")?;
    let opts = args.options(3, "opts")?;
    opts.only(&["algs", "aud", "iss", "leeway"])?;
    let key = Key::parse(key_bytes).map_err(|why| args.invalid(2, "key", why))?;
    let decoding_key = key
        .decoding_key()
        .map_err(|why| args.invalid(2, "key", why))?;
    let allowed = allowed_algs(&opts, &key)?;
    let leeway = opts.float("leeway")?.unwrap_or(0.0);
    if !(leeway.is_finite() && leeway >= 0.0) {
        return Err(opts.invalid("leeway", "must be a number of seconds >= 0"));
    }
    let expect = Expect {
        aud: non_empty(&opts, "aud")?,
        iss: non_empty(&opts, "iss")?,
        leeway,
        now: now(),
    };

    let token = Token::parse(token)?;
    let name = token.alg()?;
    let alg = parse_alg(name)
        .filter(|alg| allowed.contains(alg))
        .ok_or_else(|| {
            Error::new(format!(
                "algorithm not allowed: {name} (allowed: {})",
                alg_list(&allowed)
            ))
        })?;
    if let Some(why) = key.refuses(alg) {
        return Err(Error::new(format!("algorithm not allowed: {why}")));
    }
    if let Some(crit) = token.header.get("crit") {
        return Err(Error::new(format!(
            "unsupported critical header parameters: {crit}"
        )));
    }
    token.check_signature_encoding()?;
    let valid =
        jsonwebtoken::crypto::verify(token.signature, token.signed.as_bytes(), &decoding_key, alg)
            .map_err(|e| Error::new(format!("cannot verify with {}: {e}", key.describe())))?;
    if !valid {
        return Err(Error::new("bad signature"));
    }
    check_claims(&token.claims, &expect)?;
    Ok(Value::Map(claims::object_to_map(token.claims)))
}
