//! The `req` table a handler receives:
//! `{method, path, params, query, headers, body, remote_addr}` plus `req:json()`.
//!
//! - `path` is the request path as sent (still percent-encoded), under a static folder's
//!   prefix too (axum's nested router sees the path without it); `params` are decoded.
//! - `query` values are decoded; a key given once is a string, a key repeated is a list of its
//!   values in order (as Node's `querystring` does), so `?tag=a&tag=b` is not silently cut;
//!   `http.query_value(req.query, "tag")` gives one value either way (the first).
//! - header names are lower-case; a repeated header's values are joined with ", " (RFC 9110
//!   5.3), except `set-cookie`, whose values are joined with "\n" because they may contain commas
//!   (`crate::headers`, shared with the client's responses).
//!
//! On a host that runs Lua glue (host services v3) the table is made on the Lua side
//! (`request.lua`) from the request's parts, and `headers` and `query` stay in their wire form
//! until a handler first reads them: a handler that reads only `req.params` does not pay for
//! them (a browser's ten headers were a third of a small request's cost). `pairs(req)` lists
//! them; `next` and the encoders see them once read. On an older host the plugin builds the
//! whole table.

use std::collections::HashMap;
use std::net::SocketAddr;

use assay_sdk::{Bytes, Callback, List, Map, Value};
use axum::extract::{OriginalUri, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};

use super::routes;
use crate::headers::join_values;

/// The client's address as `req.remote_addr` shows it, formatted once per connection (it
/// was a tenth of building a small request).
#[derive(Clone, Debug)]
pub struct RemoteText(pub std::sync::Arc<str>);

impl RemoteText {
    pub fn new(remote: SocketAddr) -> Self {
        RemoteText(remote.to_string().into())
    }
}

/// A request on its way to a Lua function.
#[derive(Clone)]
pub enum Req {
    /// Its parts, for the glue's `request(parts)`: method, path, params, body, remote
    /// address, `req.json`, the header block ([`header_block`]) and the raw query. One list
    /// crosses to Lua far cheaper than eight values.
    Parts(List),
    /// A whole `req` table: built here for a host without glue, or as `before` left it.
    Table(Value),
}

/// The glue that makes `req` on the Lua side; each entry point appends its function.
macro_rules! glue {
    ($entry:literal) => {
        concat!(include_str!("request.lua"), "\n", $entry)
    };
}
pub(crate) use glue;

/// A handler called with the `req` table the glue makes.
pub const HANDLER_GLUE: &str =
    glue!("return function(handler, parts) return handler(request(parts)) end");

impl Req {
    /// Parts for the glue when the host runs it (`glued`), else the whole table.
    pub fn new(
        parts: &Parts,
        params: Option<&RawPathParams>,
        remote: &str,
        body: Bytes,
        json: &Callback,
        glued: bool,
    ) -> Req {
        if !glued {
            return Req::Table(to_value(parts, params, remote, body, json));
        }
        let uri = original_uri(parts);
        Req::Parts(List::from(vec![
            parts.method.as_str().into(),
            uri.path().into(),
            Value::Map(path_params(params)),
            Value::Str(body),
            remote.into(),
            Value::Function(json.clone()),
            Value::Str(header_block(&parts.headers).into()),
            uri.query().unwrap_or_default().into(),
        ]))
    }
}

impl Req {
    /// The whole `req` table, for a Lua function called without the glue.
    pub fn to_table(&self) -> Value {
        let parts = match self {
            Req::Table(table) => return table.clone(),
            Req::Parts(parts) => parts,
        };
        let mut req = Map::with_capacity(8);
        for (name, value) in FIELDS.iter().zip(parts.iter()) {
            let value = match (*name, value) {
                ("headers", Value::Str(block)) => Value::Map(decode_header_block(block)),
                ("query", Value::Str(raw)) => Value::Map(query(std::str::from_utf8(raw).ok())),
                _ => value.clone(),
            };
            req.push((*name).into(), value);
        }
        Value::Map(req)
    }
}

/// The names of [`Req::Parts`], in order.
const FIELDS: [&str; 8] = [
    "method",
    "path",
    "params",
    "body",
    "remote_addr",
    "json",
    "headers",
    "query",
];

/// Builds the whole request value.
pub fn to_value(
    parts: &Parts,
    params: Option<&RawPathParams>,
    remote: &str,
    body: Bytes,
    json: &Callback,
) -> Value {
    let uri = original_uri(parts);
    let mut req = Map::with_capacity(8);
    req.push("method".into(), parts.method.as_str().into());
    req.push("path".into(), uri.path().into());
    req.push("params".into(), Value::Map(path_params(params)));
    req.push("query".into(), Value::Map(query(uri.query())));
    req.push("headers".into(), Value::Map(headers(&parts.headers)));
    req.push("body".into(), Value::Str(body));
    req.push("remote_addr".into(), remote.into());
    req.push("json".into(), Value::Function(json.clone()));
    Value::Map(req)
}

/// The URI the client sent (a nested router's parts hold it without the prefix).
pub fn original_uri(parts: &Parts) -> &Uri {
    parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0)
}

fn path_params(params: Option<&RawPathParams>) -> Map {
    params
        .into_iter()
        .flat_map(|p| p.iter())
        .map(|(name, value)| {
            let name = if name == routes::WILDCARD { "*" } else { name };
            (Value::from(name), Value::from(value))
        })
        .collect()
}

/// Decodes `a=1&b=x%20y&flag`; `+` is a space, as in HTML forms. Keys keep the order they
/// first appear in; a repeated key's values are found through an index, so a query of many
/// distinct keys costs linear time (a linear search per key made a long query a CPU sink).
pub fn query(raw: Option<&str>) -> Map {
    let Some(raw) = raw else {
        return Map::new();
    };
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut entries: Vec<(Vec<u8>, Vec<Value>)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(k);
        let value = Value::Str(decode_component(v).into());
        match index.get(&key) {
            Some(&at) => entries[at].1.push(value),
            None => {
                index.insert(key.clone(), entries.len());
                entries.push((key, vec![value]));
            }
        }
    }
    let mut map = Map::with_capacity(entries.len());
    for (key, mut values) in entries {
        let value = match values.len() {
            1 => values.pop().unwrap_or(Value::Nil),
            _ => Value::Array(List::from(values)),
        };
        map.push(Value::Str(key.into()), value);
    }
    map
}

/// `http.query_value(query, name)`: one value of a decoded query whatever the client sent,
/// the first when the key is repeated (as Go's `Query().Get`), nil when it is absent.
pub fn query_value(query: &Map, name: &str) -> Value {
    match query.get(name) {
        Some(Value::Array(values)) => values.iter().next().cloned().unwrap_or(Value::Nil),
        Some(value) => value.clone(),
        None => Value::Nil,
    }
}

fn decode_component(text: &str) -> Vec<u8> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).collect()
}

pub fn headers(headers: &HeaderMap) -> Map {
    let mut map = Map::with_capacity(headers.keys_len());
    let mut joined = Vec::new();
    for name in headers.keys() {
        joined.clear();
        join_values(headers, name, &mut joined);
        map.push(name.as_str().into(), Value::Str(joined.as_slice().into()));
    }
    map
}

/// The headers for `request.lua`: per name, its length as 4 bytes little-endian and the name,
/// then the same for its joined values (as [`headers`] joins them). Lengths, not separators:
/// a value may hold any byte the parser let through.
fn header_block(headers: &HeaderMap) -> Vec<u8> {
    let mut block = Vec::with_capacity(64 * headers.keys_len());
    let mut joined = Vec::new();
    for name in headers.keys() {
        joined.clear();
        join_values(headers, name, &mut joined);
        for field in [name.as_str().as_bytes(), &joined] {
            // A field is bounded by hyper's header buffer (~400 KB), far below 4 GiB.
            let length = u32::try_from(field.len()).unwrap_or(u32::MAX);
            block.extend_from_slice(&length.to_le_bytes());
            block.extend_from_slice(field);
        }
    }
    block
}

/// The headers of a [`header_block`].
fn decode_header_block(mut block: &[u8]) -> Map {
    let mut map = Map::new();
    let field = |block: &mut &[u8]| -> Option<Vec<u8>> {
        let (length, rest) = block.split_first_chunk::<4>()?;
        let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
        let (field, rest) = (rest.get(..length)?, rest.get(length..)?);
        *block = rest;
        Some(field.to_vec())
    };
    while let (Some(name), Some(value)) = (field(&mut block), field(&mut block)) {
        map.push(Value::Str(name.into()), Value::Str(value.into()));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(map: &'a Map, key: &str) -> &'a Value {
        map.get(key).unwrap_or(&Value::Nil)
    }

    #[test]
    fn query_decodes_and_keeps_repeats() {
        let q = query(Some("a=1&b=x%20y+z&tag=a&tag=b&tag=c&flag"));
        assert_eq!(get(&q, "a").as_str(), Some("1"));
        assert_eq!(get(&q, "b").as_str(), Some("x y z"));
        assert_eq!(get(&q, "flag").as_str(), Some(""));
        let tags = get(&q, "tag").as_list().map(|l| l.len());
        assert_eq!(tags, Some(3));
        let keys: Vec<_> = q.iter().filter_map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "tag", "flag"], "first-seen order");
    }

    /// The parts the glue gets, made whole here (for a function called without glue), are
    /// the table built directly.
    #[test]
    fn parts_make_the_same_table() {
        let (parts, ()) = axum::http::Request::builder()
            .uri("/p?a=1&a=2&b=x+y%21&flag")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("accept", "x")
            .header("accept", "y")
            .header("x-bytes", &b"caf\xc3\xa9\t\xff"[..])
            .header("x-empty", "")
            .body(())
            .expect("request")
            .into_parts();
        let json = Callback::from_fn(|_| Ok(()));
        let req = |glued| Req::new(&parts, None, "1.2.3.4:5", b"body"[..].into(), &json, glued);
        let (direct, via_parts) = (req(false).to_table(), req(true).to_table());
        assert!(matches!(req(true), Req::Parts(_)));
        let (Some(direct), Some(via_parts)) = (direct.as_map(), via_parts.as_map()) else {
            panic!("tables expected");
        };
        for (key, value) in direct.iter() {
            let key = key.as_str().unwrap_or_default();
            let other = via_parts.get(key).unwrap_or(&Value::Nil);
            match key {
                "json" => assert!(matches!(other, Value::Function(_))),
                _ => assert_eq!(format!("{value:?}"), format!("{other:?}"), "{key}"),
            }
        }
        assert_eq!(direct.len(), via_parts.len());
        let headers = via_parts
            .get("headers")
            .and_then(Value::as_map)
            .expect("headers");
        assert_eq!(get(headers, "set-cookie").as_str(), Some("a=1\nb=2"));
        assert_eq!(get(headers, "accept").as_str(), Some("x, y"));
        assert_eq!(
            get(headers, "x-bytes").as_bytes(),
            Some(&b"caf\xc3\xa9\t\xff"[..])
        );
    }

    #[test]
    fn query_value_is_one_value_or_nil() {
        let q = query(Some("tag=a&tag=b&one=1"));
        assert_eq!(query_value(&q, "tag").as_str(), Some("a"));
        assert_eq!(query_value(&q, "one").as_str(), Some("1"));
        assert!(query_value(&q, "none").is_nil());
    }
}
