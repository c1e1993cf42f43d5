//! The WebSocket connection scripts get on both ends (API.md "ws plugin"): a `ws.connect`
//! client conn and the conn an http route's `{websocket = function(conn) ... end}` runs with
//! are the same [`Conn`], so one function can serve either end.
//!
//! - `conn:send(text)`, `conn:send_binary(bytes)`: raise once the connection is closed. A send
//!   waits while the peer is not reading (its buffers full), as Python websockets' does; once
//!   the connection is closing (our `close`, a server stopping) such a send gives up after the
//!   close handshake's second and the socket is closed, so a peer that stopped reading cannot
//!   hold a conn, a coroutine or a server's stop.
//! - `conn:recv(timeout)` -> the next message (a string) and its kind, `"text"` or `"binary"`;
//!   `nil, "timeout"` when `timeout` seconds pass without one (the conn stays usable: polling
//!   loops use it); `nil, "closed", code, reason` once the connection ended, on every later
//!   call too. `code` and `reason` are those of the peer's close frame, as Python websockets'
//!   `close_code`/`close_reason`: 1005 and `""` for a close frame without a code, 1006 and the
//!   cause when the connection ended without one (a reset, a peer that vanished, a close of
//!   ours left unanswered), and the code we sent, with why, when we refused a message (see
//!   below).
//! - `conn:ping(timeout)` sends a ping and waits for its pong: the round trip in seconds, or
//!   `nil, "timeout"` after `timeout` seconds (default 20, websockets' `ping_timeout`; the
//!   wait to send the ping counts), or `nil, "closed", code, reason`. Only a pong carrying the
//!   number of one of our pings answers; the peer's pings are answered by the library.
//! - `conn:close(code, reason)` (default 1000, `""`) sends our close frame, waits for the peer's
//!   (1 s at most, [`CLOSE_HANDSHAKE`]) and closes the TCP connection. Codes are those RFC 6455
//!   7.4 lets an endpoint send (1000-1003, 1007-1014, 3000-4999), the reason at most 123 bytes
//!   (a control frame carries 125).
//! - `conn.protocol`: the subprotocol agreed in the handshake, or nil.
//! - `<close>` (or the last reference collected) closes with 1000 when the script did not.
//!
//! Sending and receiving are separate halves: one coroutine may wait in `recv` while another
//! sends. A `ping` made while no `recv` is waiting reads for itself, keeping the messages it
//! meets for the next `recv`s (at most about `max_message` bytes of them; past that it waits for
//! a `recv` to make room).
//!
//! Timeouts are seconds; `math.huge` waits as long as it takes.
//!
//! Messages are bounded: one (or one frame) over `max_message` (default 1 MiB, as Python
//! websockets; at most [`MAX_MAX_MESSAGE`]; see [`config`]) is not read: the connection is closed with 1009 and `recv`
//! returns `nil, "closed", 1009, "message larger than max_message (1 MiB)"`. A frame announcing
//! a larger length is refused from its header, before its payload arrives. Text that is not
//! UTF-8 closes with 1007, any other breach of the protocol with 1002.
//!
//! Closing lingers, as web servers do: after the close frames, our side shuts down its sending
//! half and reads (and drops) what the peer still sends until it closes too, [`CLOSE_HANDSHAKE`]
//! at most. A socket closed with unread data sends a reset, and a peer in the middle of sending
//! a large message would lose our close frame to it. So no socket is left in CLOSE-WAIT.

mod conn;
mod ended;
mod methods;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use conn::{CLOSE_HANDSHAKE, Conn};
pub use tokio_tungstenite::tungstenite::protocol::Role;

/// The largest message (and frame) a connection accepts when `max_message` is not given:
/// Python websockets' default.
pub const DEFAULT_MAX_MESSAGE: usize = 1024 * 1024;

/// The largest `max_message` a script may ask for. The library reserves a frame's announced
/// length (up to `max_message`) before its payload arrives, outside the script's memory limit:
/// a peer announcing a huge frame must not get the process to ask for more than this.
pub const MAX_MAX_MESSAGE: usize = 1 << 30;

/// A `max_message` option's value checked: a positive size, capped at [`MAX_MAX_MESSAGE`] (as
/// the memory limit caps it: a large value means "as much as allowed"), or why not.
pub fn max_message(n: i64) -> Result<usize, String> {
    match usize::try_from(n) {
        Ok(0) | Err(_) => Err(format!("{n} is not a positive size")),
        Ok(n) => Ok(n.min(MAX_MAX_MESSAGE)),
    }
}

/// A byte stream a WebSocket runs on: a TCP stream, a TLS stream, an upgraded HTTP connection.
/// Erased behind a box so that [`Conn`] is one type whatever carries it (one indirect call per
/// read or write, nothing next to a system call).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A WebSocket over any [`Io`].
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Which end a conn is, for the type name scripts see (`tostring(conn)`, errors).
pub trait Side: Send + Sync + 'static {
    const TYPE_NAME: &'static str;
}

/// The library's settings for a connection that refuses messages and frames over
/// `max_message`: a frame's header announces its length, so one over the limit is refused
/// before its payload is read, and a message of many frames once their total passes it.
///
/// Reads take at most 16 KiB at a time: tungstenite zeroes the part of its buffer a
/// read may fill before each read, and its default (128 KiB) made that memset the largest
/// cost of a small message's round trip.
pub fn config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
        .read_buffer_size(READ_CHUNK)
}

/// The most one read from the socket takes (see [`config`]).
const READ_CHUNK: usize = 16 * 1024;

#[cfg(test)]
mod tests {
    #[test]
    fn max_message_is_positive_and_capped() {
        assert_eq!(super::max_message(1), Ok(1));
        assert_eq!(super::max_message(1 << 40), Ok(super::MAX_MAX_MESSAGE));
        assert!(super::max_message(0).is_err());
        assert!(super::max_message(-1).is_err());
    }
}
