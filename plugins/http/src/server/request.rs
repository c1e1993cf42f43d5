//! The `req` table a handler receives:
//! `{method, path, params, query, headers, body, remote_addr}` plus `req:json()`.
//!
//! - `path` is the request path as sent (still percent-encoded), under a static folder's
//!   prefix too (axum's nested router sees the path without it); `params` are decoded.
//! - `query` values are decoded; a key given once is a string, a key repeated is a list of its
//!   values in order (as Node's `querystring` does), so `?tag=a&tag=b` is not silently cut.
//! - header names are lower-case; a repeated header's values are joined with ", " (RFC 9110
//!   5.3), except `set-cookie`, whose values are joined with "\n" because they may contain commas.

use std::net::SocketAddr;

use assay_sdk::{Bytes, Callback, List, Map, Value};
use axum::extract::{OriginalUri, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};

use super::routes;

/// Builds the request value.
pub fn to_value(
    parts: &Parts,
    params: Option<&RawPathParams>,
    remote: SocketAddr,
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
    req.push("remote_addr".into(), remote.to_string().into());
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

/// Decodes `a=1&b=x%20y&flag`; `+` is a space, as in HTML forms.
pub fn query(raw: Option<&str>) -> Map {
    let mut map = Map::new();
    let Some(raw) = raw else {
        return map;
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(k);
        let value = Value::Str(decode_component(v).into());
        if map.iter().any(|(name, _)| name.as_bytes() == Some(&key)) {
            append(&mut map, &key, value);
        } else {
            map.push(Value::Str(key.into()), value);
        }
    }
    map
}

/// Turns the existing entry for `key` into a list (if it is not one yet) and appends `value`.
fn append(map: &mut Map, key: &[u8], value: Value) {
    let previous = map
        .iter()
        .find(|(k, _)| k.as_bytes() == Some(key))
        .map(|(_, v)| v.clone());
    let list = match previous {
        Some(Value::Array(mut list)) => {
            list.push(value);
            list
        }
        Some(first) => {
            let mut list = List::with_capacity(2);
            list.push(first);
            list.push(value);
            list
        }
        None => List::from(vec![value]),
    };
    map.insert(Value::Str(key.to_vec().into()), Value::Array(list));
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
    }
}
