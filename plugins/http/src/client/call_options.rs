//! The per-request `opts` table: `headers`, `query`, `timeout`, `max_body`, `body`, and the
//! options that shape a request's body and its response: `auth`, `form`, `multipart`,
//! `output`, `stream`, `decompress`.
//!
//! Everything is checked here, on the Lua thread, naming the option: unknown keys, wrong
//! types, a multipart file that is not a readable regular file, options that exclude each
//! other (`stream` with `output`; more than one of `body`, `form` and `multipart`). Paths are
//! refused in the sandbox, where a script may read or write no file.

use std::path::PathBuf;

use assay_sdk::{Map, Options, Result, Value};
use reqwest::header::{AUTHORIZATION, HeaderMap};

use super::options::{Limit, encoded_pairs, headers, limit, max_body};

/// Every option a call takes (`body` only where it is not an argument).
const CALL_OPTIONS: &[&str] = &[
    "headers",
    "query",
    "timeout",
    "max_body",
    "auth",
    "form",
    "multipart",
    "output",
    "stream",
    "decompress",
];

/// The per-request options.
pub(crate) struct RequestSpec {
    pub headers: HeaderMap,
    /// `k=v&k=v`, percent-encoded, or empty.
    pub query: String,
    pub timeout: Limit,
    pub max_body: Option<u64>,
    pub auth: Option<Auth>,
    /// `form`, encoded as `application/x-www-form-urlencoded`.
    pub form: Option<String>,
    pub multipart: Option<Vec<PartSpec>>,
    pub delivery: Delivery,
    /// `decompress` (default true): gzip, br, deflate and zstd bodies decoded.
    pub decompress: bool,
}

/// Where the response body goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Read whole into `resp.body` (the default).
    Buffered,
    /// `output = path`: streamed to that file.
    File(PathBuf),
    /// `stream = true`: read by the script with `resp:read()` and `resp:lines()`.
    Stream,
}

/// `auth`: HTTP Basic (RFC 7617) or a bearer token (RFC 6750).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    Basic { user: String, password: String },
    Bearer(String),
}

/// One item of `multipart`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PartSpec {
    pub name: String,
    pub content: PartContent,
    /// The file name sent (a file's own name unless given; none for a value).
    pub filename: Option<String>,
    /// The part's content type (a file's is guessed from its name unless given).
    pub content_type: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PartContent {
    Value(Vec<u8>),
    /// A regular file, streamed from disk when the request is sent.
    File(PathBuf),
}

impl PartSpec {
    /// The bytes this part holds in memory (a file's are read as they are sent).
    pub(crate) fn held_bytes(&self) -> usize {
        match &self.content {
            PartContent::Value(bytes) => bytes.len(),
            PartContent::File(_) => 0,
        }
    }
}

impl RequestSpec {
    /// Reads `opts`; `with_body` says whether `body` is one of its options (it is for `get`,
    /// `delete` and `request`; `post`, `put` and `patch` take the body as an argument).
    pub(crate) fn read(opts: &Options<'_>, with_body: bool) -> Result<Self> {
        if with_body {
            let mut known = CALL_OPTIONS.to_vec();
            known.insert(3, "body");
            opts.only(&known)?;
        } else {
            opts.only(CALL_OPTIONS)?;
        }
        let sandboxed = assay_sdk::host::sandboxed();
        let headers = headers(opts)?;
        let auth = auth(opts)?;
        if auth.is_some() && headers.contains_key(AUTHORIZATION) {
            return Err(opts.invalid(
                "auth",
                "given with an authorization header; pass one or the other",
            ));
        }
        let output = match opts.str("output")? {
            None => None,
            Some("") => return Err(opts.invalid("output", "an empty path")),
            Some(_) if sandboxed => {
                return Err(opts.invalid("output", "writing files is not available in sandbox"));
            }
            Some(path) => Some(PathBuf::from(path)),
        };
        let stream = opts.bool("stream")?.unwrap_or(false);
        let delivery = match (output, stream) {
            (Some(_), true) => {
                return Err(opts.invalid("stream", "cannot be used with output; choose one"));
            }
            (Some(path), false) => Delivery::File(path),
            (None, true) => Delivery::Stream,
            (None, false) => Delivery::Buffered,
        };
        let form = encoded_pairs(opts, "form")?;
        let multipart = multipart(opts, sandboxed)?;
        if form.is_some() && multipart.is_some() {
            return Err(opts.invalid("multipart", "cannot be used with form; choose one"));
        }
        Ok(Self {
            headers,
            query: encoded_pairs(opts, "query")?.unwrap_or_default(),
            timeout: limit(opts, "timeout")?,
            max_body: max_body(opts)?,
            auth,
            form,
            multipart,
            delivery,
            decompress: opts.bool("decompress")?.unwrap_or(true),
        })
    }

    /// The option that gives the body besides `body`, if any (they exclude each other).
    pub(crate) fn body_option(&self) -> Option<&'static str> {
        if self.form.is_some() {
            Some("form")
        } else if self.multipart.is_some() {
            Some("multipart")
        } else {
            None
        }
    }
}

/// `auth = {user, password}` (or `{user = ..., password = ...}`) or `{bearer = token}`.
fn auth(opts: &Options<'_>) -> Result<Option<Auth>> {
    const EXPECTED: &str = "{user, password} or {bearer = token} expected";
    let text = |value: Option<&Value>, what: &str| -> Result<String> {
        match value {
            Some(Value::Str(bytes)) => bytes
                .to_str()
                .map(str::to_owned)
                .ok_or_else(|| opts.invalid("auth", format!("the {what} is not valid UTF-8"))),
            Some(other) => Err(opts.invalid(
                "auth",
                format!("the {what} must be a string, got {}", other.type_name()),
            )),
            None => Err(opts.invalid("auth", format!("the {what} is missing; {EXPECTED}"))),
        }
    };
    let (user, password) = match opts.get("auth") {
        None => return Ok(None),
        Some(Value::Array(list)) if list.len() == 2 => (
            text(list.iter().next(), "user")?,
            text(list.iter().nth(1), "password")?,
        ),
        Some(Value::Map(map)) => {
            for (key, _) in map.iter() {
                if !matches!(key.as_str(), Some("user" | "password" | "bearer")) {
                    return Err(opts.invalid(
                        "auth",
                        format!("unknown key {}; {EXPECTED}", super::options::describe(key)),
                    ));
                }
            }
            if map.get("bearer").is_some() {
                if map.len() > 1 {
                    return Err(opts.invalid("auth", "bearer is given alone"));
                }
                let token = text(map.get("bearer"), "bearer token")?;
                if token.is_empty() || token.bytes().any(|b| b.is_ascii_control()) {
                    return Err(opts.invalid(
                        "auth",
                        "the bearer token is empty or has a control character",
                    ));
                }
                return Ok(Some(Auth::Bearer(token)));
            }
            (
                text(map.get("user"), "user")?,
                text(map.get("password"), "password")?,
            )
        }
        Some(other) => {
            return Err(opts.invalid(
                "auth",
                format!("{EXPECTED}, got {}", super::options::describe(other)),
            ));
        }
    };
    // RFC 7617: the user-id cannot contain a colon (the server splits at the first one).
    if user.contains(':') {
        return Err(opts.invalid("auth", "the user cannot contain ':'"));
    }
    Ok(Some(Auth::Basic { user, password }))
}

/// `multipart = { {name = , value = } | {name = , file = , filename = , content_type = } }`.
fn multipart(opts: &Options<'_>, sandboxed: bool) -> Result<Option<Vec<PartSpec>>> {
    let Some(value) = opts.get("multipart") else {
        return Ok(None);
    };
    let Some(items) = value.as_list() else {
        return Err(opts.invalid(
            "multipart",
            format!("a list of parts expected, got {}", value.type_name()),
        ));
    };
    let mut parts = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let bad = |why: String| opts.invalid("multipart", format!("part {}: {why}", index + 1));
        let Some(map) = item.as_map() else {
            return Err(bad(format!(
                "a table {{name = ..., value = ...}} or {{name = ..., file = ...}} expected, got {}",
                item.type_name()
            )));
        };
        parts.push(part(map, sandboxed).map_err(bad)?);
    }
    Ok(Some(parts))
}

fn part(map: &Map, sandboxed: bool) -> std::result::Result<PartSpec, String> {
    const KEYS: [&str; 5] = ["name", "value", "file", "filename", "content_type"];
    for (key, _) in map.iter() {
        if !key.as_str().is_some_and(|k| KEYS.contains(&k)) {
            return Err(format!(
                "unknown key {}; expected {}",
                super::options::describe(key),
                KEYS.join(", ")
            ));
        }
    }
    let text = |key: &str| -> std::result::Result<Option<String>, String> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::Str(bytes)) => bytes
                .to_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| format!("'{key}' is not valid UTF-8")),
            Some(other) => Err(format!(
                "'{key}' must be a string, got {}",
                other.type_name()
            )),
        }
    };
    let name = text("name")?.ok_or("'name' is missing")?;
    let content = match (map.get("value"), text("file")?) {
        (Some(_), Some(_)) => return Err("give 'value' or 'file', not both".to_owned()),
        (None, None) => return Err("'value' or 'file' is missing".to_owned()),
        (Some(value), None) => match value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) => PartContent::Value(
                super::options::scalar_text(value)
                    .ok_or_else(|| "'value' must be a finite number".to_owned())?,
            ),
            other => {
                return Err(format!(
                    "'value' must be a string or a number, got {}",
                    other.type_name()
                ));
            }
        },
        (None, Some(_)) if sandboxed => {
            return Err("reading files is not available in sandbox".to_owned());
        }
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            check_readable(&path)?;
            PartContent::File(path)
        }
    };
    let filename = match (text("filename")?, &content) {
        (Some(given), _) => Some(given),
        (None, PartContent::File(path)) => path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned()),
        (None, PartContent::Value(_)) => None,
    };
    let content_type = text("content_type")?;
    if let Some(ct) = &content_type
        && ct.parse::<mime_type::Check>().is_err()
    {
        return Err(format!("'content_type' '{ct}' is not a media type"));
    }
    Ok(PartSpec {
        name,
        content,
        filename,
        content_type,
    })
}

/// A path a part streams from: a regular file that can be opened now (a FIFO would block the
/// upload, a device never end). Checked without blocking (a FIFO is refused by name, not
/// waited on), and again when the request is sent.
fn check_readable(path: &std::path::Path) -> std::result::Result<(), String> {
    assay_sdk::files::open_regular(path)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A media type as a multipart part's `Content-Type` accepts it: `type/subtype` and
/// parameters, with no control characters.
mod mime_type {
    pub(super) struct Check;

    impl std::str::FromStr for Check {
        type Err = ();

        fn from_str(text: &str) -> Result<Self, ()> {
            let essence = text.split(';').next().unwrap_or("").trim();
            let valid = essence.split_once('/').is_some_and(|(kind, sub)| {
                !kind.is_empty() && !sub.is_empty() && !sub.contains('/')
            }) && !text.bytes().any(|b| b.is_ascii_control());
            if valid { Ok(Check) } else { Err(()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_sdk::{Args, List, Map};

    fn read(pairs: Vec<(&str, Value)>) -> Result<RequestSpec> {
        let args = Args::from_vec(vec![Value::Map(pairs.into_iter().collect::<Map>())]);
        let opts = args.options(1, "opts")?;
        RequestSpec::read(&opts, true)
    }

    fn message(pairs: Vec<(&str, Value)>) -> String {
        match read(pairs) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.into_message(),
        }
    }

    fn list(items: Vec<Value>) -> Value {
        Value::Array(List::from(items))
    }

    fn map(pairs: Vec<(&str, Value)>) -> Value {
        Value::Map(pairs.into_iter().collect::<Map>())
    }

    #[test]
    fn auth_forms() {
        let basic = read(vec![("auth", list(vec!["u".into(), "p w".into()]))]).expect("basic");
        assert_eq!(
            basic.auth,
            Some(Auth::Basic {
                user: "u".into(),
                password: "p w".into()
            })
        );
        let named = read(vec![(
            "auth",
            map(vec![("user", "u".into()), ("password", "".into())]),
        )])
        .expect("named");
        assert!(matches!(named.auth, Some(Auth::Basic { .. })));
        let bearer = read(vec![("auth", map(vec![("bearer", "t0k".into())]))]).expect("bearer");
        assert_eq!(bearer.auth, Some(Auth::Bearer("t0k".into())));
        assert!(
            message(vec![("auth", "x".into())])
                .contains("field 'auth': {user, password} or {bearer = token} expected, got 'x'")
        );
        assert!(
            message(vec![("auth", list(vec!["u".into(), Value::Int(1)]))])
                .contains("field 'auth': the password must be a string, got number")
        );
        assert!(
            message(vec![("auth", map(vec![("token", "x".into())]))])
                .contains("field 'auth': unknown key 'token'")
        );
        assert!(
            message(vec![("auth", list(vec!["a:b".into(), "p".into()]))])
                .contains("the user cannot contain ':'")
        );
        assert!(
            message(vec![
                ("auth", map(vec![("bearer", "t".into())])),
                ("headers", map(vec![("Authorization", "x".into())])),
            ])
            .contains("given with an authorization header")
        );
    }

    #[test]
    fn delivery_and_exclusions() {
        assert_eq!(read(vec![]).expect("none").delivery, Delivery::Buffered);
        assert_eq!(
            read(vec![("stream", Value::Bool(true))])
                .expect("stream")
                .delivery,
            Delivery::Stream
        );
        assert_eq!(
            read(vec![("output", "/tmp/x".into())])
                .expect("output")
                .delivery,
            Delivery::File("/tmp/x".into())
        );
        assert!(
            message(vec![
                ("output", "/tmp/x".into()),
                ("stream", Value::Bool(true))
            ])
            .contains("field 'stream': cannot be used with output")
        );
        assert!(
            message(vec![("stream", "yes".into())])
                .contains("field 'stream': boolean expected, got string")
        );
        assert!(
            message(vec![("decompress", Value::Int(0))])
                .contains("field 'decompress': boolean expected, got number")
        );
        assert!(
            message(vec![("output", Value::Int(1))])
                .contains("field 'output': string expected, got number")
        );
        assert!(
            message(vec![
                ("form", map(vec![("a", "1".into())])),
                (
                    "multipart",
                    list(vec![map(vec![("name", "a".into()), ("value", "1".into())])])
                ),
            ])
            .contains("field 'multipart': cannot be used with form")
        );
    }

    #[test]
    fn form_is_urlencoded_and_repeats_list_keys() {
        let spec = read(vec![(
            "form",
            map(vec![
                ("name", "a b&c".into()),
                ("tag", list(vec!["x".into(), "y".into()])),
            ]),
        )])
        .expect("form");
        assert_eq!(spec.form.as_deref(), Some("name=a%20b%26c&tag=x&tag=y"));
        assert!(
            message(vec![("form", "a=1".into())])
                .contains("field 'form': table expected, got string")
        );
    }

    #[test]
    fn multipart_parts_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("report.csv");
        std::fs::write(&file, "a,b\n").expect("write");
        let spec = read(vec![(
            "multipart",
            list(vec![
                map(vec![("name", "title".into()), ("value", "hi".into())]),
                map(vec![
                    ("name", "doc".into()),
                    ("file", file.display().to_string().into()),
                ]),
            ]),
        )])
        .expect("multipart");
        let parts = spec.multipart.expect("parts");
        assert_eq!(parts[0].content, PartContent::Value(b"hi".to_vec()));
        assert_eq!(parts[1].filename.as_deref(), Some("report.csv"));
        let bad = |item: Value| message(vec![("multipart", list(vec![item]))]);
        assert!(bad(map(vec![("value", "x".into())])).contains("part 1: 'name' is missing"));
        assert!(bad(map(vec![("name", "a".into())])).contains("'value' or 'file' is missing"));
        assert!(
            bad(map(vec![("name", "a".into()), ("value", map(vec![]))]))
                .contains("'value' must be a string or a number, got table")
        );
        assert!(
            bad(map(vec![
                ("name", "a".into()),
                ("file", "/nonexistent/x".into())
            ]))
            .contains("cannot read /nonexistent/x: No such file")
        );
        assert!(
            bad(map(vec![
                ("name", "a".into()),
                ("file", "/dev/null".into())
            ]))
            .contains("cannot read /dev/null: it is a character device, not a regular file")
        );
        assert!(
            bad(map(vec![
                ("name", "a".into()),
                ("value", "1".into()),
                ("filname", "x".into())
            ]))
            .contains("unknown key 'filname'")
        );
        assert!(
            bad(map(vec![
                ("name", "a".into()),
                ("value", "1".into()),
                ("content_type", "json".into())
            ]))
            .contains("'content_type' 'json' is not a media type")
        );
        assert!(
            message(vec![("multipart", "x".into())])
                .contains("field 'multipart': a list of parts expected, got string")
        );
    }
}
