//! One request: its arguments read on the Lua thread ([`Call::read`]), then sent on the
//! plugin's runtime ([`Call::send`]).
//!
//! Bodies: a string is sent as it is (no content type is added: the bytes could be anything);
//! a table is encoded as JSON and sent with `content-type: application/json` unless the call or
//! the client sets a content type. `nil` sends no body. `form` sends its table as
//! `application/x-www-form-urlencoded` (a list value repeats the key, as `query` does), and
//! `multipart` its parts as `multipart/form-data`, files streamed from disk as they are sent
//! (a file's content type is guessed from its name, as curl's `-F` does, unless given). Only
//! one of a body, `form` and `multipart` may be given. A part's `name` and `filename` are
//! written as browsers write them (WHATWG HTML: `"` as `%22`, CR as `%0D`, LF as `%0A`, UTF-8
//! as it is), never in RFC 2231's `name*=` form, which RFC 7578 §4.2 rules out.
//!
//! `auth` sets the `authorization` header: Basic (user and password, UTF-8, as RFC 7617's
//! charset says) or Bearer; it may not be given with an `authorization` header of the call's.

use assay_sdk::{Args, Callback, Error, Result, Value};
use reqwest::Method;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::HttpClient;
use super::call_options::{Auth, Delivery, PartContent, PartSpec, RequestSpec};
use super::errors::{self, Context};
use super::options::{BodyLimit, absolute_url, total_timeout};
use super::stream::{ResponseStream, StreamContext};
use crate::budget::{Budget, Charge};

/// Which function was called: it decides where the arguments are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Delete,
    Post,
    Put,
    Patch,
    /// `request(method, url, opts)`
    Request,
}

impl Verb {
    pub(crate) const ALL: [(&'static str, Verb); 6] = [
        ("get", Verb::Get),
        ("delete", Verb::Delete),
        ("post", Verb::Post),
        ("put", Verb::Put),
        ("patch", Verb::Patch),
        ("request", Verb::Request),
    ];
}

/// A request's body, ready to send.
enum Body {
    None,
    Bytes(Vec<u8>),
    Json(Vec<u8>),
    Form(String),
    Multipart(Vec<PartSpec>),
}

impl Body {
    /// The bytes the body holds in memory until it is sent.
    fn len(&self) -> usize {
        match self {
            Body::None => 0,
            Body::Bytes(bytes) | Body::Json(bytes) => bytes.len(),
            Body::Form(text) => text.len(),
            Body::Multipart(parts) => parts.iter().map(PartSpec::held_bytes).sum(),
        }
    }
}

/// A request read from its arguments.
pub(crate) struct Call {
    method: Method,
    /// The URL argument as given (joined to the client's `base_url` when sent).
    target: String,
    /// The URL argument's position, for messages.
    url_pos: usize,
    body: Body,
    /// The body's bytes, charged to the bytes in flight until it has been sent.
    body_charge: Charge,
    spec: RequestSpec,
    /// The calling script's memory limit, read on the Lua thread (`None`: none known).
    budget: Budget,
    /// The `json` method the response gets (the host's decoder when it offers one).
    json: Callback,
}

impl Call {
    /// Reads the arguments of `verb`: `(url, opts)`, `(url, body, opts)` or
    /// `(method, url, opts)`.
    pub(crate) fn read(verb: Verb, args: &Args) -> Result<Self> {
        let (method, url_pos, body_pos, opts_pos) = match verb {
            Verb::Get => (Method::GET, 1, None, 2),
            Verb::Delete => (Method::DELETE, 1, None, 2),
            Verb::Post => (Method::POST, 1, Some(2), 3),
            Verb::Put => (Method::PUT, 1, Some(2), 3),
            Verb::Patch => (Method::PATCH, 1, Some(2), 3),
            Verb::Request => (method(args)?, 2, None, 3),
        };
        args.at_most(opts_pos, 0)?;
        let target = args.str(url_pos, "url")?.to_owned();
        let opts = args.options(opts_pos, "opts")?;
        let mut spec = RequestSpec::read(&opts, body_pos.is_none())?;
        let mut body = match body_pos {
            Some(pos) => body(args.get(pos)).map_err(|why| match why {
                BodyError::Type => args.bad(pos, "body", "string or table"),
                BodyError::Json(e) => args.invalid(pos, "body", e),
            })?,
            None => body(opts.get("body").unwrap_or(&Value::Nil)).map_err(|why| match why {
                BodyError::Type => opts.invalid("body", "string or table expected"),
                BodyError::Json(e) => opts.invalid("body", e),
            })?,
        };
        if let Some(option) = spec.body_option() {
            if !matches!(body, Body::None) {
                return Err(opts.invalid(
                    option,
                    "cannot be used with a body; give one of body, form and multipart",
                ));
            }
            body = match (spec.form.take(), spec.multipart.take()) {
                (Some(form), _) => Body::Form(form),
                (None, Some(parts)) => Body::Multipart(parts),
                (None, None) => Body::None,
            };
        }
        let budget = Budget::of_caller();
        let mut body_charge = Charge::new(budget);
        body_charge
            .grow_to(body.len() as u64)
            .map_err(|e| Error::new(format!("cannot send the request body: {e}")))?;
        Ok(Self {
            method,
            target,
            url_pos,
            body,
            body_charge,
            spec,
            budget,
            json: crate::json::body_method(),
        })
    }

    /// Sends the request with `client` and reads the response as `opts` asked: whole, to a
    /// file, or as a stream.
    pub(crate) async fn send(self, client: &HttpClient) -> Result<Value> {
        let url = self.url(client)?;
        let (timeout, default_timeout) = total_timeout(self.spec.timeout, client.timeout);
        let max_body = self.spec.max_body.or(client.max_body);
        let delivery = self.spec.delivery;
        let decompress = self.spec.decompress;
        let mut request = client.reqwest()?.request(self.method, url.clone());
        // The plugin decodes (see `decode`): it says which codings it takes, unless the call or
        // the client names its own.
        if decompress
            && !self.spec.headers.contains_key(ACCEPT_ENCODING)
            && !client.recipe.headers.contains_key(ACCEPT_ENCODING)
        {
            request = request.header(
                ACCEPT_ENCODING,
                HeaderValue::from_static(super::decode::ACCEPT_ENCODING),
            );
        }
        // A stream's limit is on each wait (see `stream`), not on the whole response.
        if let (Some(t), false) = (timeout, delivery == Delivery::Stream) {
            request = request.timeout(t);
        }
        let call_content_type = self.spec.headers.contains_key(CONTENT_TYPE);
        let has_content_type = call_content_type || client.has_content_type;
        request = request.headers(self.spec.headers);
        request = match self.spec.auth {
            Some(Auth::Basic { user, password }) => request.basic_auth(user, Some(password)),
            Some(Auth::Bearer(token)) => request.bearer_auth(token),
            None => request,
        };
        request = match self.body {
            Body::None => request,
            Body::Bytes(bytes) => request.body(bytes),
            Body::Json(bytes) if has_content_type => request.body(bytes),
            Body::Json(bytes) => request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes),
            // A client's default type is for its JSON bodies, not a form's.
            Body::Form(text) if call_content_type => request.body(text),
            Body::Form(text) => request
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(text),
            Body::Multipart(parts) => request.multipart(multipart_form(parts).await?),
        };
        let cx = Context {
            url: &url,
            timeout,
            default_timeout,
            connect_timeout: client.connect_timeout,
            max_redirects: client.max_redirects,
        };
        let stream_context = || StreamContext {
            url: url.clone(),
            timeout,
            default_timeout,
            connect_timeout: client.connect_timeout,
            max_redirects: client.max_redirects,
        };
        let (sent, followed) = super::redirects::tracking(async {
            match (delivery == Delivery::Stream, timeout) {
                (true, Some(limit)) => tokio::time::timeout(limit, request.send()).await.ok(),
                _ => Some(request.send().await),
            }
        })
        .await;
        let sent = sent.ok_or_else(|| {
            // After a redirect, the server that kept us waiting is the redirect's target.
            let at = followed.clone().unwrap_or_else(|| url.clone());
            StreamContext {
                url: at,
                ..stream_context()
            }
            .timed_out("the response headers")
        })?;
        let mut response = sent.map_err(|e| match &followed {
            // A redirect was followed: the failure is at its target (not for a redirect
            // error, which is about the chain as a whole).
            Some(at) if !e.is_redirect() => errors::describe(&e, &Context { url: at, ..cx }),
            _ => errors::describe(&e, &cx),
        })?;
        // reqwest keeps the body until the request is done (a 307 resends it): it is gone now.
        drop(self.body_charge);
        // The body comes from where the redirects led: its failures name that server.
        let url = response.url().clone();
        let cx = Context { url: &url, ..cx };
        let plan = super::decode::prepare(&mut response, decompress, &cx)?;
        match delivery {
            Delivery::Buffered => {
                let limit = BodyLimit::new(max_body, self.budget.limit());
                super::response::read(response, plan, limit, self.budget, self.json, &cx).await
            }
            Delivery::File(path) => {
                super::download::save(response, plan, &path, max_body, self.budget, &cx).await
            }
            Delivery::Stream => {
                let line_limit = BodyLimit::new(max_body, self.budget.limit());
                Ok(Value::Object(ResponseStream::open(
                    response,
                    plan,
                    StreamContext {
                        url: url.clone(),
                        ..stream_context()
                    },
                    line_limit,
                    self.budget,
                    self.json,
                )))
            }
        }
    }

    /// The URL to request: the argument when absolute, else joined to `base_url`; then the
    /// `query` option appended.
    fn url(&self, client: &HttpClient) -> Result<reqwest::Url> {
        let bad = |why: String| Error::new(format!("bad argument #{} 'url' ({why})", self.url_pos));
        let mut url = match &client.base_url {
            Some(base) if !has_scheme(&self.target) => join(base, &self.target).map_err(bad)?,
            _ => absolute_url(&self.target).map_err(|why| {
                if has_scheme(&self.target) || client.base_url.is_some() {
                    bad(why)
                } else {
                    bad(format!(
                        "'{}' is not an absolute URL (http://... or https://...; a relative \
                         path needs http.client{{base_url = ...}})",
                        self.target
                    ))
                }
            })?,
        };
        if !self.spec.query.is_empty() {
            let query = match url.query() {
                Some(existing) if !existing.is_empty() => {
                    format!("{existing}&{}", self.spec.query)
                }
                _ => self.spec.query.clone(),
            };
            url.set_query(Some(&query));
        }
        Ok(url)
    }
}

/// The `multipart/form-data` body of `parts`, its files opened now and streamed as the request
/// is sent (never read whole).
async fn multipart_form(parts: Vec<PartSpec>) -> Result<reqwest::multipart::Form> {
    // Names are escaped here (see [`form_data_escape`]), so reqwest writes them as they are:
    // its default would switch a name to RFC 2231's `name*=utf-8''...`, which RFC 7578 §4.2
    // forbids and servers misread.
    let mut form = reqwest::multipart::Form::new().percent_encode_noop();
    for spec in parts {
        let mut part = match spec.content {
            PartContent::Value(bytes) => reqwest::multipart::Part::bytes(bytes),
            PartContent::File(path) => {
                // Non-blocking open and a check on the descriptor: a path swapped for a FIFO
                // since the arguments were read is refused, not waited on.
                let (file, meta) = assay_sdk::files::open_regular(&path)
                    .map_err(|e| Error::new(format!("multipart: {e}")))?;
                let file = tokio::fs::File::from_std(file);
                let guessed = mime_guess::from_path(&path).first_or_octet_stream();
                reqwest::multipart::Part::stream_with_length(reqwest::Body::from(file), meta.len())
                    .mime_str(guessed.essence_str())
                    .map_err(|e| Error::new(format!("multipart: {e}")))?
            }
        };
        if let Some(name) = spec.filename {
            part = part.file_name(form_data_escape(&name));
        }
        if let Some(content_type) = spec.content_type {
            part = part.mime_str(&content_type).map_err(|e| {
                Error::new(format!("multipart: content_type '{content_type}': {e}"))
            })?;
        }
        form = form.part(form_data_escape(&spec.name), part);
    }
    Ok(form)
}

/// A part's `name` or `filename` as the WHATWG HTML standard writes it in a
/// `Content-Disposition` (what browsers, and Python's urllib3 in its default "html5" mode,
/// send): `"` as `%22`, CR as `%0D`, LF as `%0A`, everything else (UTF-8 included) as it is.
/// A raw CR or LF would end the header line and let a file name inject part headers.
fn form_data_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `target` starts with a URL scheme (`https:`, `http:`, `ftp:`, ...).
fn has_scheme(target: &str) -> bool {
    match target.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `base` + `path`, the way API clients (httpx, axios) join them: the path is appended to the
/// base's path, so `base_url = "https://vault:8200/v1"` and `"/sys/health"` give
/// `https://vault:8200/v1/sys/health` (plain RFC 3986 resolution would drop `/v1`). A path
/// starting with `?` only sets the query.
fn join(base: &reqwest::Url, path: &str) -> std::result::Result<reqwest::Url, String> {
    let base_text = base.as_str();
    let text = if path.is_empty() {
        base_text.to_owned()
    } else if path.starts_with('?') {
        let without_query = base_text.split(['?', '#']).next().unwrap_or(base_text);
        format!("{without_query}{path}")
    } else {
        let without_query = base_text.split(['?', '#']).next().unwrap_or(base_text);
        format!(
            "{}/{}",
            without_query.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    };
    absolute_url(&text).map_err(|why| format!("'{path}' joined to base_url: {why}"))
}

/// `request`'s method: any HTTP token, upper-cased as `fetch` does for the standard ones
/// (`"get"` is `GET`); we upper-case every method, since servers treat them case-sensitively
/// and a lower-case one is almost surely a slip.
fn method(args: &Args) -> Result<Method> {
    let name = args.str(1, "method")?;
    Method::from_bytes(name.to_ascii_uppercase().as_bytes())
        .map_err(|_| args.invalid(1, "method", format!("'{name}' is not an HTTP method")))
}

enum BodyError {
    Type,
    Json(String),
}

fn body(value: &Value) -> std::result::Result<Body, BodyError> {
    match value {
        Value::Nil => Ok(Body::None),
        Value::Str(bytes) => Ok(Body::Bytes(bytes.as_slice().to_vec())),
        Value::Map(_) | Value::Array(_) | Value::Null => crate::json::encode(value)
            .map(Body::Json)
            .map_err(|e| BodyError::Json(e.into_message())),
        _ => Err(BodyError::Type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(base: &str, path: &str) -> String {
        join(&absolute_url(base).expect("base"), path)
            .expect("joined")
            .to_string()
    }

    #[test]
    fn paths_are_appended_to_the_base_path() {
        assert_eq!(
            url("https://h/v1", "/sys/health"),
            "https://h/v1/sys/health"
        );
        assert_eq!(url("https://h/v1/", "sys"), "https://h/v1/sys");
        assert_eq!(url("https://h", "/x?a=1"), "https://h/x?a=1");
        assert_eq!(url("https://h/v1?k=1", "?a=2"), "https://h/v1?a=2");
        assert_eq!(url("https://h/v1", ""), "https://h/v1");
    }

    #[test]
    fn schemes_are_recognised() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("ftp://x"));
        assert!(!has_scheme("/a:b"));
        assert!(!has_scheme("path"));
        assert!(!has_scheme("1x:y"));
    }
}
