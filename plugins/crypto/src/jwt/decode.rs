//! `crypto.jwt_decode(token)` -> `{header = {...}, claims = {...}}`, without verifying anything.

use assay_sdk::{Args, Map, Result, Value};

use super::{Token, claims};

/// `crypto.jwt_decode(token)`: the parts of a token, trusted blindly (for routing on `kid` or
/// `iss` before choosing a key, or for debugging).
pub fn jwt_decode(args: Args) -> Result<Value> {
    args.at_most(1, 0)?;
    let token = Token::parse(args.str(1, "token")?)?;
    let mut out = Map::with_capacity(2);
    out.insert("header", Value::Map(claims::object_to_map(token.header)));
    out.insert("claims", Value::Map(claims::object_to_map(token.claims)));
    Ok(Value::Map(out))
}
