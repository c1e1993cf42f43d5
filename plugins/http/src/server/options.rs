//! `http.server(routes, opts)` options, checked before anything is bound.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use assay_sdk::{Callback, Options, Result, Value};

use super::connections::{
    DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, Limits, fd_capped,
};
use super::middleware::Middleware;

/// nginx's `client_max_body_size` default: larger bodies get 413 unless `max_body` says more.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// The largest WebSocket message (and frame) a connection accepts when `max_message` is not
/// given (1 MiB, Python `websockets`' default). A larger one closes the connection with 1009.
pub use assay_websocket::DEFAULT_MAX_MESSAGE;

/// The listen queue's length when `backlog` is not given.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// How long a stopping server waits for in-flight requests (Kubernetes' default grace period
/// is 30 s; leave it room to exit cleanly).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(20);

const KNOWN: &[&str] = &[
    "host",
    "port",
    "static",
    "before",
    "after",
    "max_body",
    "max_message",
    "timeout",
    "grace",
    "reuse_port",
    "backlog",
    "header_timeout",
    "idle_timeout",
    "max_connections",
    "on_listen",
];

pub struct ServerOptions {
    pub host: IpAddr,
    pub port: u16,
    /// URL prefix (no trailing slash, `""` for the root) and folder.
    pub statics: Vec<(String, PathBuf)>,
    pub before: Option<Middleware>,
    pub after: Option<Middleware>,
    /// The largest request body read (413 beyond), at most the script's memory limit.
    pub max_body: usize,
    /// The largest WebSocket message or frame (1009 beyond), at most the memory limit.
    pub max_message: usize,
    /// The script's memory limit (`None`: none known), read on the Lua thread.
    pub budget: crate::budget::Budget,
    /// `req.json`: the host's JSON decoder for this script when it offers one (fetched here,
    /// inside the call, where the host knows the script; requests are built in server tasks).
    pub json: Callback,
    /// A handler still running after this long gets 503.
    pub timeout: Option<Duration>,
    /// How long `stop()` or SIGTERM waits for in-flight requests before closing them.
    pub grace: Duration,
    /// SO_REUSEPORT: several processes may listen on the same port; the kernel spreads new
    /// connections over them (the way to use every core: one process per core).
    pub reuse_port: bool,
    /// The listen queue's length (nginx's default is 511).
    pub backlog: u32,
    /// Header and idle timeouts, the connection cap (see `connections.rs`).
    pub limits: Limits,
    /// Called with the bound port once the server listens (`http.serve(0, ...)` has no other
    /// way to learn it).
    pub on_listen: Option<Callback>,
}

impl ServerOptions {
    /// Reads `opts`; `port` is `http.serve`'s first argument (then `opts.port` is refused).
    pub fn read(opts: &Options<'_>, port: Option<u16>) -> Result<Self> {
        opts.only(KNOWN)?;
        let host = match opts.str("host")? {
            None => IpAddr::from([0, 0, 0, 0]),
            // The loopback name every system has; other names would need a resolver (and
            // could mean several addresses): give an address.
            Some("localhost") => IpAddr::from([127, 0, 0, 1]),
            Some(text) => text.parse().map_err(|_| {
                opts.invalid(
                    "host",
                    format!("'{text}' is not an IP address (or \"localhost\")"),
                )
            })?,
        };
        let port = match port {
            // `http.serve(port, ...)`: a second port in the options would be ignored.
            Some(_) if opts.get("port").is_some() => {
                return Err(opts.invalid(
                    "port",
                    "http.serve takes the port as its first argument, not as an option",
                ));
            }
            Some(port) => port,
            None => match opts.int("port")? {
                None => 0,
                Some(n) => port_number(n).ok_or_else(|| {
                    opts.invalid("port", format!("{n} is not a port number (0-65535)"))
                })?,
            },
        };
        // A body or message larger than the script's memory limit could never become a Lua
        // string, and would be buffered outside that limit first: the limit caps both.
        let budget = crate::budget::Budget::of_caller();
        let cap = budget
            .limit()
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(usize::MAX);
        let size = |key: &str, default: usize| -> Result<usize> {
            let given = match opts.int(key)? {
                None => default,
                Some(n) => {
                    usize::try_from(n).map_err(|_| opts.invalid(key, "must not be negative"))?
                }
            };
            Ok(given.min(cap))
        };
        let max_body = size("max_body", DEFAULT_MAX_BODY)?;
        let max_message = match opts.int("max_message")? {
            None => DEFAULT_MAX_MESSAGE,
            Some(n) => {
                assay_websocket::max_message(n).map_err(|why| opts.invalid("max_message", why))?
            }
        }
        .min(cap);
        Ok(Self {
            host,
            port,
            statics: statics(opts)?,
            before: callback(opts, "before")?
                .map(Middleware::before)
                .transpose()?,
            after: callback(opts, "after")?
                .map(Middleware::after)
                .transpose()?,
            max_body,
            max_message,
            budget,
            json: crate::json::body_method(),
            timeout: seconds(opts, "timeout")?,
            grace: seconds(opts, "grace")?.unwrap_or(DEFAULT_GRACE),
            reuse_port: opts.bool("reuse_port")?.unwrap_or(false),
            backlog: match opts.int("backlog")? {
                None => DEFAULT_BACKLOG,
                Some(n) => u32::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| opts.invalid("backlog", format!("{n} is not a queue length")))?,
            },
            on_listen: callback(opts, "on_listen")?,
            limits: Limits {
                header_timeout: positive_seconds(opts, "header_timeout")?
                    .unwrap_or(DEFAULT_HEADER_TIMEOUT),
                idle_timeout: positive_seconds(opts, "idle_timeout")?
                    .unwrap_or(DEFAULT_IDLE_TIMEOUT),
                max_connections: fd_capped(match opts.int("max_connections")? {
                    None => DEFAULT_MAX_CONNECTIONS,
                    Some(n) => usize::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
                        opts.invalid("max_connections", format!("{n} is not a count (1 or more)"))
                    })?,
                }),
            },
        })
    }
}

pub fn port_number(n: i64) -> Option<u16> {
    u16::try_from(n).ok()
}

fn seconds(opts: &Options<'_>, key: &str) -> Result<Option<Duration>> {
    match opts.float(key)? {
        None => Ok(None),
        Some(s) => Duration::try_from_secs_f64(s)
            .map(Some)
            .map_err(|_| opts.invalid(key, format!("{s} is not a duration in seconds"))),
    }
}

/// A duration that must be more than zero (a zero timeout would close every connection).
fn positive_seconds(opts: &Options<'_>, key: &str) -> Result<Option<Duration>> {
    match seconds(opts, key)? {
        Some(d) if d.is_zero() => Err(opts.invalid(key, "must be more than 0 seconds")),
        other => Ok(other),
    }
}

fn callback(opts: &Options<'_>, key: &str) -> Result<Option<Callback>> {
    match opts.get(key) {
        None => Ok(None),
        Some(Value::Function(f)) => Ok(Some(f.clone())),
        Some(other) => {
            Err(opts.invalid(key, format!("function expected, got {}", other.type_name())))
        }
    }
}

/// `static = { ["/assets"] = "./public" }`: each prefix must start with '/', each folder exist.
fn statics(opts: &Options<'_>) -> Result<Vec<(String, PathBuf)>> {
    let Some(map) = opts.map("static")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (prefix, dir) in map.iter() {
        let (Some(prefix), Some(dir)) = (prefix.as_str(), dir.as_str()) else {
            return Err(opts.invalid("static", "expected { [\"/prefix\"] = \"folder\" } strings"));
        };
        if !prefix.starts_with('/') {
            return Err(opts.invalid("static", format!("prefix '{prefix}' must start with '/'")));
        }
        let folder = PathBuf::from(dir);
        if !folder.is_dir() {
            return Err(opts.invalid("static", format!("'{dir}' is not a folder")));
        }
        out.push((prefix.trim_end_matches('/').to_owned(), folder));
    }
    Ok(out)
}
