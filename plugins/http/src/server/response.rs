//! What a handler returns, turned into an HTTP response.
//!
//! - a string: 200, `text/plain; charset=utf-8`;
//! - `{status, headers, body}` or `{status, json}` (status defaults to 200; `json` is encoded
//!   with `content-type: application/json` unless the handler set one);
//! - `{status, headers, stream = function(body) ... end}`: the head is sent at once, then the
//!   function writes the body piece by piece with `body:write(chunk)` while the client reads
//!   it, sent chunked (a watch, followed logs, server-sent events, a generated download).
//!   `write` waits while the client is behind (a bounded queue: memory does not grow with a
//!   client that stops reading) and raises `http.server: the client closed the connection`
//!   once it has gone, `http.server: the server is stopping` once the server stops (the body
//!   then ends cleanly at once). The function returning ends the body; raising aborts it (the
//!   client sees a truncated transfer) and logs `stream raised an error`. The server's
//!   `timeout` bounds the handler, not the stream. `stream` with `body` or `json`, with a
//!   `content-length`, or with 204/205/304 (which have no body) is the handler's bug; a HEAD
//!   request gets the head and the function is not called. Details in `stream.rs`;
//! - `{websocket = function(conn) ... end, protocols = {...}}`: the connection is upgraded
//!   (`protocols`: subprotocols accepted, the first one the client offers is chosen);
//! - nothing (`nil`): 204 No Content, the honest answer to a handler that produced no body.
//!
//! A header's value is a string, a number, or a list of them for a header sent several times
//! (`["set-cookie"] = {"a=1", "b=2"}`): cookies cannot be joined into one line.
//!
//! Anything else is the handler's bug: 500 and a log line saying what came back.
//!
//! Framing is the server's, not the handler's: a header that says where a response ends, or
//! what happens to the connection, would otherwise desynchronize a kept-alive connection (a
//! wrong length puts the body at the start of the next response, or swallows it). So:
//!
//! - `content-length` equal to the body's length is accepted (the server writes its own);
//!   any other value, or two different ones, is the handler's bug (500 and a log line saying
//!   so: a wrong length is a bug to find, not a number to fix silently). A length with no body
//!   is what a HEAD answer may declare (the GET body's length, not produced): it is sent for
//!   HEAD requests and a bug for any other method (see [`declared_length`]).
//! - `transfer-encoding: chunked` is dropped (the server chunks when it must); any other
//!   transfer coding is refused with 500, since the body is sent as given (compressed bodies
//!   are `content-encoding`).
//! - `connection: close` is kept: the connection closes after this response, as in Node and
//!   Go. Other `connection` values and the other hop-by-hop headers (`keep-alive`, `upgrade`,
//!   `te`, `trailer`, `proxy-connection`) are dropped silently: they describe a connection the
//!   handler does not own, and a proxying handler copies them from its upstream response.
//!   Upgrades are `{websocket = fn}`.
//! - 204 and 304 are sent without a body and without `content-length`, 205 without a body
//!   (RFC 9110 8.6, 15.3.6); the body given with them is dropped.
//! - 1xx statuses (101 included) are interim responses the server sends itself: a handler
//!   returning one gets 500 and a log line.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use assay_sdk::{Callback, Map, Value};
use axum::body::{Body, HttpBody};
use axum::http::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE,
};
use axum::http::{Response, StatusCode};
use hyper::body::{Bytes, Frame, SizeHint};

use crate::json;

pub type HttpResponse = Response<Body>;

/// A handler's answer.
pub enum Reply {
    Response(HttpResponse),
    WebSocket {
        function: Callback,
        protocols: Vec<String>,
    },
    /// `{stream = function}`: the head, to be given the function's body (`stream::respond`).
    Stream {
        head: HttpResponse,
        function: Callback,
    },
}

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Interprets a handler's first return value; `Err` says why it is not a response.
pub fn from_value(value: Value) -> Result<Reply, String> {
    from_value_keeping(value, None)
}

/// A streamed body (a static file, a `stream` function's) and the length it was announced
/// with, kept for the response `after` describes without a body of its own.
pub struct Kept {
    pub body: Body,
    pub length: Option<u64>,
    /// A `stream` function's body: no length, and no place in a response without a body.
    pub by_function: bool,
}

impl Kept {
    /// The body of `parts`' response, announced with its `content-length`.
    pub fn new(parts: &axum::http::response::Parts, body: Body, by_function: bool) -> Self {
        let length = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Kept {
            body,
            length,
            by_function,
        }
    }

    fn len(&self) -> Option<u64> {
        self.body.size_hint().exact().or(self.length)
    }
}

/// [`from_value`], where a table without `body` or `json` keeps `kept`, the body of the
/// response it describes (a static file `after` did not replace).
pub fn from_value_keeping(value: Value, kept: Option<Kept>) -> Result<Reply, String> {
    match value {
        Value::Str(body) => Ok(Reply::Response(text(StatusCode::OK, body.into_vec()))),
        Value::Nil => Ok(Reply::Response(empty(StatusCode::NO_CONTENT))),
        Value::Map(map) => from_map(map, kept),
        other => Err(format!(
            "a response must be a string or a table, not a {}",
            other.type_name()
        )),
    }
}

/// A response as `after` sees it: `{status, headers, body}`, header names in lower case, a
/// header sent more than once as the list of its values; `body` absent when not given.
pub fn to_value(parts: &axum::http::response::Parts, body: Option<&[u8]>) -> Value {
    let mut headers = Map::with_capacity(parts.headers.keys_len());
    for name in parts.headers.keys() {
        let mut values = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| Value::Str(v.as_bytes().into()));
        let first = values.next().unwrap_or(Value::Nil);
        let value = match values.next() {
            None => first,
            Some(second) => {
                let mut list = vec![first, second];
                list.extend(values);
                Value::from(list)
            }
        };
        headers.push(name.as_str().into(), value);
    }
    let mut table = Map::with_capacity(3);
    table.push(
        "status".into(),
        Value::Int(i64::from(parts.status.as_u16())),
    );
    table.push("headers".into(), Value::Map(headers));
    if let Some(body) = body {
        table.push("body".into(), Value::Str(body.into()));
    }
    Value::Map(table)
}

fn from_map(map: Map, kept: Option<Kept>) -> Result<Reply, String> {
    if let Some(ws) = map.get("websocket") {
        let Value::Function(function) = ws else {
            return Err(format!(
                "'websocket' must be a function, not a {}",
                ws.type_name()
            ));
        };
        let protocols = match map.get("protocols") {
            None => Vec::new(),
            Some(Value::Str(p)) => vec![String::from_utf8_lossy(p.as_slice()).into_owned()],
            Some(Value::Array(list)) => list
                .iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or("'protocols' must be a list of strings")?,
            Some(other) => {
                return Err(format!(
                    "'protocols' must be a list of strings, not a {}",
                    other.type_name()
                ));
            }
        };
        return Ok(Reply::WebSocket {
            function: function.clone(),
            protocols,
        });
    }
    let status = match map.get("status") {
        None => StatusCode::OK,
        Some(v) => v
            .as_int()
            .and_then(|n| u16::try_from(n).ok())
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or_else(|| format!("'status' must be an HTTP status code (100-999), got {v:?}"))?,
    };
    if status.is_informational() {
        return Err(format!(
            "status {} is not a response a handler can give: 1xx responses are interim, sent \
             by the server itself (for a WebSocket, return {{websocket = fn}})",
            status.as_u16()
        ));
    }
    let stream = match map.get("stream") {
        None => None,
        Some(Value::Function(function)) => Some(function.clone()),
        Some(other) => {
            return Err(format!(
                "'stream' must be a function(body), not a {}",
                other.type_name()
            ));
        }
    };
    if stream.is_some() && (map.get("json").is_some() || map.get("body").is_some()) {
        return Err("give 'stream' or 'body'/'json', not both".into());
    }
    let (body, default_type) = match (map.get("json"), map.get("body")) {
        (Some(_), Some(_)) => return Err("give 'json' or 'body', not both".into()),
        (Some(value), None) => (
            json::encode(value).map_err(|e| format!("'json': {e}"))?,
            Some(JSON),
        ),
        (None, Some(Value::Str(bytes))) => (bytes.as_slice().to_vec(), None),
        (None, Some(other)) => {
            return Err(format!(
                "'body' must be a string, not a {} (use 'json' for tables)",
                other.type_name()
            ));
        }
        (None, None) => (Vec::new(), None),
    };
    // The kept body stands for the missing one: its size is what a length must match.
    let kept =
        kept.filter(|_| map.get("json").is_none() && map.get("body").is_none() && stream.is_none());
    let streamed = stream.is_some() || kept.as_ref().is_some_and(|k| k.by_function);
    if streamed && matches!(status.as_u16(), 204 | 205 | 304) {
        return Err(format!(
            "status {} has no body, so no 'stream' (leave 'stream' out)",
            status.as_u16()
        ));
    }
    let body_len = match &kept {
        Some(kept) => kept.len(),
        None => Some(body.len() as u64),
    };
    let mut response = Response::new(Body::empty());
    let mut framing = Framing::default();
    if let Some(headers) = map.get("headers") {
        let Value::Map(headers) = headers else {
            return Err(format!(
                "'headers' must be a table, not a {}",
                headers.type_name()
            ));
        };
        for (name, value) in headers.iter() {
            let values = match value {
                Value::Array(list) => list.as_slice(),
                one => std::slice::from_ref(one),
            };
            for value in values {
                let (name, value) = header(name, value)?;
                if framing.take(&name, &value)? {
                    response.headers_mut().append(name, value);
                }
            }
        }
    }
    if streamed && let Some(length) = framing.length {
        return Err(format!(
            "content-length {length} with 'stream' (leave content-length out: a streamed \
             body is sent chunked, its length unknown until it ends)"
        ));
    }
    if framing.close {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    *response.status_mut() = status;
    *response.body_mut() = match status {
        // No `content-length: 0` either, which axum would add for an empty body of known size.
        StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED => Body::new(NoBody),
        StatusCode::RESET_CONTENT => Body::empty(),
        _ => match (framing.length, body_len) {
            // A body of unknown length (streamed) is sent chunked, whatever was declared.
            (Some(length), Some(actual)) if length != actual => {
                if actual != 0 {
                    return Err(format!(
                        "content-length {length} but a body of {actual} bytes (leave \
                         content-length out: the server sets it)"
                    ));
                }
                response.extensions_mut().insert(Declared(length));
                Body::empty()
            }
            _ => match kept {
                Some(kept) => {
                    if let (None, Some(length)) = (kept.body.size_hint().exact(), body_len) {
                        // hyper cannot tell a file's length from its stream.
                        response
                            .headers_mut()
                            .insert(CONTENT_LENGTH, HeaderValue::from(length));
                    }
                    kept.body
                }
                None => Body::from(body),
            },
        },
    };
    if let Some(content_type) = default_type {
        response
            .headers_mut()
            .entry(CONTENT_TYPE)
            .or_insert(content_type);
    }
    if let Some(function) = stream {
        return Ok(Reply::Stream {
            head: response,
            function,
        });
    }
    Ok(Reply::Response(response))
}

/// The framing headers a handler gave (see the module docs).
#[derive(Default)]
struct Framing {
    length: Option<u64>,
    close: bool,
}

impl Framing {
    /// Notes a framing header; false when the header is the server's (not to be sent as is).
    fn take(&mut self, name: &HeaderName, value: &HeaderValue) -> Result<bool, String> {
        let text = || String::from_utf8_lossy(value.as_bytes()).into_owned();
        match *name {
            CONTENT_LENGTH => {
                let length = value
                    .to_str()
                    .ok()
                    .map(|v| v.trim_matches([' ', '\t']))
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| {
                        format!("'{}' is not a content-length (a number of bytes)", text())
                    })?;
                match self.length {
                    Some(first) if first != length => {
                        return Err(format!(
                            "two different content-length values, {first} and {length}"
                        ));
                    }
                    _ => self.length = Some(length),
                }
            }
            TRANSFER_ENCODING => {
                let chunked = text()
                    .split(',')
                    .all(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
                if !chunked {
                    return Err(format!(
                        "transfer-encoding '{}': the server frames the body itself and sends \
                         it as given (a compressed body is content-encoding)",
                        text()
                    ));
                }
            }
            CONNECTION => {
                self.close |= text()
                    .split(',')
                    .any(|option| option.trim().eq_ignore_ascii_case("close"));
            }
            TE | TRAILER | UPGRADE => {}
            _ if *name == "keep-alive" || *name == "proxy-connection" => {}
            _ => return Ok(true),
        }
        Ok(false)
    }
}

/// A length a handler declared without giving the body: the `content-length` of a HEAD
/// answer (see [`declared_length`]).
#[derive(Clone, Copy, Debug)]
pub struct Declared(pub u64);

/// Settles a length declared without a body, once the request's method is known: a HEAD
/// response sends it, any other is the handler's bug (its reason in `Err`).
pub fn declared_length(mut response: HttpResponse, head: bool) -> Result<HttpResponse, String> {
    let Some(Declared(length)) = response.extensions_mut().remove::<Declared>() else {
        return Ok(response);
    };
    if head {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
        return Ok(response);
    }
    Err(format!(
        "content-length {length} but a body of 0 bytes (only an answer to HEAD may declare \
         a length without its body)"
    ))
}

/// An empty body that announces no size, for 204 and 304: axum adds `content-length: 0` to
/// an empty body of known size, which hyper then sends in a 204 or 304 answering HEAD.
struct NoBody;

impl HttpBody for NoBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

fn header(name: &Value, value: &Value) -> Result<(HeaderName, HeaderValue), String> {
    let name_bytes = name.as_bytes().ok_or("header names must be strings")?;
    let name = HeaderName::from_bytes(name_bytes).map_err(|_| {
        format!(
            "'{}' is not a valid header name",
            String::from_utf8_lossy(name_bytes)
        )
    })?;
    let text = match value {
        Value::Str(b) => b.as_slice().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Float(f) => f.to_string().into_bytes(),
        other => {
            return Err(format!(
                "header '{name}' must be a string, a number or a list of them, not a {}",
                other.type_name()
            ));
        }
    };
    let value = HeaderValue::from_bytes(&text)
        .map_err(|_| format!("header '{name}' has a value with invalid characters"))?;
    Ok((name, value))
}

pub fn text(status: StatusCode, body: impl Into<Body>) -> HttpResponse {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, TEXT);
    response
}

/// A response without a body (and, for 204 and 304, without a length).
pub fn empty(status: StatusCode) -> HttpResponse {
    let body = match status {
        StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED => Body::new(NoBody),
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

/// A plain-text error page: the status's reason phrase.
pub fn error(status: StatusCode) -> HttpResponse {
    text(status, status.canonical_reason().unwrap_or("Error"))
}
