//! `ws.connect`'s options, checked before anything goes on the network.

use std::time::Duration;

use assay_sdk::{Args, Options, Result};
use rustls::pki_types::CertificateDer;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};

const KNOWN: &[&str] = &[
    "headers",
    "subprotocols",
    "ca_cert",
    "insecure",
    "timeout",
    "max_message",
];

/// How long the opening may take when `timeout` is not given (Python websockets'
/// `open_timeout`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Headers the handshake writes itself: a script's own would contradict them.
const HANDSHAKE_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
];

pub struct ConnectOptions {
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub subprotocols: Vec<String>,
    /// CAs trusted besides the system's (`ca_cert`).
    pub roots: Vec<CertificateDer<'static>>,
    pub insecure: bool,
    /// `None`: no limit.
    pub timeout: Option<Duration>,
    pub max_message: usize,
}

impl ConnectOptions {
    pub fn parse(args: &Args, pos: usize) -> Result<Self> {
        let opts = args.options(pos, "opts")?;
        opts.only(KNOWN)?;
        let roots = match opts.str("ca_cert")? {
            Some(source) => {
                let bytes = assay_sdk::pem::source("ca_cert", source)?;
                assay_sdk::pem::certificates("ca_cert", &bytes)?
            }
            None => Vec::new(),
        };
        Ok(Self {
            headers: headers(&opts)?,
            subprotocols: subprotocols(&opts)?,
            roots,
            insecure: opts.bool("insecure")?.unwrap_or(false),
            timeout: timeout(&opts)?,
            max_message: max_message(&opts)?,
        })
    }
}

fn headers(opts: &Options<'_>) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let Some(map) = opts.map("headers")? else {
        return Ok(Vec::new());
    };
    let mut headers = Vec::with_capacity(map.len());
    for (key, value) in map.iter() {
        let Some(key) = key.as_str() else {
            return Err(opts.invalid("headers", format!("a key is a {}", key.type_name())));
        };
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| opts.invalid("headers", format!("'{key}' is not a header name")))?;
        if HANDSHAKE_HEADERS.contains(&name.as_str()) {
            return Err(opts.invalid(
                "headers",
                format!("'{key}' is written by the WebSocket handshake itself"),
            ));
        }
        if name == "sec-websocket-protocol" {
            return Err(opts.invalid("headers", "give subprotocols with the subprotocols option"));
        }
        let value = match value {
            assay_sdk::Value::Int(n) => n.to_string().into_bytes(),
            other => other
                .as_bytes()
                .ok_or_else(|| {
                    opts.invalid(
                        "headers",
                        format!("'{key}' is a {}, not a string", other.type_name()),
                    )
                })?
                .to_vec(),
        };
        let value = HeaderValue::from_bytes(&value).map_err(|_| {
            opts.invalid(
                "headers",
                format!("'{key}' has a value with a line break or control character"),
            )
        })?;
        headers.push((name, value));
    }
    Ok(headers)
}

/// Subprotocol names are HTTP tokens (RFC 6455 4.1), each offered once.
fn subprotocols(opts: &Options<'_>) -> Result<Vec<String>> {
    let Some(names) = opts.strings("subprotocols")? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(opts.invalid("subprotocols", format!("'{name}' is not a token")));
        }
        if out.iter().any(|seen| seen == name) {
            return Err(opts.invalid("subprotocols", format!("'{name}' is offered twice")));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// `math.huge` is no limit (the OS's own connect timeouts still apply).
fn timeout(opts: &Options<'_>) -> Result<Option<Duration>> {
    let Some(seconds) = opts.float("timeout")? else {
        return Ok(Some(DEFAULT_TIMEOUT));
    };
    if seconds == f64::INFINITY {
        return Ok(None);
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .map(Some)
        .ok_or_else(|| {
            let shown = crate::errors::seconds(seconds);
            match seconds > 0.0 {
                true => opts.invalid(
                    "timeout",
                    format!("{shown} is too long (math.huge: no limit)"),
                ),
                false => opts.invalid("timeout", format!("{shown} is not a positive duration")),
            }
        })
}

/// At most the script's memory limit: a larger message could never become a Lua string.
fn max_message(opts: &Options<'_>) -> Result<usize> {
    let given = match opts.int("max_message")? {
        None => assay_websocket::DEFAULT_MAX_MESSAGE,
        Some(n) => {
            assay_websocket::max_message(n).map_err(|why| opts.invalid("max_message", why))?
        }
    };
    let cap = assay_sdk::host::memory_limit()
        .and_then(|limit| usize::try_from(limit).ok())
        .unwrap_or(usize::MAX);
    Ok(given.min(cap))
}
