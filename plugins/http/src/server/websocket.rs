//! WebSocket routes: a handler returning `{websocket = function(conn) ... end}` upgrades the
//! connection (`handshake.rs`) and runs the function with `conn`, the same conn a `ws.connect`
//! client gets (crate `assay-websocket`, whose docs say how it behaves), so one function can
//! serve either end.
//!
//! When the function returns, the connection is closed with 1000; when it raises, with 1011
//! (internal error, RFC 6455 7.4.1) and no reason (the error goes to the log, not to the
//! client); when the server stops, with 1001 (see `app.rs`). Messages and frames over the
//! server's `max_message` option are refused with 1009.

use assay_websocket::Side;

/// The server's end of a WebSocket.
pub enum Server {}

impl Side for Server {
    const TYPE_NAME: &'static str = "http.WebSocket";
}

pub type Conn = assay_websocket::Conn<Server>;
