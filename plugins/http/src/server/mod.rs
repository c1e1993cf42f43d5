//! `http.server(routes, opts)` and `http.serve(port, routes, opts)`.
//!
//! The server is axum on the Lua thread's reactor (the plugin asks for its I/O to run there,
//! see `assay_sdk::reactor`; on a host without it, on the plugin's own runtime): a request's
//! handler is called through an SDK callback, which the host runs at once, inline, as a
//! coroutine, so a handler that sleeps or waits on I/O never blocks another request, and one
//! that finishes at once has its reply written in the same turn.
//!
//! A handler's answer becomes a response in `response.rs`; one with `stream = function(body)`
//! has its body written while the client reads it (`stream.rs`); `{websocket = fn}` upgrades
//! (`websocket.rs`).
//!
//! `http.server` binds at once (a port in use is an error right there) and returns
//! `server.port`, `server:stop()` and `server:wait()`. Stopping is graceful: the listener
//! closes, idle keep-alive connections close, in-flight requests finish (at most `opts.grace`
//! seconds, default 20), then `wait()` returns. `http.serve` starts and waits. A listening
//! server keeps the program alive (an SDK `KeepAlive`) even when nothing waits on it, until it
//! stops; a server whose Lua object is collected without `stop()` serves on.
//!
//! Bounds: a request body is read up to `opts.max_body` (default 1 MiB, nginx's; 413 beyond),
//! a WebSocket message or frame up to `opts.max_message` (default 1 MiB, Python `websockets`';
//! a larger one closes the connection with 1009, see `websocket.rs`); both are capped at the
//! script's memory limit, since a larger one could never become a Lua string and would be
//! buffered outside that limit first. The bodies of all requests being read at once are held
//! to the same limit together (503 beyond; see `crate::budget`). `req:json()` is the host's
//! JSON decoder (straight into Lua under the memory limit), fetched when `http.server` is
//! called: requests are built in the server's tasks, where the host cannot be asked.
//!
//! SIGTERM and SIGINT stop every running server gracefully: a script waiting on one goes on
//! after the call, and the program exits 0 once its servers and tasks are done. A signal with
//! no server left to stop ends the process as the signal would have (exit 128 + signal).

mod app;
mod body;
mod connections;
mod handshake;
mod lifecycle;
mod log;
mod middleware;
mod options;
mod request;
mod response;
mod routes;
mod spin;
mod statics;
mod stream;
mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;

use assay_sdk::{Error, Global, Map, Methods, Object, ObjectType, Result, Value};

use self::app::App;
use self::lifecycle::Lifecycle;
use self::options::ServerOptions;

pub fn register(http: &mut Global) {
    http.function("query_value", |args| {
        args.at_most(2, 0)?;
        let query = args.map(1, "query")?;
        let name = args.str(2, "name")?;
        Ok(request::query_value(query, name))
    });
    http.function("server", |args| {
        args.at_most(2, 0)?;
        let routes = args.map(1, "routes")?;
        let opts = ServerOptions::read(&args.options(2, "opts")?, None)?;
        let on_listen = opts.on_listen.clone();
        let server = start(routes, opts)?;
        // `http.server` returns at once (the port is `server.port`); `on_listen` runs as soon
        // as the script yields, like a spawned task.
        if let Some(f) = on_listen {
            let port = server.port;
            assay_sdk::runtime().spawn(async move {
                if let Err(e) = f.call(vec![Value::Int(i64::from(port))]).await {
                    log::error("on_listen raised an error", &[("error", e.message())]);
                }
            });
        }
        Ok(Object::new(server))
    });
    http.async_function("serve", |args| {
        let started = (|| -> Result<(Server, Option<assay_sdk::Callback>)> {
            args.at_most(3, 0)?;
            let port = args.int(1, "port")?;
            let port = options::port_number(port).ok_or_else(|| {
                args.invalid(1, "port", format!("{port} is not a port number (0-65535)"))
            })?;
            let routes = args.map(2, "routes")?;
            let opts = ServerOptions::read(&args.options(3, "opts")?, Some(port))?;
            let on_listen = opts.on_listen.clone();
            Ok((start(routes, opts)?, on_listen))
        })();
        async move {
            let (server, on_listen) = started?;
            if let Some(f) = on_listen
                && let Err(e) = f.call(vec![Value::Int(i64::from(server.port))]).await
            {
                // A server whose start-up hook failed does not serve on unnoticed.
                server.lifecycle.stop();
                server.lifecycle.wait().await?;
                // Its first line: the caller's error gets its own traceback.
                let message = e.message().lines().next().unwrap_or_default().to_owned();
                return Err(Error::new(format!("on_listen: {message}")));
            }
            server.lifecycle.wait().await
        }
    });
}

/// A running server as Lua sees it.
pub struct Server {
    port: u16,
    lifecycle: Arc<Lifecycle>,
}

impl ObjectType for Server {
    const TYPE_NAME: &'static str = "http.Server";

    fn methods(m: &mut Methods<Self>) {
        m.method("stop", |this, args| {
            args.at_most(0, 0)?;
            this.lifecycle.stop();
            Ok(())
        });
        m.async_method("wait", |this, args| async move {
            args.at_most(0, 0)?;
            this.lifecycle.wait().await
        });
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "port" => Some(Value::Int(i64::from(self.port))),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        format!("http.Server: port {}", self.port)
    }
}

/// Binds (on the calling thread, so errors come back at once) and starts serving on the
/// plugin's runtime.
fn start(routes: &Map, mut opts: ServerOptions) -> Result<Server> {
    let (signals, shutdown) = lifecycle::signals();
    let app = Arc::new(App {
        before: opts.before.take(),
        after: opts.after.take(),
        max_body: opts.max_body,
        max_message: opts.max_message,
        budget: opts.budget,
        json: opts.json.clone(),
        handler_glue: assay_sdk::host::lua_function("http.request", request::HANDLER_GLUE)
            .transpose()?,
        timeout: opts.timeout,
        spin: std::sync::OnceLock::new(),
        shutdown,
    });
    let router = routes::router(routes, &opts.statics, &app)?;
    let address = SocketAddr::new(opts.host, opts.port);
    let lifecycle = Lifecycle::start(address, &opts, router, signals)?;
    let port = lifecycle.port();
    Ok(Server { port, lifecycle })
}
