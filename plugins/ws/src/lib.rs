//! The `ws` plugin: WebSocket clients.
//!
//! ```lua
//! local conn <close> = ws.connect("wss://events.example/stream", {headers = {authorization = "Bearer " .. token}})
//! conn:send("subscribe deployments")
//! while true do
//!   local msg, kind, code, reason = conn:recv(30)
//!   if msg then handle(msg, kind)
//!   elseif kind == "timeout" then conn:ping()            -- idle: is the peer still there?
//!   else log.info("closed", {code = code, reason = reason}) break end
//! end
//! ```
//!
//! `ws.connect(url, opts)` opens a `ws://` or `wss://` connection and returns the conn the
//! http server's WebSocket routes get too (crate `assay-websocket` says how it behaves), so one
//! function can serve either end. Options:
//!
//! - `headers`: request headers (not the handshake's own: `connection`, `upgrade`,
//!   `sec-websocket-*`); `user-agent` defaults to `assay/<version>`. A URL's `user:password@`
//!   becomes basic authorization, as browsers and Python websockets do.
//! - `subprotocols`: a name or a list, offered in that order; `conn.protocol` is the server's
//!   choice. A server that accepts none of them (the handshake without `sec-websocket-protocol`)
//!   is an error: tungstenite requires the choice where Python websockets would go on without.
//! - `ca_cert` (a PEM path or text: CAs added to the system's) and `insecure` (no certificate
//!   checks): as the http client, with the same verifier, so failures read the same.
//! - `timeout`: seconds for the whole opening (DNS, TCP, TLS, the HTTP upgrade); default 10, as
//!   Python websockets' `open_timeout`; `math.huge` for none.
//! - `max_message`: the largest message or frame accepted (default 1 MiB, never more than the
//!   script's memory limit, nor than 1 GiB: the library sets aside a frame's announced length
//!   before it arrives); a larger one closes with 1009.
//!
//! Messages show a URL's password as `***`.
//!
//! Failures raise with what went wrong: `cannot connect to 127.0.0.1:9: connection refused`,
//! `handshake rejected by ws://...: HTTP 403 Forbidden (go away)`, `TLS handshake with
//! host:443 failed: certificate signed by an unknown CA (...)`, `timed out after 10s`.
//!
//! Under `--sandbox` the plugin is refused, as every native plugin.

mod connect;
mod errors;
mod options;
mod request;

use assay_websocket::Side;

/// The client's end of a WebSocket.
pub enum Client {}

impl Side for Client {
    const TYPE_NAME: &'static str = "ws.Conn";
}

pub type Conn = assay_websocket::Conn<Client>;

pub fn register(plugin: &mut assay_sdk::Plugin) {
    // Messages are read and written where the script runs: an echo is one thread's work.
    plugin.io_on_lua_thread();
    plugin
        .global("ws")
        .async_function("connect", connect::connect);
}

assay_sdk::plugin!(register);
