//! One request through a route: read the body, build `req`, run `before` and the handler
//! (each a coroutine on the Lua thread), turn the answer into a response. `after` wraps the
//! whole router (see `middleware.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use assay_sdk::{Bytes, Callback, Value};
use assay_websocket::Role;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use hyper_util::rt::TokioIo;

use super::body;
use super::handshake;
use super::lifecycle::Shutdown;
use super::log;
use super::middleware::{Answered, Middleware};
use super::request::{self, Req};
use super::response::{self, HttpResponse, Reply};
use super::spin::Spin;
use super::stream;
use super::websocket::Conn;

/// What every route of a server shares.
pub struct App {
    pub before: Option<Middleware>,
    pub after: Option<Middleware>,
    pub max_body: usize,
    pub max_message: usize,
    /// The script's memory limit: request bodies being read at once may not hold more.
    pub budget: crate::budget::Budget,
    /// `req.json` (see `options::ServerOptions::json`).
    pub json: Callback,
    /// Calls a handler with the `req` the glue makes (`request.rs`); `None` on a host that
    /// runs no glue, where requests are built here whole.
    pub handler_glue: Option<Callback>,
    pub timeout: Option<Duration>,
    /// Set once the server runs, on its runtime.
    pub spin: std::sync::OnceLock<Arc<Spin>>,
    /// Tells what outlives a handler's call (WebSocket connections, streamed bodies) the
    /// server is stopping.
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
pub enum Stage {
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
pub enum Failure {
    /// The Lua function raised (message and traceback).
    Raised(Stage, String),
    /// It returned something that is not a response.
    Invalid(Stage, String),
    TimedOut(Duration),
}

pub async fn handle(route: Arc<Route>, req: Request) -> HttpResponse {
    let (mut parts, body) = req.into_parts();
    let (body, charge) = match body::read(body, route.app.max_body, route.app.budget).await {
        Ok((bytes, charge)) => (Bytes::from(bytes), charge),
        Err(response) => return response,
    };
    let params = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .ok();
    let req = request(&route.app, &parts, params.as_ref(), body);
    let (reply, seen) = respond(&route, req).await;
    // The body went to Lua with `req` (or was dropped with it).
    drop(charge);
    let mut response = match reply {
        Ok(Reply::Response(response)) => response,
        Ok(Reply::WebSocket {
            function,
            protocols,
        }) => upgrade(&route, parts, function, protocols).await,
        Ok(Reply::Stream { head, function }) => {
            stream::respond(head, function, &route.app.shutdown, &parts, &route.label)
        }
        Err(failure) => failed(failure, &parts, &route.label),
    };
    if let Some(req) = seen {
        response.extensions_mut().insert(Answered {
            req,
            route: route.label.clone(),
        });
    }
    response
}

/// A request (with its body, when read) on its way to Lua.
pub fn request(app: &App, parts: &Parts, params: Option<&RawPathParams>, body: Bytes) -> Req {
    let glued = app.handler_glue.is_some();
    Req::new(parts, params, &remote_text(parts), body, &app.json, glued)
}

/// The response for a failure, and its log line.
pub fn failed(failure: Failure, parts: &Parts, route: &str) -> HttpResponse {
    let (status, message, detail) = match failure {
        Failure::Raised(stage, error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{} raised an error", stage.name()),
            error,
        ),
        Failure::Invalid(stage, why) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{} returned no valid response", stage.name()),
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
            ("path", request::original_uri(parts).path()),
            ("route", route),
            ("error", &detail),
        ],
    );
    response::error(status)
}

/// `before` for what no route handles: static folders and 404s, so auth middleware covers
/// them too. The body is not read: static files and 404s do not use it.
pub async fn guard(app: Arc<App>, req: Request, next: Next) -> HttpResponse {
    const ROUTE: &str = "(static or not found)";
    let Some(before) = &app.before else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let req = request(&app, &parts, None, Bytes::default());
    let (f, args) = before.invocation(&req, None);
    let (answer, seen) = match call(&app, f, Stage::Before, args).await {
        Ok(values) => before.before_results(values, req),
        Err(failure) => return failed(failure, &parts, ROUTE),
    };
    let mut response = if answer.is_nil() {
        next.run(Request::from_parts(parts, body)).await
    } else {
        match response::from_value(answer) {
            Ok(Reply::Response(response)) => response,
            Ok(Reply::Stream { head, function }) => {
                stream::respond(head, function, &app.shutdown, &parts, ROUTE)
            }
            Ok(Reply::WebSocket { .. }) => failed(
                Failure::Invalid(Stage::Before, "it cannot answer with a WebSocket".into()),
                &parts,
                ROUTE,
            ),
            Err(why) => failed(Failure::Invalid(Stage::Before, why), &parts, ROUTE),
        }
    };
    if app.after.is_some() {
        response.extensions_mut().insert(Answered {
            req: seen,
            route: ROUTE.to_owned(),
        });
    }
    response
}

fn remote_text(parts: &Parts) -> std::sync::Arc<str> {
    match parts.extensions.get::<request::RemoteText>() {
        Some(text) => text.0.clone(),
        None => {
            let remote = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
            request::RemoteText::new(remote).0
        }
    }
}

/// `before` and the handler's answer, and the request as `before` left it when `after` will
/// want it.
async fn respond(route: &Route, req: Req) -> (Result<Reply, Failure>, Option<Req>) {
    let app = &route.app;
    let (answer, req) = match &app.before {
        Some(before) => {
            let (f, args) = before.invocation(&req, None);
            match call(app, f, Stage::Before, args).await {
                Ok(values) => before.before_results(values, req),
                Err(failure) => return (Err(failure), Some(req)),
            }
        }
        None => (Value::Nil, req),
    };
    let seen = app.after.as_ref().map(|_| req.clone());
    let (answer, stage) = match answer {
        Value::Nil => match call_handler(app, &route.handler, req).await {
            Ok(values) => (first(values), Stage::Handler),
            Err(failure) => return (Err(failure), seen),
        },
        early => (early, Stage::Before),
    };
    let reply = response::from_value(answer).map_err(|why| Failure::Invalid(stage, why));
    (reply, seen)
}

/// Calls a Lua function for a request. On `timeout`, the request gets its 503 at once and
/// the call is dropped: the host closes the coroutine (its `<close>` variables run) or, when
/// it is computing, interrupts it.
pub async fn call(
    app: &App,
    f: &Callback,
    stage: Stage,
    args: Vec<Value>,
) -> Result<Vec<Value>, Failure> {
    // Spinning only helps a server on the plugin's own thread, to catch the reply from the Lua
    // thread; one driven on the Lua thread gets its reply inline.
    let _in_flight =
        (!assay_sdk::reactor::on_lua_thread()).then(|| app.spin.get_or_init(Spin::start).enter());
    let running = f.call(args);
    let result = match app.timeout {
        None => running.await,
        Some(limit) => tokio::time::timeout(limit, running)
            .await
            .map_err(|_| Failure::TimedOut(limit))?,
    };
    result.map_err(|e| Failure::Raised(stage, e.into_message()))
}

/// The handler with `req`: made by the glue from the request's parts when it can be.
async fn call_handler(app: &App, handler: &Callback, req: Req) -> Result<Vec<Value>, Failure> {
    match (&app.handler_glue, req) {
        (Some(glue), Req::Parts(parts)) => {
            let args = vec![Value::Function(handler.clone()), Value::Array(parts)];
            call(app, glue, Stage::Handler, args).await
        }
        (_, req) => call(app, handler, Stage::Handler, vec![req.to_table()]).await,
    }
}

fn first(values: Vec<Value>) -> Value {
    values.into_iter().next().unwrap_or(Value::Nil)
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
    let accepted = match handshake::accept(&mut parts, &protocols) {
        Ok(accepted) => accepted,
        // Not a WebSocket handshake: the response says why (400/405/426).
        Err(refused) => return *refused,
    };
    let label = route.label.clone();
    let shutdown = route.app.shutdown.clone();
    let protocol = accepted.protocol;
    let upgrade = accepted.upgrade;
    tokio::spawn(async move {
        // The connection is ours once hyper has sent the 101.
        let upgraded = match upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                let error = e.to_string();
                let fields = [("route", label.as_str()), ("error", error.as_str())];
                log::error("websocket upgrade failed", &fields);
                return;
            }
        };
        let io = TokioIo::new(upgraded);
        let conn = Conn::from_raw(io, Role::Server, protocol, max_message).await;
        let conn = Arc::new(conn);
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
        // A handler that ended closes with 1000; one that raised with 1011 (internal error),
        // its message logged, not sent.
        let code = match result {
            Some(Err(e)) => {
                log::error(
                    "websocket handler raised an error",
                    &[("route", &label), ("error", e.message())],
                );
                1011
            }
            _ => 1000,
        };
        conn.close(code, String::new()).await;
    });
    accepted.response
}
