//! One request through a route: read the body, build `req`, run `before`, the handler and
//! `after` (each a coroutine on the Lua thread), turn the answer into a response.
//!
//! Middleware: `before(req)` runs for every request (routes, static folders, 404s) and
//! returning anything but nil short-circuits with that response;
//! `after(req, resp)` gets the response as a table (`{status, headers, body}`, whatever the
//! handler returned; not for WebSocket answers) and, when it returns a value, that value is sent instead. Lua tables are
//! copies on this side, so `after` must *return* a changed response; returning nothing keeps
//! the original (the common case: access logs, metrics).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use assay_sdk::{Bytes, Callback, Map, Value};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::IntoResponse;

use super::body;
use super::lifecycle::Shutdown;
use super::log;
use super::request;
use super::response::{self, HttpResponse, Reply};
use super::spin::Spin;
use super::websocket::Conn;

/// What every route of a server shares.
pub struct App {
    pub before: Option<Callback>,
    pub after: Option<Callback>,
    pub max_body: usize,
    pub max_message: usize,
    /// The script's memory limit: request bodies being read at once may not hold more.
    pub memory_limit: Option<u64>,
    /// `req.json` (see `options::ServerOptions::json`).
    pub json: Callback,
    pub timeout: Option<Duration>,
    /// Set once the server runs, on its runtime.
    pub spin: std::sync::OnceLock<Arc<Spin>>,
    /// Tells WebSocket connections (which outlive their HTTP request) the server is stopping.
    pub shutdown: Shutdown,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(spin) = self.spin.get() {
            spin.close();
        }
    }
}

/// A route's handler and the server it belongs to.
pub struct Route {
    pub app: Arc<App>,
    pub handler: Callback,
    /// `"GET /users/:id"`, for log lines.
    pub label: String,
}

/// Which Lua function a failure comes from.
#[derive(Clone, Copy)]
enum Stage {
    Before,
    Handler,
    After,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Before => "before",
            Stage::Handler => "handler",
            Stage::After => "after",
        }
    }
}

/// Why a handler produced no response.
enum Failure {
    /// The Lua function raised (message and traceback).
    Raised(Stage, String),
    /// It returned something that is not a response.
    Invalid(String),
    TimedOut(Duration),
}

pub async fn handle(route: Arc<Route>, req: Request) -> HttpResponse {
    let (mut parts, body) = req.into_parts();
    let (body, charge) = match body::read(body, route.app.max_body, route.app.memory_limit).await {
        Ok((bytes, charge)) => (Bytes::from(bytes), charge),
        Err(response) => return response,
    };
    let params = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .ok();
    let req = request::to_value(
        &parts,
        params.as_ref(),
        remote_addr(&parts),
        body,
        &route.app.json,
    );
    let reply = respond(&route, req).await;
    // The body went to Lua with `req` (or was dropped with it).
    drop(charge);
    match reply {
        Ok(Reply::Response(response)) => response,
        Ok(Reply::WebSocket {
            function,
            protocols,
        }) => upgrade(&route, parts, function, protocols).await,
        Err(failure) => failed(failure, &parts, &route.label),
    }
}

/// The response for a failure, and its log line.
fn failed(failure: Failure, parts: &Parts, route: &str) -> HttpResponse {
    let (status, message, detail) = match failure {
        Failure::Raised(stage, error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{} raised an error", stage.name()),
            error,
        ),
        Failure::Invalid(why) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "handler returned no valid response".to_owned(),
            why,
        ),
        Failure::TimedOut(limit) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "handler timed out".to_owned(),
            format!("still running after {}s", limit.as_secs_f64()),
        ),
    };
    log::error(
        &message,
        &[
            ("method", parts.method.as_str()),
            ("path", parts.uri.path()),
            ("route", route),
            ("error", &detail),
        ],
    );
    response::error(status)
}

/// `before` for what no route handles: static folders and 404s, so auth middleware covers
/// them too (`after` does not run there: files are streamed from disk, not built in Lua).
/// The body is not read: static files and 404s do not use it.
pub async fn guard(app: Arc<App>, req: Request, next: Next) -> HttpResponse {
    let Some(before) = &app.before else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let value = request::to_value(
        &parts,
        None,
        remote_addr(&parts),
        Bytes::default(),
        &app.json,
    );
    let answer = match call(&app, before, Stage::Before, vec![value]).await {
        Ok(values) => first(values),
        Err(failure) => return failed(failure, &parts, "(static or not found)"),
    };
    if answer.is_nil() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match response::from_value(answer) {
        Ok(Reply::Response(response)) => response,
        Ok(Reply::WebSocket { .. }) => failed(
            Failure::Invalid("'before' cannot answer with a WebSocket".into()),
            &parts,
            "(static or not found)",
        ),
        Err(why) => failed(Failure::Invalid(why), &parts, "(static or not found)"),
    }
}

fn remote_addr(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0)
}

async fn respond(route: &Route, req: Value) -> Result<Reply, Failure> {
    let app = &route.app;
    let middleware = app.before.is_some() || app.after.is_some();
    let kept = if middleware { Some(req.clone()) } else { None };
    let answer = match &app.before {
        Some(before) => match first(call(app, before, Stage::Before, vec![req.clone()]).await?) {
            Value::Nil => first(call(app, &route.handler, Stage::Handler, vec![req]).await?),
            early => early,
        },
        None => first(call(app, &route.handler, Stage::Handler, vec![req]).await?),
    };
    let answer = match (&app.after, kept) {
        (Some(after), Some(req)) if !is_websocket(&answer) => {
            let table = normalized(answer);
            match first(call(app, after, Stage::After, vec![req, table.clone()]).await?) {
                Value::Nil => table,
                replaced => replaced,
            }
        }
        _ => answer,
    };
    response::from_value(answer).map_err(Failure::Invalid)
}

/// Calls a Lua function for a request. On `timeout`, the request gets its 503 at once, but
/// the coroutine itself runs on to its end (Lua cannot interrupt it safely); what it returns
/// then is dropped.
async fn call(
    app: &App,
    f: &Callback,
    stage: Stage,
    args: Vec<Value>,
) -> Result<Vec<Value>, Failure> {
    let _in_flight = app.spin.get_or_init(Spin::start).enter();
    let running = f.call(args);
    let result = match app.timeout {
        None => running.await,
        Some(limit) => tokio::time::timeout(limit, running)
            .await
            .map_err(|_| Failure::TimedOut(limit))?,
    };
    result.map_err(|e| Failure::Raised(stage, e.into_message()))
}

fn first(values: Vec<Value>) -> Value {
    values.into_iter().next().unwrap_or(Value::Nil)
}

fn is_websocket(answer: &Value) -> bool {
    matches!(answer, Value::Map(m) if m.get("websocket").is_some())
}

/// The handler's answer as the table `after` sees: a string becomes
/// `{status = 200, headers = {["content-type"] = "text/plain; charset=utf-8"}, body = s}`,
/// nil becomes `{status = 204}`; tables pass unchanged.
fn normalized(answer: Value) -> Value {
    match answer {
        Value::Str(body) => {
            let mut headers = Map::with_capacity(1);
            headers.push("content-type".into(), "text/plain; charset=utf-8".into());
            let mut table = Map::with_capacity(3);
            table.push("status".into(), Value::Int(200));
            table.push("headers".into(), Value::Map(headers));
            table.push("body".into(), Value::Str(body));
            Value::Map(table)
        }
        Value::Nil => Value::Map([("status", Value::Int(204))].into_iter().collect()),
        other => other,
    }
}

/// Upgrades to a WebSocket and runs `function(conn)` until it returns.
/// `protocols` are the subprotocols the route accepts; the first the client offers is chosen.
async fn upgrade(
    route: &Route,
    mut parts: Parts,
    function: Callback,
    protocols: Vec<String>,
) -> HttpResponse {
    let max_message = route.app.max_message;
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        // A frame's header announces its length: one over the limit is refused before its
        // payload is read, and a message of many frames once the total passes it.
        Ok(upgrade) => upgrade
            .protocols(protocols)
            .max_message_size(max_message)
            .max_frame_size(max_message),
        // Not a WebSocket handshake: the rejection says so (400/405/426).
        Err(rejection) => return rejection.into_response(),
    };
    let protocol = upgrade
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .map(str::to_owned);
    let label = route.label.clone();
    let shutdown = route.app.shutdown.clone();
    upgrade.on_upgrade(move |socket| async move {
        let conn = Arc::new(Conn::new(socket, protocol, max_message));
        let object = assay_sdk::Object::from_arc(conn.clone());
        let call = function.call(vec![Value::Object(object)]);
        tokio::pin!(call);
        // A stopping server says so (1001, "going away") and lets the handler finish on its
        // own until the grace period ends; then the call is dropped (the host closes its
        // coroutine) and the connection with it.
        let result = tokio::select! {
            result = &mut call => Some(result),
            () = shutdown.stopping() => {
                conn.close(1001, "server shutting down".to_owned()).await;
                tokio::select! {
                    result = &mut call => Some(result),
                    () = shutdown.killed() => None,
                }
            }
        };
        if let Some(Err(e)) = result {
            log::error(
                "websocket handler raised an error",
                &[("route", &label), ("error", e.message())],
            );
        }
        conn.finish().await;
    })
}
