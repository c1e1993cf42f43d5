//! `url`: percent-encoding (RFC 3986), URL parsing and building, query strings.
//!
//! - `url.encode(s)` keeps the unreserved characters `A-Za-z0-9-._~` and writes every other
//!   byte as `%XX` (upper-case), as Python's `urllib.parse.quote(s, safe="")` does.
//! - `url.decode(s)` turns each `%XX` into its byte and leaves a `%` that is not followed by
//!   two hex digits as it is (Python's `unquote` does the same; the result is bytes, like
//!   `unquote_to_bytes`). `+` stays `+`: only query strings write spaces as `+`.
//! - `url.query_encode(t)` writes `k=v` pairs joined by `&`, keys sorted (by bytes) for a stable
//!   result, a list value repeating its key, spaces as `+` and everything but the unreserved
//!   characters as `%XX`: the output of Python's `urlencode(sorted(t.items()), doseq=True)`.
//!   Numbers are written as `tostring` writes them, booleans as `true`/`false`; an empty list
//!   writes nothing (as `doseq` does).
//! - `url.query_decode(s)` reads what HTML forms and `http.serve`'s `req.query` read: a leading
//!   `?` is skipped (as `URLSearchParams` does), pairs split on `&` (empty ones skipped), `+` is
//!   a space, `%XX` a byte; a key without `=` has the value `""`; a key given once is a string,
//!   a key repeated is the list of its values in order.
//! - `url.parse(u)` and `url.build(parts)`: see [`parse`].

mod parse;
mod query;

use mlua::{Lua, Table};

use super::args::Args;
use super::function::{BuiltinResult, function};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("encode", function(lua, "url.encode", encode)?)?;
    t.raw_set("decode", function(lua, "url.decode", decode)?)?;
    t.raw_set("parse", function(lua, "url.parse", parse::parse)?)?;
    t.raw_set("build", function(lua, "url.build", parse::build)?)?;
    t.raw_set(
        "query_encode",
        function(lua, "url.query_encode", query::encode)?,
    )?;
    t.raw_set(
        "query_decode",
        function(lua, "url.query_decode", query::decode)?,
    )?;
    Ok(())
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let text = args.bytes(1, "text")?;
    let bytes = text.as_bytes();
    crate::vm::memory::ensure_room(lua, bytes.len().saturating_mul(3))?;
    let mut out = Vec::with_capacity(bytes.len());
    escape(&bytes, &mut out, is_unreserved, false);
    Ok(lua.create_string(out)?)
}

fn decode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let text = args.bytes(1, "text")?;
    Ok(lua.create_string(unescape(&text.as_bytes(), false))?)
}

/// RFC 3986 `unreserved`: the bytes no component ever needs to escape.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` to `out`, each byte `keep` refuses as `%XX` (upper-case hex); with
/// `space_as_plus` a space is written `+` (HTML forms).
pub(crate) fn escape(bytes: &[u8], out: &mut Vec<u8>, keep: fn(u8) -> bool, space_as_plus: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if keep(b) {
            out.push(b);
        } else if space_as_plus && b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// `%XX` to its byte (a `%` without two hex digits after it stays); with `plus_as_space`, `+`
/// is a space.
pub(crate) fn unescape(bytes: &[u8], plus_as_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|d| super::hex::digit(*d)),
                bytes.get(i + 2).and_then(|d| super::hex::digit(*d)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes() {
        let mut out = Vec::new();
        escape(b"a b/~%\xff", &mut out, is_unreserved, false);
        assert_eq!(out, b"a%20b%2F~%25%FF");
        assert_eq!(unescape(b"a%20b%2f%zz%4", false), b"a b/%zz%4");
        assert_eq!(unescape(b"a+b", true), b"a b");
        assert_eq!(unescape(b"a+b", false), b"a+b");
    }
}
