//! Middleware: `opts.before(req)` and `opts.after(req, resp)`.
//!
//! - `before(req)` runs before every request's handler, static file and 404; returning
//!   anything but nil answers the request with that (a route's handler does not run). Changes
//!   it makes to `req` in place (`req.user = ...`) are what the handler and `after` see.
//! - `after(req, resp)` runs for every HTTP response the server makes, the `req` as `before`
//!   left it: a handler's answer or `before`'s, and the server's own 404, 405, 413, 500 (a
//!   failed handler, named in the log) and 503 (timeout, memory), and static files. Not for a
//!   WebSocket once upgraded (101), nor for what the connection layer answers before any route
//!   is found (400 for a malformed request, a head that timed out), nor for a failed `after`.
//!   `resp` is the response as it will be sent: `{status, headers, body}` with the handler's
//!   shorthand settled (a string answer has its status and content type, a `json` answer its
//!   encoded body), header names in lower case, a repeated header as a list of its values.
//!   A static file's `resp.body` is nil (it is streamed from disk, never read into Lua), and so
//!   is a `stream` answer's (its function has not run yet); set a body to replace it (the
//!   stream function is then never called). `after` may change `resp` in place or return another response; what it
//!   leaves is checked as a handler's answer is (an invalid one is a 500 naming `after`).
//!
//! Values cross between Lua and the plugin as copies, so what a Lua function does to a table
//! in place is invisible here. A few lines of Lua glue run on the host's side
//! (`assay_sdk::host::lua_function`) hand the changed table back. With a host too old to run
//! glue, only returned values count.

use std::sync::Arc;

use assay_sdk::{Callback, Map, Result, Value};
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;

use super::app::{self, App, Failure, Stage};
use super::request::{self, Req};
use super::response::{self, HttpResponse, Kept, Reply};
use super::stream;

/// `before`, giving back the request it may have changed (every field in it).
const BEFORE_GLUE: &str = request::glue!(
    "return function(before, parts, req)\n\
     req = req or request(parts)\n\
     local answer = before(req)\n\
     return answer, settled(req)\n\
     end"
);

/// `after`, giving back the response it changed when it returned nothing.
const AFTER_GLUE: &str = request::glue!(
    "return function(after, resp, parts, req)\n\
     local answer = after(req or request(parts), resp)\n\
     if answer == nil then return resp end\n\
     return answer\n\
     end"
);

/// A middleware function and the glue that calls it.
pub struct Middleware {
    function: Callback,
    glue: Option<Callback>,
}

impl Middleware {
    /// To be made on the Lua thread, inside the `http.server` call (the host makes the glue).
    pub fn before(function: Callback) -> Result<Self> {
        Self::glued(function, "http.before", BEFORE_GLUE)
    }

    pub fn after(function: Callback) -> Result<Self> {
        Self::glued(function, "http.after", AFTER_GLUE)
    }

    fn glued(function: Callback, name: &str, source: &str) -> Result<Self> {
        let glue = assay_sdk::host::lua_function(name, source).transpose()?;
        Ok(Self { function, glue })
    }

    /// The callback to call and its arguments: `before(req)`, `after(req, resp)` (`resp` in
    /// `extra`).
    pub fn invocation(&self, req: &Req, extra: Option<Value>) -> (&Callback, Vec<Value>) {
        match &self.glue {
            Some(glue) => {
                let mut all = vec![Value::Function(self.function.clone())];
                all.extend(extra);
                // The glue's `parts, req`.
                match req {
                    Req::Parts(parts) => all.push(Value::Array(parts.clone())),
                    Req::Table(table) => all.extend([Value::Nil, table.clone()]),
                }
                (glue, all)
            }
            None => {
                let mut all = vec![req.to_table()];
                all.extend(extra);
                (&self.function, all)
            }
        }
    }

    /// `after`'s answer: what it returned, else `resp` as it left it (without glue, the
    /// `original` it was given).
    pub fn after_results(&self, results: Vec<Value>, original: Option<Value>) -> Value {
        match (results.into_iter().next(), original) {
            (None | Some(Value::Nil), Some(original)) => original,
            (answer, _) => answer.unwrap_or(Value::Nil),
        }
    }

    /// A copy of `resp` for [`Self::after_results`], needed only without glue.
    pub fn keep(&self, resp: &Value) -> Option<Value> {
        self.glue.is_none().then(|| resp.clone())
    }

    /// `before`'s answer (nil: go on) and the request as it left it.
    pub fn before_results(&self, results: Vec<Value>, req: Req) -> (Value, Req) {
        let mut results = results.into_iter();
        let answer = results.next().unwrap_or(Value::Nil);
        let changed = match (&self.glue, results.next()) {
            (Some(_), Some(changed @ Value::Map(_))) => Req::Table(changed),
            _ => req,
        };
        (answer, changed)
    }
}

/// The request a response answered, as `before` left it, and the route for log lines: put
/// in the response's extensions by the code that ran `before`, for `after`.
#[derive(Clone)]
pub struct Answered {
    pub req: Req,
    pub route: String,
}

/// Marks a response whose body is streamed, not held in memory: `after` gets no `resp.body`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Streamed {
    /// A static file (or a part of one), read from disk as it is sent.
    File,
    /// A handler's `stream` function (see `stream.rs`), not called until the body is sent.
    Function,
}

/// Runs `after` on every response of the router it wraps (see the module docs).
pub async fn after(app: Arc<App>, req: Request, next: Next) -> HttpResponse {
    let Some(after) = &app.after else {
        return next.run(req).await;
    };
    let (head, body) = req.into_parts();
    let mut response = next.run(Request::from_parts(head.clone(), body)).await;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        return response;
    }
    let answered = response.extensions_mut().remove::<Answered>();
    let (req, route) = match answered {
        Some(Answered { req, route }) => (req, route),
        None => (
            app::request(&app, &head, None, assay_sdk::Bytes::default()),
            "(no route)".to_owned(),
        ),
    };
    let streamed = response.extensions().get::<Streamed>().copied();
    let (parts, body) = response.into_parts();
    let (body, kept) = if let Some(streamed) = streamed {
        let by_function = streamed == Streamed::Function;
        (None, Some(Kept::new(&parts, body, by_function)))
    } else {
        // A body built in memory (a handler's, an error page): collecting it does not wait.
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => (Some(bytes), None),
            Err(e) => {
                let why = format!("the response body could not be read: {e}");
                return app::failed(Failure::Invalid(Stage::Handler, why), &head, &route);
            }
        }
    };
    let resp = response::to_value(&parts, body.as_deref());
    let length = parts
        .headers
        .get(CONTENT_LENGTH)
        .map(|v| v.as_bytes().to_vec());
    let original = after.keep(&resp);
    let (f, args) = after.invocation(&req, Some(resp));
    let answer = match app::call(&app, f, Stage::After, args).await {
        Ok(values) => after.after_results(values, original),
        Err(failure) => return app::failed(failure, &head, &route),
    };
    let answer = without_stale_length(answer, length.as_deref(), body.as_deref());
    let rebuilt = match response::from_value_keeping(answer, kept) {
        Ok(Reply::Response(response)) => response,
        Ok(Reply::Stream {
            head: response,
            function,
        }) => stream::respond(response, function, &app.shutdown, &head, &route),
        Ok(Reply::WebSocket { .. }) => {
            let why = "it cannot answer with a WebSocket".to_owned();
            return app::failed(Failure::Invalid(Stage::After, why), &head, &route);
        }
        Err(why) => return app::failed(Failure::Invalid(Stage::After, why), &head, &route),
    };
    response::declared_length(rebuilt, head.method == Method::HEAD)
        .unwrap_or_else(|why| app::failed(Failure::Invalid(Stage::After, why), &head, &route))
}

/// `answer` without the server's own `content-length` (`length`, as given to `after`) when
/// `after` changed the body it measured (`body`; `None` for a streamed one): the server
/// measures the new body itself, where a length `after` set is checked as a handler's is.
fn without_stale_length(answer: Value, length: Option<&[u8]>, body: Option<&[u8]>) -> Value {
    let (Value::Map(map), Some(length)) = (&answer, length) else {
        return answer;
    };
    let new_body = match (map.get("json"), map.get("body")) {
        (None, None) => return answer,
        (None, Some(Value::Str(new))) => Some(new.as_slice()),
        _ => None,
    };
    if new_body.is_some() && new_body == body {
        return answer;
    }
    let Some(Value::Map(headers)) = map.get("headers") else {
        return answer;
    };
    let stale = |name: &Value, value: &Value| {
        name.as_bytes()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"content-length"))
            && value.as_bytes() == Some(length)
    };
    if !headers.iter().any(|(n, v)| stale(n, v)) {
        return answer;
    }
    let headers: Map = headers
        .iter()
        .filter(|(n, v)| !stale(n, v))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let mut rebuilt = Map::with_capacity(map.len());
    for (key, value) in map.iter() {
        let value = match key.as_str() {
            Some("headers") => Value::Map(headers.clone()),
            _ => value.clone(),
        };
        rebuilt.push(key.clone(), value);
    }
    Value::Map(rebuilt)
}
