//! Reading `http.client{...}` options and the per-request `opts` table.
//!
//! Everything is read on the Lua thread into owned values, so the future that does the I/O
//! holds no borrow of the call's arguments. Every complaint names the option.

use std::time::Duration;

use assay_sdk::{Error, Options, Result, Value};
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Redirects followed when `follow_redirects` is not given: reqwest's, curl's `-L` and
/// browsers' limits are all about this size.
pub(crate) const DEFAULT_MAX_REDIRECTS: usize = 10;

/// The largest response body read when `max_body` is not given. It matches the default Lua
/// memory limit (64 MiB): a larger body could not become a Lua string anyway, and the bytes
/// are buffered on the plugin's side, outside that limit.
pub(crate) const DEFAULT_MAX_BODY: u64 = 64 << 20;

/// `http.client` options, owned.
pub(crate) struct ClientSpec {
    pub base_url: Option<Url>,
    pub headers: HeaderMap,
    pub timeout: Option<Duration>,
    pub ca_cert: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub insecure: bool,
    pub max_redirects: usize,
    pub proxy: Option<reqwest::Proxy>,
    pub max_body: u64,
}

impl Default for ClientSpec {
    /// The shared client behind `http.get` and friends.
    fn default() -> Self {
        Self {
            base_url: None,
            headers: HeaderMap::new(),
            timeout: None,
            ca_cert: None,
            client_cert: None,
            client_key: None,
            insecure: false,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            proxy: None,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

const CLIENT_OPTIONS: &[&str] = &[
    "base_url",
    "headers",
    "timeout",
    "ca_cert",
    "client_cert",
    "client_key",
    "insecure",
    "follow_redirects",
    "proxy",
    "max_body",
];

impl ClientSpec {
    pub(crate) fn read(opts: &Options<'_>) -> Result<Self> {
        opts.only(CLIENT_OPTIONS)?;
        let base_url = match opts.str("base_url")? {
            None => None,
            Some(text) => Some(absolute_url(text).map_err(|why| opts.invalid("base_url", why))?),
        };
        let proxy = match opts.str("proxy")? {
            None => None,
            Some(text) => {
                absolute_url(text).map_err(|why| opts.invalid("proxy", why))?;
                Some(
                    reqwest::Proxy::all(text)
                        .map_err(|e| opts.invalid("proxy", super::errors::root_cause(&e)))?,
                )
            }
        };
        let max_redirects = match opts.get("follow_redirects") {
            None => DEFAULT_MAX_REDIRECTS,
            Some(Value::Bool(true)) => DEFAULT_MAX_REDIRECTS,
            Some(Value::Bool(false)) => 0,
            Some(v) => match v.as_int() {
                Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(opts.invalid(
                        "follow_redirects",
                        format!(
                            "boolean or a count of redirects expected, got {}",
                            describe(v)
                        ),
                    ));
                }
            },
        };
        Ok(Self {
            base_url,
            headers: headers(opts)?,
            timeout: timeout(opts)?,
            ca_cert: opts.str("ca_cert")?.map(str::to_owned),
            client_cert: opts.str("client_cert")?.map(str::to_owned),
            client_key: opts.str("client_key")?.map(str::to_owned),
            insecure: opts.bool("insecure")?.unwrap_or(false),
            max_redirects,
            proxy,
            max_body: max_body(opts)?.unwrap_or(DEFAULT_MAX_BODY),
        })
    }
}

/// The per-request options other than the body.
pub(crate) struct RequestSpec {
    pub headers: HeaderMap,
    /// `k=v&k=v`, percent-encoded, or empty.
    pub query: String,
    pub timeout: Option<Duration>,
    pub max_body: Option<u64>,
}

impl RequestSpec {
    /// Reads `opts`; `with_body` says whether `body` is one of its options (it is for `get`,
    /// `delete` and `request`; `post`, `put` and `patch` take the body as an argument).
    pub(crate) fn read(opts: &Options<'_>, with_body: bool) -> Result<Self> {
        if with_body {
            opts.only(&["headers", "query", "timeout", "body", "max_body"])?;
        } else {
            opts.only(&["headers", "query", "timeout", "max_body"])?;
        }
        Ok(Self {
            headers: headers(opts)?,
            query: query(opts)?,
            timeout: timeout(opts)?,
            max_body: max_body(opts)?,
        })
    }
}

/// A value for a message: strings quoted, numbers as Lua shows them, tables by type.
fn describe(v: &Value) -> String {
    match v {
        Value::Str(b) => format!("'{}'", String::from_utf8_lossy(b)),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        other => other.type_name().to_owned(),
    }
}

/// An absolute http(s) URL, or why not.
pub(crate) fn absolute_url(text: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("invalid URL '{text}': {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "unsupported URL scheme '{other}' in '{text}' (http or https expected)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL '{text}' has no host"));
    }
    Ok(url)
}

/// `timeout`: seconds, a positive finite number.
fn timeout(opts: &Options<'_>) -> Result<Option<Duration>> {
    let Some(secs) = opts.float("timeout")? else {
        return Ok(None);
    };
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if secs > 0.0 => Ok(Some(d)),
        _ => Err(opts.invalid(
            "timeout",
            format!("a positive number of seconds expected, got {secs}"),
        )),
    }
}

/// `max_body`: a byte count, at least 0.
fn max_body(opts: &Options<'_>) -> Result<Option<u64>> {
    match opts.int("max_body")? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| opts.invalid("max_body", format!("a byte count expected, got {n}"))),
    }
}

/// `headers = {name = value}`: a value is a string, a number, or a list of them (the header is
/// sent once per item).
pub(crate) fn headers(opts: &Options<'_>) -> Result<HeaderMap> {
    let mut out = HeaderMap::new();
    let Some(map) = opts.map("headers")? else {
        return Ok(out);
    };
    for (key, value) in map.iter() {
        let Some(name) = key.as_bytes() else {
            return Err(opts.invalid(
                "headers",
                format!("header names are strings, got a {}", key.type_name()),
            ));
        };
        let shown = String::from_utf8_lossy(name);
        let name = HeaderName::from_bytes(name)
            .map_err(|_| opts.invalid("headers", format!("invalid header name '{shown}'")))?;
        let texts = scalar_texts(value, |item| {
            opts.invalid(
                "headers",
                format!(
                    "header '{shown}': string or number expected, got {}",
                    item.type_name()
                ),
            )
        })?;
        for text in texts {
            let header = HeaderValue::from_bytes(&text).map_err(|_| {
                opts.invalid(
                    "headers",
                    format!("header '{shown}': value has a line break or control character"),
                )
            })?;
            out.append(name.clone(), header);
        }
    }
    Ok(out)
}

/// The texts of a value that is one scalar or a list of them (`"a"`, `{"a", "b"}`); `bad`
/// makes the error for an item that is not a scalar.
fn scalar_texts(value: &Value, bad: impl Fn(&Value) -> Error) -> Result<Vec<Vec<u8>>> {
    let items: Vec<&Value> = match value {
        Value::Array(list) => list.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .map(|item| scalar_text(item).ok_or_else(|| bad(item)))
        .collect()
}

/// A string's bytes, or a number or boolean written as Lua would print it.
fn scalar_text(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Str(b) => Some(b.as_slice().to_vec()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        Value::Float(f) if f.is_finite() => Some(format!("{f:?}").into_bytes()),
        Value::Bool(b) => Some(b.to_string().into_bytes()),
        _ => None,
    }
}

/// Characters left as they are in query keys and values: RFC 3986's unreserved set. Everything
/// else, space included, is %XX, which every server decodes (unlike `+` for space).
const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `query = {k = v}` as `k=v&...`, keys sorted (the same table gives the same URL); a list
/// value repeats the key (`{tag = {"a", "b"}}` is `tag=a&tag=b`).
fn query(opts: &Options<'_>) -> Result<String> {
    let Some(map) = opts.map("query")? else {
        return Ok(String::new());
    };
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (key, value) in map.iter() {
        let key_text = match key {
            Value::Str(_) | Value::Int(_) => scalar_text(key),
            _ => None,
        }
        .ok_or_else(|| {
            opts.invalid(
                "query",
                format!("keys are strings, got a {}", key.type_name()),
            )
        })?;
        let texts = scalar_texts(value, |item| {
            opts.invalid(
                "query",
                format!(
                    "'{}': string, number or boolean expected, got {}",
                    String::from_utf8_lossy(&key_text),
                    item.type_name()
                ),
            )
        })?;
        pairs.extend(texts.into_iter().map(|text| (key_text.clone(), text)));
    }
    // Stable: repeated keys keep their list order.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(percent_encoding::percent_encode(&k, QUERY));
        out.push('=');
        out.extend(percent_encoding::percent_encode(&v, QUERY));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_sdk::{Args, Map};

    fn opts_of(pairs: Vec<(&str, Value)>) -> Args {
        Args::from_vec(vec![Value::Map(pairs.into_iter().collect::<Map>())])
    }

    #[test]
    fn query_is_sorted_and_percent_encoded() {
        let args = opts_of(vec![(
            "query",
            Value::Map(
                vec![
                    ("q", Value::from("a b&c=d/é")),
                    ("n", Value::Int(3)),
                    ("tag", Value::from(vec![Value::from("x"), Value::from("y")])),
                    ("ok", Value::Bool(true)),
                ]
                .into_iter()
                .collect::<Map>(),
            ),
        )]);
        let spec = RequestSpec::read(&args.options(1, "opts").expect("opts"), false).expect("ok");
        assert_eq!(
            spec.query,
            "n=3&ok=true&q=a%20b%26c%3Dd%2F%C3%A9&tag=x&tag=y"
        );
    }

    #[test]
    fn unknown_options_are_named() {
        let args = opts_of(vec![("timout", Value::Int(1))]);
        let err = RequestSpec::read(&args.options(1, "opts").expect("opts"), true)
            .err()
            .expect("unknown option");
        assert!(err.message().contains("unknown option 'timout'"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let args = opts_of(vec![("timeout", Value::Int(-1))]);
        let err = RequestSpec::read(&args.options(1, "opts").expect("opts"), true)
            .err()
            .expect("negative timeout");
        assert!(err.message().contains("field 'timeout'"), "{err}");
        let args = opts_of(vec![("follow_redirects", Value::from("yes"))]);
        let err = ClientSpec::read(&args.options(1, "opts").expect("opts"))
            .err()
            .expect("bad follow_redirects");
        assert!(err.message().contains("field 'follow_redirects'"), "{err}");
        let args = opts_of(vec![("base_url", Value::from("ftp://x"))]);
        let err = ClientSpec::read(&args.options(1, "opts").expect("opts"))
            .err()
            .expect("bad scheme");
        assert!(
            err.message().contains("unsupported URL scheme 'ftp'"),
            "{err}"
        );
    }

    #[test]
    fn headers_accept_lists_and_numbers() {
        let args = opts_of(vec![(
            "headers",
            Value::Map(
                vec![
                    (
                        "X-Many",
                        Value::from(vec![Value::from("a"), Value::from("b")]),
                    ),
                    ("x-n", Value::Int(5)),
                ]
                .into_iter()
                .collect::<Map>(),
            ),
        )]);
        let spec = RequestSpec::read(&args.options(1, "opts").expect("opts"), false).expect("ok");
        let many: Vec<_> = spec.headers.get_all("x-many").iter().collect();
        assert_eq!(many.len(), 2);
        assert_eq!(
            spec.headers.get("x-n").map(|v| v.as_bytes()),
            Some(&b"5"[..])
        );
    }
}
