//! A response as Lua sees it: `{status, ok, headers, body, url, json}`.
//!
//! - `headers`: names lower-case (HTTP/2 requires it, HTTP/1 ignores case); a header sent several
//!   times is one string, its values joined with ", " in the order received: the combination
//!   RFC 9110 §5.3 defines, and what `fetch`'s `Headers.get` returns. (`set-cookie` values may
//!   themselves hold commas; scripts that need each cookie should parse with care.)
//! - `body`: the bytes, as a Lua string (whatever the content type; `resp:json()` decodes).
//! - `url`: the final URL, after redirects.
//! - `json`: one shared function, so `resp:json()` decodes `resp.body` (the host's JSON decoder,
//!   straight into Lua under the memory limit, when the host offers it).

use assay_sdk::{Callback, Error, Map, Result, Value};
use reqwest::header::HeaderMap;

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
    let status = response.status().as_u16();
    let url = response.url().to_string();
    let headers = headers(response.headers());
    let max_body = limit.bytes;
    let too_large = || {
        Error::new(format!(
            "the response body from {} is larger than {}",
            errors::authority(cx.url),
            limit.describe()
        ))
    };
    let refused = |why: Refused| match why {
        Refused::TooLarge => too_large(),
        Refused::Exhausted(e) => Error::new(format!(
            "cannot buffer the response body from {}: {e}",
            errors::authority(cx.url)
        )),
    };
    let mut body =
        Buffer::new(max_body, response.content_length(), memory_limit).map_err(refused)?;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| errors::describe(&e, cx))?
    {
        body.push(&chunk).map_err(refused)?;
    }
    // Lua gets a copy of the body, counted by the VM: this one is released with the charge.
    let (body, _charge) = body.finish();
    let mut out = Map::with_capacity(6);
    out.push("status".into(), Value::Int(i64::from(status)));
    out.push("ok".into(), Value::Bool((200..300).contains(&status)));
    out.push("headers".into(), Value::Map(headers));
    out.push("body".into(), Value::from(body));
    out.push("url".into(), Value::from(url));
    out.push("json".into(), Value::Function(json));
    Ok(Value::Map(out))
}

/// Response headers as a table; see the module docs for repeated headers.
fn headers(headers: &HeaderMap) -> Map {
    let mut out = Map::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let mut joined: Vec<u8> = Vec::new();
        for value in headers.get_all(name) {
            if !joined.is_empty() {
                joined.extend_from_slice(b", ");
            }
            joined.extend_from_slice(value.as_bytes());
        }
        out.push(Value::from(name.as_str()), Value::from(joined));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[test]
    fn repeated_headers_are_joined_in_order() {
        let mut map = HeaderMap::new();
        let name = HeaderName::from_static("x-multi");
        map.append(name.clone(), HeaderValue::from_static("a"));
        map.append(name, HeaderValue::from_static("b"));
        map.append(
            HeaderName::from_static("content-type"),
            HeaderValue::from_static("text/plain"),
        );
        let out = headers(&map);
        assert_eq!(out.get("x-multi"), Some(&Value::from("a, b")));
        assert_eq!(out.get("content-type"), Some(&Value::from("text/plain")));
    }
}
