//! A response as Lua sees it: `{status, ok, headers, body, url, json, header_values}`.
//!
//! - `headers`: names lower-case (HTTP/2 requires it, HTTP/1 ignores case); a header sent several
//!   times is one string, its values joined in the order received with ", " (RFC 9110 §5.3,
//!   what `fetch`'s `Headers.get` returns), except `set-cookie`, joined with "\n" as the
//!   server's `req.headers` joins it (see `crate::headers`).
//! - `resp:header_values(name)`: every value of the header `name` (any case), in order, as a
//!   list: two `Set-Cookie` lines stay two strings, whatever commas they hold; `{}` when absent.
//! - `body`: the bytes, as a Lua string (whatever the content type; `resp:json()` decodes),
//!   decoded when the server compressed them (unless `decompress = false`). With `output` the
//!   response has `bytes` (the count written to the file) instead; with `stream` it is an
//!   object read piece by piece (`super::stream`).
//! - `url`: the final URL, after redirects.
//! - `json`: one shared function, so `resp:json()` decodes `resp.body` (the host's JSON decoder,
//!   straight into Lua under the memory limit, when the host offers it).

use std::sync::Arc;

use assay_sdk::{Args, Callback, Error, List, Map, Result, Value};
use reqwest::header::{HeaderMap, HeaderName};

use super::errors::{self, Context};
use super::options::BodyLimit;
use crate::budget::{Buffer, Refused};

/// Reads the whole response, at most `limit` bytes of body, its buffer charged to the bytes in
/// flight under `memory_limit` (see [`crate::budget`]); `json` becomes `resp.json`.
pub(crate) async fn read(
    mut response: reqwest::Response,
    limit: BodyLimit,
    memory_limit: Option<u64>,
    json: Callback,
    cx: &Context<'_>,
) -> Result<Value> {
    let mut out = head(&response);
    let refused = refusal(limit, cx);
    let mut body =
        Buffer::new(limit.bytes, response.content_length(), memory_limit).map_err(&refused)?;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| errors::describe(&e, cx))?
    {
        body.push(&chunk).map_err(&refused)?;
    }
    // Lua gets a copy of the body, counted by the VM: this one is released with the charge.
    let (body, _charge) = body.finish();
    out.push("body".into(), Value::from(body));
    out.push("json".into(), Value::Function(json));
    Ok(Value::Map(out))
}

/// The error for a body `limit` refuses, from `cx`'s server.
pub(crate) fn refusal(limit: BodyLimit, cx: &Context<'_>) -> impl Fn(Refused) -> Error {
    let from = errors::authority(cx.url);
    move |why| match why {
        Refused::TooLarge => Error::new(format!(
            "the response body from {from} is larger than {}",
            limit.describe()
        )),
        Refused::Exhausted(e) => {
            Error::new(format!("cannot buffer the response body from {from}: {e}"))
        }
    }
}

/// `status`, `ok`, `headers`, `url` and `header_values` of a response: what every way of
/// reading it shares.
pub(crate) fn head(response: &reqwest::Response) -> Map {
    let status = response.status().as_u16();
    let mut out = Map::with_capacity(8);
    out.push("status".into(), Value::Int(i64::from(status)));
    out.push("ok".into(), Value::Bool((200..300).contains(&status)));
    out.push("headers".into(), Value::Map(headers(response.headers())));
    out.push("url".into(), Value::from(response.url().as_str()));
    out.push(
        "header_values".into(),
        Value::Function(header_values_method(response.headers().clone())),
    );
    out
}

/// Response headers as a table; see the module docs for repeated headers.
pub(crate) fn headers(headers: &HeaderMap) -> Map {
    let mut out = Map::with_capacity(headers.keys_len());
    let mut joined = Vec::new();
    for name in headers.keys() {
        joined.clear();
        crate::headers::join_values(headers, name, &mut joined);
        out.push(Value::from(name.as_str()), Value::from(joined.as_slice()));
    }
    out
}

/// `resp:header_values(name)` for one response: it holds that response's headers (the table
/// crossing back as `self` holds only the joined ones).
fn header_values_method(headers: HeaderMap) -> Callback {
    let headers = Arc::new(headers);
    Callback::from_fn(move |args: Args| header_values(&headers, &args, 2))
}

/// Every value of the header named by argument `pos` (2 for the table's function, whose
/// argument 1 is `self`); messages call it argument #1, as Lua counts for a method call.
pub(crate) fn header_values(headers: &HeaderMap, args: &Args, pos: usize) -> Result<Value> {
    let shown = 1;
    let name = args
        .get(pos)
        .as_bytes()
        .ok_or_else(|| {
            Error::new(format!(
                "header_values: bad argument #{shown} 'name' (string expected, got {})",
                args.get(pos).type_name()
            ))
        })?
        .to_ascii_lowercase();
    let Ok(name) = HeaderName::from_bytes(&name) else {
        return Err(Error::new(format!(
            "header_values: bad argument #{shown} 'name' (invalid header name '{}')",
            String::from_utf8_lossy(&name)
        )));
    };
    let values: Vec<Value> = headers
        .get_all(&name)
        .iter()
        .map(|v| Value::from(v.as_bytes()))
        .collect();
    Ok(Value::Array(List::from(values)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn sample() -> HeaderMap {
        let mut map = HeaderMap::new();
        let name = HeaderName::from_static("x-multi");
        map.append(name.clone(), HeaderValue::from_static("a"));
        map.append(name, HeaderValue::from_static("b"));
        let cookie = HeaderName::from_static("set-cookie");
        map.append(
            cookie.clone(),
            HeaderValue::from_static("a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
        );
        map.append(cookie, HeaderValue::from_static("b=2"));
        map.append(
            HeaderName::from_static("content-type"),
            HeaderValue::from_static("text/plain"),
        );
        map
    }

    #[test]
    fn repeated_headers_are_joined_in_order() {
        let out = headers(&sample());
        assert_eq!(out.get("x-multi"), Some(&Value::from("a, b")));
        assert_eq!(
            out.get("set-cookie"),
            Some(&Value::from(
                "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT\nb=2"
            ))
        );
        assert_eq!(out.get("content-type"), Some(&Value::from("text/plain")));
    }

    #[test]
    fn header_values_lists_each_value() {
        let map = sample();
        let call = |name: Value| header_values(&map, &Args::from_vec(vec![Value::Nil, name]), 2);
        let cookies = call("Set-Cookie".into()).expect("values");
        let cookies: Vec<_> = cookies.as_list().expect("list").iter().cloned().collect();
        assert_eq!(
            cookies,
            vec![
                Value::from("a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
                Value::from("b=2")
            ]
        );
        let none = call("x-none".into()).expect("empty");
        assert_eq!(none.as_list().map(|l| l.len()), Some(0));
        let err = call(Value::Int(1)).expect_err("not a string");
        assert_eq!(
            err.message(),
            "header_values: bad argument #1 'name' (string expected, got number)"
        );
        let err = call("bad name".into()).expect_err("invalid");
        assert!(
            err.message().contains("invalid header name 'bad name'"),
            "{err}"
        );
    }
}
