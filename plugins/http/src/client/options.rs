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

/// The largest response body read when `max_body` is not given: the default Lua memory limit
/// (64 MiB), and never more than the calling script's own limit (see [`BodyLimit`]).
pub(crate) const DEFAULT_MAX_BODY: u64 = 64 << 20;

/// The limit on a whole request (connect, send, wait, read the body) when `timeout` is not
/// given (see the module docs of `client` for why a minute).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The limit on bringing a connection up (TCP and TLS handshakes) when `connect_timeout` is
/// not given.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A time limit as an option states it: absent, `false` (none), or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    Unset,
    Off,
    After(Duration),
}

impl Limit {
    /// This limit, else `fallback` when it was not given.
    pub(crate) fn or(self, fallback: Limit) -> Limit {
        match self {
            Limit::Unset => fallback,
            given => given,
        }
    }

    /// The duration, with `default` standing in for a limit nobody gave.
    pub(crate) fn resolve(self, default: Duration) -> Option<Duration> {
        match self {
            Limit::Unset => Some(default),
            Limit::Off => None,
            Limit::After(d) => Some(d),
        }
    }
}

/// A request's total time limit from the call's `timeout` and its client's: the call's when it
/// gave one, else the client's, else [`DEFAULT_TIMEOUT`]; `None` when turned off. The flag
/// says whether the default applied (the error message then says how to change it).
pub(crate) fn total_timeout(call: Limit, client: Limit) -> (Option<Duration>, bool) {
    let limit = call.or(client);
    (limit.resolve(DEFAULT_TIMEOUT), limit == Limit::Unset)
}

/// The most response body bytes a call reads, and what set that bound (for the message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BodyLimit {
    pub bytes: u64,
    pub by: BodyBound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyBound {
    /// `max_body` as the call or the client gave it.
    Option,
    /// [`DEFAULT_MAX_BODY`]: nobody gave `max_body`.
    Default,
    /// The script's memory limit, below what `max_body` (or its default) allowed: a larger
    /// body could never become a Lua string, and it would be buffered outside that limit.
    MemoryLimit,
}

impl BodyLimit {
    /// `max_body` as given (by the call, else the client), clamped to the calling script's
    /// memory limit (`None`: no limit known).
    pub(crate) fn new(max_body: Option<u64>, memory_limit: Option<u64>) -> BodyLimit {
        let wanted = match max_body {
            Some(bytes) => BodyLimit {
                bytes,
                by: BodyBound::Option,
            },
            None => BodyLimit {
                bytes: DEFAULT_MAX_BODY,
                by: BodyBound::Default,
            },
        };
        match memory_limit {
            Some(limit) if limit < wanted.bytes => BodyLimit {
                bytes: limit,
                by: BodyBound::MemoryLimit,
            },
            _ => wanted,
        }
    }

    /// What the body is larger than, for "... is larger than <this>".
    pub(crate) fn describe(&self) -> String {
        match self.by {
            BodyBound::Option => format!("max_body ({} bytes)", self.bytes),
            BodyBound::Default => format!(
                "the default max_body ({}; pass max_body to change it)",
                assay_sdk::files::describe_size(self.bytes)
            ),
            BodyBound::MemoryLimit => format!(
                "the script's memory limit of {} (raise --memory-limit)",
                assay_sdk::files::describe_size(self.bytes)
            ),
        }
    }
}

/// `http.client` options, owned.
pub(crate) struct ClientSpec {
    pub base_url: Option<Url>,
    pub headers: HeaderMap,
    pub timeout: Limit,
    pub connect_timeout: Limit,
    pub ca_cert: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub insecure: bool,
    pub max_redirects: usize,
    pub proxy: Option<reqwest::Proxy>,
    /// `None`: not given (each call then reads at most [`DEFAULT_MAX_BODY`]).
    pub max_body: Option<u64>,
    /// `cookies = true`: a cookie jar kept across the client's requests.
    pub cookies: bool,
}

impl Default for ClientSpec {
    /// The shared client behind `http.get` and friends.
    fn default() -> Self {
        Self {
            base_url: None,
            headers: HeaderMap::new(),
            timeout: Limit::Unset,
            connect_timeout: Limit::Unset,
            ca_cert: None,
            client_cert: None,
            client_key: None,
            insecure: false,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            proxy: None,
            max_body: None,
            cookies: false,
        }
    }
}

const CLIENT_OPTIONS: &[&str] = &[
    "base_url",
    "headers",
    "timeout",
    "connect_timeout",
    "ca_cert",
    "client_cert",
    "client_key",
    "insecure",
    "follow_redirects",
    "proxy",
    "max_body",
    "cookies",
];

impl ClientSpec {
    /// In the sandbox a script may read no file, so the PEM options take the text itself.
    pub(crate) fn refuse_files(&self) -> Result<()> {
        let pem_options = [
            ("ca_cert", &self.ca_cert),
            ("client_cert", &self.client_cert),
            ("client_key", &self.client_key),
        ];
        for (option, value) in pem_options {
            if value
                .as_deref()
                .is_some_and(|v| !assay_sdk::pem::is_pem_text(v))
            {
                return Err(Error::new(format!(
                    "{option}: reading a file is not available in sandbox (pass the PEM text)"
                )));
            }
        }
        Ok(())
    }

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
            timeout: limit(opts, "timeout")?,
            connect_timeout: limit(opts, "connect_timeout")?,
            ca_cert: opts.str("ca_cert")?.map(str::to_owned),
            client_cert: opts.str("client_cert")?.map(str::to_owned),
            client_key: opts.str("client_key")?.map(str::to_owned),
            insecure: opts.bool("insecure")?.unwrap_or(false),
            max_redirects,
            proxy,
            max_body: max_body(opts)?,
            cookies: opts.bool("cookies")?.unwrap_or(false),
        })
    }
}

/// A value for a message: strings quoted, numbers as Lua shows them, tables by type.
pub(crate) fn describe(v: &Value) -> String {
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

/// `timeout` or `connect_timeout`: seconds (a positive finite number), or `false` for none.
pub(crate) fn limit(opts: &Options<'_>, key: &str) -> Result<Limit> {
    let secs = match opts.get(key) {
        None => return Ok(Limit::Unset),
        Some(Value::Bool(false)) => return Ok(Limit::Off),
        Some(v) => v.as_float().ok_or_else(|| {
            opts.invalid(
                key,
                format!(
                    "a number of seconds or false expected, got {}",
                    match v {
                        Value::Bool(true) => "true".to_owned(),
                        other => other.type_name().to_owned(),
                    }
                ),
            )
        })?,
    };
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if secs > 0.0 => Ok(Limit::After(d)),
        _ => Err(opts.invalid(
            key,
            format!("a positive number of seconds expected, got {secs}"),
        )),
    }
}

/// `max_body`: a byte count, at least 0.
pub(crate) fn max_body(opts: &Options<'_>) -> Result<Option<u64>> {
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
pub(crate) fn scalar_texts(value: &Value, bad: impl Fn(&Value) -> Error) -> Result<Vec<Vec<u8>>> {
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
pub(crate) fn scalar_text(v: &Value) -> Option<Vec<u8>> {
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

/// `query = {k = v}` (or `form = {...}`, the option `key`) as `k=v&...`, keys sorted (the
/// same table gives the same URL); a list value repeats the key (`{tag = {"a", "b"}}` is
/// `tag=a&tag=b`). `None` when the option is absent.
pub(crate) fn encoded_pairs(opts: &Options<'_>, key: &str) -> Result<Option<String>> {
    let Some(map) = opts.map(key)? else {
        return Ok(None);
    };
    let option = key;
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (key, value) in map.iter() {
        let key_text = match key {
            Value::Str(_) | Value::Int(_) => scalar_text(key),
            _ => None,
        }
        .ok_or_else(|| {
            opts.invalid(
                option,
                format!("keys are strings, got a {}", key.type_name()),
            )
        })?;
        let texts = scalar_texts(value, |item| {
            opts.invalid(
                option,
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
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::call_options::RequestSpec;
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
    fn timeouts_default_and_turn_off() {
        let read = |pairs: Vec<(&str, Value)>| {
            let args = opts_of(pairs);
            RequestSpec::read(&args.options(1, "opts").expect("opts"), false).map(|s| s.timeout)
        };
        assert_eq!(read(vec![]).ok(), Some(Limit::Unset));
        assert_eq!(
            read(vec![("timeout", Value::Bool(false))]).ok(),
            Some(Limit::Off)
        );
        assert_eq!(
            read(vec![("timeout", Value::Float(0.5))]).ok(),
            Some(Limit::After(Duration::from_millis(500)))
        );
        let err = read(vec![("timeout", Value::Bool(true))]).expect_err("true is not a limit");
        assert!(
            err.message()
                .contains("field 'timeout': a number of seconds or false expected, got true"),
            "{err}"
        );
        // Neither the call nor the client gave one: the default applies; false turns it off.
        let total = |call: Limit, client: Limit| total_timeout(call, client).0;
        assert_eq!(
            total_timeout(Limit::Unset, Limit::Unset),
            (Some(DEFAULT_TIMEOUT), true)
        );
        assert_eq!(total(Limit::Unset, Limit::Off), None);
        let five = Limit::After(Duration::from_secs(5));
        assert_eq!(total(five, Limit::Off), Some(Duration::from_secs(5)));
        assert_eq!(total(Limit::Off, five), None);
        assert_eq!(total(Limit::Unset, five), Some(Duration::from_secs(5)));
        assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(60));
        let client = ClientSpec::default();
        assert_eq!(
            client.connect_timeout.resolve(DEFAULT_CONNECT_TIMEOUT),
            Some(Duration::from_secs(30))
        );
        assert_eq!(client.timeout, Limit::Unset);
    }

    #[test]
    fn max_body_follows_the_memory_limit() {
        const MIB: u64 = 1 << 20;
        let default = BodyLimit::new(None, None);
        assert_eq!((default.bytes, default.by), (64 * MIB, BodyBound::Default));
        let small_vm = BodyLimit::new(None, Some(16 * MIB));
        assert_eq!(
            (small_vm.bytes, small_vm.by),
            (16 * MIB, BodyBound::MemoryLimit)
        );
        assert_eq!(
            small_vm.describe(),
            "the script's memory limit of 16 MiB (raise --memory-limit)"
        );
        let clamped = BodyLimit::new(Some(10_000_000_000), Some(16 * MIB));
        assert_eq!(clamped.bytes, 16 * MIB);
        let given = BodyLimit::new(Some(9), Some(16 * MIB));
        assert_eq!((given.bytes, given.by), (9, BodyBound::Option));
        assert_eq!(given.describe(), "max_body (9 bytes)");
        let big_vm = BodyLimit::new(None, Some(1 << 30));
        assert_eq!(big_vm.bytes, 64 * MIB);
        assert_eq!(BodyLimit::new(Some(1 << 40), None).bytes, 1 << 40);
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
