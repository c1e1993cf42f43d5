//! A response as Lua sees it: `{status, ok, headers, body, url, json, header_values}`.
//!
//! - `headers`: names lower-case (HTTP/2 requires it, HTTP/1 ignores case); a header sent several
//!   times is one string, its values joined in the order received with ", " (RFC 9110 §5.3,
//!   what `fetch`'s `Headers.get` returns), except `set-cookie`, joined with "\n" as the
//!   server's `req.headers` joins it (see `crate::headers`).
//! - `resp:header_values(name)`: every value of the header `name` (any case), in order, as a
//!   list: two `Set-Cookie` lines stay two strings, whatever commas they hold; `{}` when absent.
//!   It is one function shared by all responses (a function made per response cost about
//!   40 µs of CPU each, a fifth of a loopback request); the values of a header sent more than
//!   once travel in the response's `_header_lists` field (`{name = {value, ...}}`, present only
//!   then), which is its private data.
//! - `body`: the bytes, as a Lua string (whatever the content type; `resp:json()` decodes),
//!   decoded when the server compressed them (unless `decompress = false`). With `output` the
//!   response has `bytes` (the count written to the file) instead; with `stream` it is an
//!   object read piece by piece (`super::stream`).
//! - `url`: the final URL, after redirects.
//! - `json`: one shared function, so `resp:json()` decodes `resp.body` (the host's JSON decoder,
//!   straight into Lua under the memory limit, when the host offers it).

use std::sync::OnceLock;

use assay_sdk::{Args, Callback, Error, List, Map, Result, Value};
use reqwest::header::{HeaderMap, HeaderName};

use super::decode::{Body, Plan};
use super::errors::{self, Context};
use super::options::BodyLimit;
use crate::budget::{Budget, Buffer, Refused};

/// Reads the whole response, at most `limit` bytes of body, its buffer charged to the bytes in
/// flight within `budget` (see [`crate::budget`]); `json` becomes `resp.json`.
pub(crate) async fn read(
    response: reqwest::Response,
    plan: Option<Plan>,
    limit: BodyLimit,
    budget: Budget,
    json: Callback,
    cx: &Context<'_>,
) -> Result<Value> {
    let mut out = head(&response);
    let refused = refusal(limit, cx);
    let mut source = Body::new(response, plan, budget);
    let mut body = Buffer::new(limit.bytes, source.announced(), budget).map_err(&refused)?;
    while let Some(chunk) = source.chunk(cx).await? {
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
        Value::Function(header_values_method()),
    );
    if let Some(lists) = repeated(response.headers()) {
        out.push(HEADER_LISTS.into(), Value::Map(lists));
    }
    out
}

/// The field of a response table that holds the values of its repeated headers.
const HEADER_LISTS: &str = "_header_lists";

/// `{name = {value, ...}}` for the headers sent more than once; `None` when none was.
fn repeated(headers: &HeaderMap) -> Option<Map> {
    let mut lists: Option<Map> = None;
    for name in headers.keys() {
        let mut values = headers.get_all(name).iter();
        if let (Some(first), Some(second)) = (values.next(), values.next()) {
            let all: Vec<Value> = [first, second]
                .into_iter()
                .chain(values)
                .map(|v| Value::from(v.as_bytes()))
                .collect();
            lists
                .get_or_insert_with(Map::new)
                .push(Value::from(name.as_str()), Value::Array(List::from(all)));
        }
    }
    lists
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

/// `resp:header_values(name)`, shared by every response table: the values from the table's
/// `_header_lists` when the header was repeated, else its one value in `headers`.
fn header_values_method() -> Callback {
    static METHOD: OnceLock<Callback> = OnceLock::new();
    METHOD
        .get_or_init(|| {
            Callback::from_fn(|args: Args| {
                args.at_most(1, 1)?;
                let name = header_name(&args, 2)?;
                let this = args.map(1, "self")?;
                let listed = this
                    .get(HEADER_LISTS)
                    .and_then(Value::as_map)
                    .and_then(|lists| lists.get(name.as_str()));
                if let Some(Value::Array(values)) = listed {
                    return Ok(Value::Array(values.clone()));
                }
                let one = this
                    .get("headers")
                    .and_then(Value::as_map)
                    .and_then(|headers| headers.get(name.as_str()))
                    .filter(|v| v.as_bytes().is_some());
                Ok(Value::Array(List::from(
                    one.cloned().into_iter().collect::<Vec<_>>(),
                )))
            })
        })
        .clone()
}

/// Every value of the header named by argument `pos`, from `headers` (a stream's method).
pub(crate) fn header_values(headers: &HeaderMap, args: &Args, pos: usize) -> Result<Value> {
    let name = header_name(args, pos)?;
    let values: Vec<Value> = headers
        .get_all(&name)
        .iter()
        .map(|v| Value::from(v.as_bytes()))
        .collect();
    Ok(Value::Array(List::from(values)))
}

/// The header name at argument `pos`, lower-cased; messages call it argument #1, as Lua
/// counts for a method call (`resp:header_values(name)`).
fn header_name(args: &Args, pos: usize) -> Result<HeaderName> {
    let name = args
        .get(pos)
        .as_bytes()
        .ok_or_else(|| {
            Error::new(format!(
                "header_values: bad argument #1 'name' (string expected, got {})",
                args.get(pos).type_name()
            ))
        })?
        .to_ascii_lowercase();
    HeaderName::from_bytes(&name).map_err(|_| {
        Error::new(format!(
            "header_values: bad argument #1 'name' (invalid header name '{}')",
            String::from_utf8_lossy(&name)
        ))
    })
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

    /// The shared method on a table as `head` makes it: lists for repeated headers, the one
    /// value otherwise, `{}` when absent.
    #[test]
    fn the_shared_method_reads_the_table() {
        let map = sample();
        let mut table = Map::new();
        table.push("headers".into(), Value::Map(headers(&map)));
        if let Some(lists) = repeated(&map) {
            table.push(HEADER_LISTS.into(), Value::Map(lists));
        }
        let method = header_values_method();
        let call = |name: &str| {
            let args = Args::from_vec(vec![Value::Map(table.clone()), Value::from(name)]);
            let f = method.clone();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            runtime
                .block_on(f.call(args.into_vec()))
                .expect("values")
                .remove(0)
        };
        let list = |v: Value| {
            v.as_list()
                .expect("list")
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            list(call("X-Multi")),
            vec![Value::from("a"), Value::from("b")]
        );
        assert_eq!(list(call("set-cookie")).len(), 2);
        assert_eq!(list(call("content-type")), vec![Value::from("text/plain")]);
        assert!(list(call("x-none")).is_empty());
        assert!(repeated(&HeaderMap::new()).is_none());
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
