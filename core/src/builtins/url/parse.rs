//! `url.parse(u)` and `url.build(parts)`, RFC 3986.
//!
//! `url.parse` returns `{scheme, user, password, host, port, path, query, fragment}`:
//! - `scheme` lower-case; absent (nil) for a relative reference (`/a?b`, `//host/x`).
//! - `user` and `password` percent-decoded (credentials in a database URL are written
//!   encoded: `p%40ss` is `p@ss`); nil when absent.
//! - `host` lower-case ASCII (host names are case-insensitive), an IPv6 literal without its
//!   brackets (`[::1]` gives `::1`, as Python's `hostname` does); nil when the URL has no
//!   authority (`mailto:a@b`), `""` when it has an empty one (`file:///etc/hosts`).
//! - `port` an integer (0-65535) or nil.
//! - `path` and `fragment` as written (still percent-encoded: decoding `%2F` in a path would
//!   change its meaning); `fragment` nil without `#`.
//! - `query` the decoded table of `url.query_decode` (empty without `?`).
//!
//! Refused, with the reason: an empty URL, spaces and control bytes (encode them), a scheme
//! that does not start with a letter, an unclosed or malformed `[IPv6]` host, characters
//! no host may contain, a port that is not a number up to 65535.
//!
//! `url.build(parts)` is the inverse: unknown fields are errors; `user`/`password` are encoded;
//! a host with `:` gets its brackets; `query` is a table (encoded by `url.query_encode`, so
//! its keys come out sorted) or a string used as written; in `path`, `query` (string) and
//! `fragment` any byte that cannot stand there (space, `#`, non-ASCII, ...) is encoded, while
//! `%` is kept (they are taken as already encoded).

use mlua::{Lua, Table, Value};

use super::query::{decode_table, encode_table};
use super::{escape, is_unreserved, unescape};
use crate::builtins::args::{Args, type_name};
use crate::builtins::function::{BuiltinResult, Raise};

const PARTS: [&str; 8] = [
    "scheme", "user", "password", "host", "port", "path", "query", "fragment",
];

pub fn parse(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    args.at_most(1)?;
    let text = args.bytes(1, "url")?;
    let bytes = text.as_bytes();
    let parts = split(&bytes).map_err(|why| {
        Raise::msg(format!(
            "invalid URL {:?}: {why}",
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    let t = lua.create_table()?;
    if let Some(scheme) = parts.scheme {
        t.raw_set("scheme", lua.create_string(scheme.to_ascii_lowercase())?)?;
    }
    if let Some(user) = parts.user {
        t.raw_set("user", lua.create_string(unescape(user, false))?)?;
    }
    if let Some(password) = parts.password {
        t.raw_set("password", lua.create_string(unescape(password, false))?)?;
    }
    if let Some(host) = parts.host {
        t.raw_set("host", lua.create_string(host.to_ascii_lowercase())?)?;
    }
    if let Some(port) = parts.port {
        t.raw_set("port", port)?;
    }
    t.raw_set("path", lua.create_string(parts.path)?)?;
    t.raw_set("query", decode_table(lua, parts.query.unwrap_or_default())?)?;
    if let Some(fragment) = parts.fragment {
        t.raw_set("fragment", lua.create_string(fragment)?)?;
    }
    Ok(t)
}

/// A URL cut into its components, each still as written.
#[derive(Debug, Default, PartialEq)]
struct Parts<'a> {
    scheme: Option<&'a [u8]>,
    user: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    port: Option<u16>,
    path: &'a [u8],
    query: Option<&'a [u8]>,
    fragment: Option<&'a [u8]>,
}

fn split(url: &[u8]) -> Result<Parts<'_>, String> {
    if url.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(at) = url.iter().position(|b| *b <= b' ' || *b == 0x7f) {
        return Err(format!(
            "byte {} ({:?}) is not allowed in a URL (percent-encode it)",
            at + 1,
            url[at] as char
        ));
    }
    let mut parts = Parts::default();
    let mut rest = url;
    if let Some(hash) = rest.iter().position(|b| *b == b'#') {
        parts.fragment = Some(&rest[hash + 1..]);
        rest = &rest[..hash];
    }
    if let Some(q) = rest.iter().position(|b| *b == b'?') {
        parts.query = Some(&rest[q + 1..]);
        rest = &rest[..q];
    }
    // A scheme is what precedes the first `:` when no `/` comes before it.
    if let Some(colon) = rest.iter().position(|b| matches!(b, b':' | b'/'))
        && rest[colon] == b':'
    {
        let scheme = &rest[..colon];
        if !is_scheme(scheme) {
            return Err(format!(
                "{:?} is not a scheme (a letter, then letters, digits, '+', '-' or '.')",
                String::from_utf8_lossy(scheme)
            ));
        }
        parts.scheme = Some(scheme);
        rest = &rest[colon + 1..];
    }
    if let Some(after) = rest.strip_prefix(b"//") {
        let end = after.iter().position(|b| *b == b'/').unwrap_or(after.len());
        authority(&after[..end], &mut parts)?;
        rest = &after[end..];
    }
    parts.path = rest;
    Ok(parts)
}

/// RFC 3986 `scheme`: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(text: &[u8]) -> bool {
    text.first().is_some_and(u8::is_ascii_alphabetic)
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `[user[:password]@]host[:port]` into `parts`.
fn authority<'a>(text: &'a [u8], parts: &mut Parts<'a>) -> Result<(), String> {
    let mut host_port = text;
    if let Some(at) = text.iter().rposition(|b| *b == b'@') {
        let userinfo = &text[..at];
        host_port = &text[at + 1..];
        match userinfo.iter().position(|b| *b == b':') {
            Some(colon) => {
                parts.user = Some(&userinfo[..colon]);
                parts.password = Some(&userinfo[colon + 1..]);
            }
            None => parts.user = Some(userinfo),
        }
    }
    let bracketed = host_port.first() == Some(&b'[');
    let (host, port) = if bracketed {
        let close = host_port
            .iter()
            .position(|b| *b == b']')
            .ok_or("'[' of an IPv6 host is not closed")?;
        let literal = &host_port[1..close];
        let ipv6 = is_ipv6(literal);
        let future = literal
            .first()
            .is_some_and(|b| b.eq_ignore_ascii_case(&b'v'));
        if !ipv6 && !future {
            return Err(format!(
                "[{}] is not an IPv6 address",
                String::from_utf8_lossy(literal)
            ));
        }
        let after = &host_port[close + 1..];
        let port = match after.first() {
            None => None,
            Some(b':') => Some(&after[1..]),
            Some(_) => return Err("only a ':port' may follow an IPv6 host's ']'".into()),
        };
        (literal, port)
    } else {
        match host_port.iter().rposition(|b| *b == b':') {
            Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
            None => (host_port, None),
        }
    };
    if !bracketed && let Some(bad) = host.iter().find(|b| !is_host_byte(**b)) {
        return Err(format!(
            "{:?} in host {:?} (no host contains it)",
            *bad as char,
            String::from_utf8_lossy(host)
        ));
    }
    parts.host = Some(host);
    parts.port = match port {
        None | Some(b"") => None,
        Some(digits) => Some(port_number(digits)?),
    };
    Ok(())
}

/// Bytes a registered name may hold (unreserved, sub-delims, `%`), and non-ASCII (IRIs).
fn is_host_byte(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=%".contains(&b) || b >= 0x80
}

fn port_number(digits: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(digits);
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("port {text:?} is not a number"));
    }
    text.parse::<u16>()
        .map_err(|_| format!("port {text} is not in 0..65535"))
}

pub fn build(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let parts = args.table(1, "parts")?;
    let bad = |field: &str, why: String| {
        Raise::msg(format!("bad argument #1 'parts': field '{field}' ({why})"))
    };
    for pair in parts.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let name = match &key {
            Value::String(s) => s.to_string_lossy(),
            other => format!("[{}]", type_name(other)),
        };
        if !PARTS.contains(&name.as_str()) {
            return Err(Raise::msg(format!(
                "bad argument #1 'parts': unknown field '{name}' (known: {})",
                PARTS.join(", ")
            )));
        }
    }
    let text = |field: &str| -> BuiltinResult<Option<Vec<u8>>> {
        match parts.raw_get::<Value>(field)? {
            Value::Nil => Ok(None),
            Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
            other => Err(bad(
                field,
                format!("string expected, got {}", type_name(&other)),
            )),
        }
    };
    let mut out = Vec::new();
    if let Some(scheme) = text("scheme")? {
        if !is_scheme(&scheme) {
            let shown = String::from_utf8_lossy(&scheme).into_owned();
            return Err(bad("scheme", format!("{shown:?} is not a scheme")));
        }
        out.extend_from_slice(&scheme);
        out.push(b':');
    }
    let user = text("user")?;
    let password = text("password")?;
    let port = match parts.raw_get::<Value>("port")? {
        Value::Nil => None,
        Value::Integer(p) if (0..=65535).contains(&p) => Some(p),
        Value::Number(p) if p.fract() == 0.0 && (0.0..=65535.0).contains(&p) => Some(p as i64),
        Value::Number(p) if p.fract() != 0.0 || !p.is_finite() => {
            let shown = crate::builtins::inspect::format_float(p);
            return Err(bad("port", format!("{shown} is not a whole number")));
        }
        Value::Integer(_) | Value::Number(_) => {
            return Err(bad("port", "not in 0..65535".into()));
        }
        other => {
            return Err(bad(
                "port",
                format!("integer expected, got {}", type_name(&other)),
            ));
        }
    };
    let host = text("host")?;
    let has_authority = host.is_some();
    if !has_authority && (user.is_some() || password.is_some() || port.is_some()) {
        return Err(Raise::msg(
            "bad argument #1 'parts' (user, password and port need a host)",
        ));
    }
    if let Some(host) = host {
        out.extend_from_slice(b"//");
        if user.is_some() || password.is_some() {
            escape(&user.unwrap_or_default(), &mut out, is_unreserved, false);
            if let Some(password) = password {
                out.push(b':');
                escape(&password, &mut out, is_unreserved, false);
            }
            out.push(b'@');
        }
        if host.contains(&b':') {
            if !is_ipv6(&host) {
                let shown = String::from_utf8_lossy(&host).into_owned();
                return Err(bad("host", format!("{shown:?} is not an IPv6 address")));
            }
            out.push(b'[');
            out.extend_from_slice(&host);
            out.push(b']');
        } else if let Some(b) = host.iter().find(|b| !is_host_byte(**b)) {
            let shown = String::from_utf8_lossy(&host).into_owned();
            return Err(bad("host", format!("{:?} in {shown:?}", *b as char)));
        } else {
            out.extend_from_slice(&host);
        }
        if let Some(port) = port {
            out.extend_from_slice(format!(":{port}").as_bytes());
        }
    }
    let path = text("path")?.unwrap_or_default();
    if has_authority && !path.is_empty() && !path.starts_with(b"/") {
        return Err(bad("path", "must start with '/' after a host".into()));
    }
    if !has_authority && path.starts_with(b"//") {
        return Err(bad("path", "cannot start with '//' without a host".into()));
    }
    // A first segment with ':' would read back as a scheme (RFC 3986 §4.2): "./a:b".
    let first_segment = path.split(|b| *b == b'/').next().unwrap_or_default();
    if !has_authority && out.is_empty() && first_segment.contains(&b':') {
        out.extend_from_slice(b"./");
    }
    escape(&path, &mut out, is_path_byte, false);
    let query = match parts.raw_get::<Value>("query")? {
        Value::Nil => Vec::new(),
        Value::Table(t) => encode_table(lua, &t, 1, "parts.query")?,
        Value::String(s) => {
            let mut q = Vec::new();
            escape(&s.as_bytes(), &mut q, is_query_byte, false);
            q
        }
        other => {
            let why = format!("table or string expected, got {}", type_name(&other));
            return Err(bad("query", why));
        }
    };
    if !query.is_empty() {
        out.push(b'?');
        out.extend_from_slice(&query);
    }
    if let Some(fragment) = text("fragment")? {
        out.push(b'#');
        escape(&fragment, &mut out, is_query_byte, false);
    }
    Ok(lua.create_string(out)?)
}

/// RFC 3986 `pchar` and `/`, plus `%` (the path is taken as already encoded).
fn is_path_byte(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=:@/%".contains(&b)
}

/// What a query or a fragment may hold as written: `pchar`, `/`, `?`, and `%`.
fn is_query_byte(b: u8) -> bool {
    is_path_byte(b) || b == b'?'
}

/// An IPv6 address as a URL host holds it (RFC 3986, with RFC 6874's `%zone`): Python's
/// `urlsplit` checks the same with `ipaddress`, so `[a:80]` is refused, not taken for a host.
fn is_ipv6(literal: &[u8]) -> bool {
    let address = literal.split(|b| *b == b'%').next().unwrap_or_default();
    std::str::from_utf8(address).is_ok_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_components() {
        let p = split(b"HTTPS://u:p%40@[::1]:8443/a/b?x=1#f").expect("valid");
        assert_eq!(p.scheme, Some(&b"HTTPS"[..]));
        assert_eq!(p.user, Some(&b"u"[..]));
        assert_eq!(p.password, Some(&b"p%40"[..]));
        assert_eq!(p.host, Some(&b"::1"[..]));
        assert_eq!(p.port, Some(8443));
        assert_eq!(p.path, b"/a/b");
        assert_eq!(p.query, Some(&b"x=1"[..]));
        assert_eq!(p.fragment, Some(&b"f"[..]));
        let p = split(b"mailto:a@b").expect("valid");
        assert_eq!((p.host, p.path), (None, &b"a@b"[..]));
        let p = split(b"file:///etc").expect("valid");
        assert_eq!((p.host, p.path), (Some(&b""[..]), &b"/etc"[..]));
    }

    #[test]
    fn refuses_bad_urls() {
        for (url, why) in [
            (&b""[..], "empty"),
            (b"http://a b", "byte 9"),
            (b"1http://x", "not a scheme"),
            (b"http://[::1/x", "not closed"),
            (b"http://[zz]/", "not an IPv6"),
            (b"http://x:99999/", "not in 0..65535"),
            (b"http://x:8o/", "not a number"),
            (b"http://a<b/", "in host"),
        ] {
            let e = split(url).expect_err("invalid");
            assert!(e.contains(why), "{url:?}: {e}");
        }
    }
}
