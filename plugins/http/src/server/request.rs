//! The `req` table a handler receives:
//! `{method, path, params, query, headers, body, remote_addr}` plus `req:json()`.
//!
//! - `path` is the request path as sent (still percent-encoded), under a static folder's
//!   prefix too (axum's nested router sees the path without it); `params` are decoded.
//! - `query` values are decoded; a key given once is a string, a key repeated is a list of its
//!   values in order (as Node's `querystring` does), so `?tag=a&tag=b` is not silently cut;
//!   `http.query_value(req.query, "tag")` gives one value either way (the first).
//! - header names are lower-case; a repeated header's values are joined with ", " (RFC 9110
//!   5.3), except `set-cookie`, whose values are joined with "\n" because they may contain commas.

use std::collections::HashMap;
use std::net::SocketAddr;

use assay_sdk::{Bytes, Callback, List, Map, Value};
use axum::extract::{OriginalUri, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};

use super::routes;

/// The client's address as `req.remote_addr` shows it, formatted once per connection (it
/// was a tenth of building a small request).
#[derive(Clone, Debug)]
pub struct RemoteText(pub std::sync::Arc<str>);

impl RemoteText {
    pub fn new(remote: SocketAddr) -> Self {
        RemoteText(remote.to_string().into())
    }
}

/// Builds the request value.
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
    for name in headers.keys() {
        let mut values = headers.get_all(name).iter();
        let Some(first) = values.next() else {
            continue;
        };
        let mut joined = first.as_bytes().to_vec();
        let separator: &[u8] = if name == "set-cookie" { b"\n" } else { b", " };
        for more in values {
            joined.extend_from_slice(separator);
            joined.extend_from_slice(more.as_bytes());
        }
        map.push(name.as_str().into(), Value::Str(joined.into()));
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

    #[test]
    fn query_value_is_one_value_or_nil() {
        let q = query(Some("tag=a&tag=b&one=1"));
        assert_eq!(query_value(&q, "tag").as_str(), Some("a"));
        assert_eq!(query_value(&q, "one").as_str(), Some("1"));
        assert!(query_value(&q, "none").is_nil());
    }
}
