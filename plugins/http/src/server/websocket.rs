//! WebSocket routes: a handler returning `{websocket = function(conn) ... end}` upgrades the
//! connection and runs the function with `conn` (the conn API of API.md "ws plugin"):
//!
//! - `conn:send(text)`, `conn:send_binary(bytes)`;
//! - `conn:recv(timeout)` -> the next message (text or binary, as a string) and its kind
//!   (`"text"`/`"binary"`); `nil, "closed"` once the peer closed (plus the reason when it
//!   went without a close frame: a reset); `nil, "timeout"` when
//!   `timeout` seconds passed without a message (waiting is not an error: polling loops use it);
//! - `conn:close(code, reason)` (default 1000); `conn.protocol`: the subprotocol chosen, or nil.
//!
//! Pings are answered by the library. When the function returns, the connection is closed
//! with 1000; when it raises, with 1011 (internal error, RFC 6455 7.4.1) and no reason (the
//! error goes to the log, not to the client). Sending and receiving are separate halves, so
//! one coroutine may wait in `recv` while another sends.
//!
//! Messages are bounded: a message (or a frame) larger than the server's `max_message` option
//! (default 1 MiB, as Python `websockets`; never more than the script's memory limit) is not
//! read: the connection is closed with code 1009 (message too big) and `recv` returns
//! `nil, "closed", "message larger than max_message (1 MiB)"`. A frame announcing a larger
//! length is refused from its header, before its payload arrives. A protocol error closes
//! with 1002, a text message that is not UTF-8 with 1007.
//!
//! Closing is a lingering close, as web servers do: after its close frame the server shuts
//! down its sending side and reads (and drops) what the peer still sends until the peer
//! closes too, [`CLOSE_HANDSHAKE`] at most. A socket closed with unread data sends a reset,
//! and a peer in the middle of sending a large message would lose our close frame to it.

use std::time::Duration;

use assay_sdk::{Args, Error, Methods, Multi, ObjectType, Result, Value};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// An upgraded connection speaking WebSocket.
type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// How long a closing side waits for the other's close (RFC 6455 7.1.1: the server should
/// close the TCP connection once the handshake is done, or when it no longer expects it to
/// finish).
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Received {
    Message(Value, &'static str),
    /// Closed, cleanly (`None`) or not (the reason).
    Closed(Option<String>),
    /// The peer broke a rule; we closed with `code` (see [`refusal`]).
    Refused {
        code: u16,
        why: String,
    },
}

impl Received {
    /// What `conn:recv()` returns.
    fn into_values(self, max_message: usize) -> Vec<Value> {
        let closed = |why: String| vec![Value::Nil, "closed".into(), why.into()];
        match self {
            Received::Message(data, kind) => vec![data, kind.into()],
            Received::Closed(None) => vec![Value::Nil, "closed".into()],
            Received::Closed(Some(why)) => closed(why),
            Received::Refused { code: 1009, .. } => closed(format!(
                "message larger than max_message ({})",
                assay_sdk::files::describe_size(max_message as u64)
            )),
            Received::Refused { why, .. } => closed(why),
        }
    }
}

/// The close code (RFC 6455 7.4.1) for a read that failed because the peer broke a rule, if
/// it did: 1009 for a message or frame over `max_message`, 1007 for text that is not UTF-8,
/// 1002 for any other breach of the protocol. A peer that vanished broke none.
fn refusal(e: &WsError) -> Option<u16> {
    match e {
        WsError::Capacity(_) => Some(1009),
        WsError::Utf8(_) => Some(1007),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        WsError::Protocol(_) => Some(1002),
        _ => None,
    }
}

pub struct Conn {
    sink: Mutex<Sending>,
    stream: Mutex<Receiving>,
    /// Becomes true once our close frame is sent: a `recv` waiting in another coroutine then
    /// gives the peer [`CLOSE_HANDSHAKE`] to answer, no more.
    closing: watch::Sender<bool>,
    protocol: Option<String>,
    max_message: usize,
}

/// The sending half (`None` once the connection is shut down) and whether our close frame
/// went (nothing is sent after it).
struct Sending {
    half: Option<SplitSink<Socket, Message>>,
    closed: bool,
}

/// The receiving half (`None` once the connection is shut down) and why it ended, once it
/// has: no more reads after that (the rest of an oversized frame must not be read as frames).
struct Receiving {
    half: Option<SplitStream<Socket>>,
    ended: Option<Received>,
}

impl Conn {
    /// Speaks WebSocket on `upgraded`, refusing frames and messages over `max_message`.
    pub async fn new(upgraded: Upgraded, protocol: Option<String>, max_message: usize) -> Self {
        // A frame's header announces its length: one over the limit is refused before its
        // payload is read, and a message of many frames once the total passes it.
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_message))
            .max_frame_size(Some(max_message));
        let io = TokioIo::new(upgraded);
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        let (sink, stream) = socket.split();
        Self {
            sink: Mutex::new(Sending {
                half: Some(sink),
                closed: false,
            }),
            stream: Mutex::new(Receiving {
                half: Some(stream),
                ended: None,
            }),
            closing: watch::Sender::new(false),
            protocol,
            max_message,
        }
    }

    async fn send(&self, message: Message) -> Result<()> {
        let mut sending = self.sink.lock().await;
        let closed = sending.closed;
        let Some(sink) = sending.half.as_mut().filter(|_| !closed) else {
            return Err(Error::new("the connection is closed"));
        };
        sink.send(message)
            .await
            .map_err(|e| Error::new(format!("the connection is closed ({e})")))
    }

    async fn recv(&self, timeout: Option<Duration>) -> Result<Multi> {
        let mut guard = self.stream.lock().await;
        let receiving = &mut *guard;
        if let Some(ended) = &receiving.ended {
            return Ok(Multi(ended.clone().into_values(self.max_message)));
        }
        let Some(stream) = receiving.half.as_mut() else {
            return Ok(Multi(Received::Closed(None).into_values(self.max_message)));
        };
        let next = async {
            loop {
                return match stream.next().await {
                    None | Some(Ok(Message::Close(_))) => Received::Closed(None),
                    Some(Ok(Message::Text(text))) => {
                        Received::Message(text.as_str().into(), "text")
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        Received::Message((&bytes[..]).into(), "binary")
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                        continue;
                    }
                    Some(Err(e)) => match refusal(&e) {
                        Some(code) => Received::Refused {
                            code,
                            why: e.to_string(),
                        },
                        // A peer that vanished without a close frame (a reset) has closed all
                        // the same; the reason comes third, for logs.
                        None => Received::Closed(Some(e.to_string())),
                    },
                };
            }
        };
        // Once our close frame is sent (by `close` in another coroutine), the peer has
        // CLOSE_HANDSHAKE to answer.
        let mut closing = self.closing.subscribe();
        let unanswered = async move {
            let _ = closing.wait_for(|sent| *sent).await;
            tokio::time::sleep(CLOSE_HANDSHAKE).await;
        };
        let next = async {
            tokio::select! {
                received = next => received,
                () = unanswered => Received::Closed(Some(format!(
                    "the peer did not answer our close frame within {} s",
                    CLOSE_HANDSHAKE.as_secs()
                ))),
            }
        };
        let received = match timeout {
            None => next.await,
            Some(limit) => match tokio::time::timeout(limit, next).await {
                Ok(received) => received,
                Err(_) => return Ok(Multi(vec![Value::Nil, "timeout".into()])),
            },
        };
        match &received {
            Received::Message(..) => {}
            // The close handshake is over (or the peer is gone): close the TCP connection
            // now, not when the handler returns or Lua collects `conn` (sockets used to wait
            // in CLOSE-WAIT).
            Received::Closed(_) => {
                receiving.ended = Some(received.clone());
                self.linger(receiving).await;
            }
            // Nothing more is read as frames: we say why and close.
            Received::Refused { code, .. } => {
                receiving.ended = Some(received.clone());
                let reason = match code {
                    1009 => format!("message too big (max {} bytes)", self.max_message),
                    1007 => "text message is not valid UTF-8".to_owned(),
                    _ => "protocol error".to_owned(),
                };
                self.send_close(*code, reason).await;
                self.linger(receiving).await;
            }
        }
        Ok(Multi(received.into_values(self.max_message)))
    }

    /// Sends our close frame, once (later calls, and a peer already gone, are not errors).
    async fn send_close(&self, code: u16, reason: String) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        // A `send` blocked on a peer that reads nothing holds the lock: bounded too.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
            let mut sending = self.sink.lock().await;
            if std::mem::replace(&mut sending.closed, true) {
                return;
            }
            self.closing.send_replace(true);
            if let Some(sink) = sending.half.as_mut() {
                let _ = sink.send(Message::Close(Some(frame))).await;
            }
        })
        .await;
    }

    /// Ends the connection, given its receiving half: flushes what we sent (our close frame,
    /// or the library's reply to the peer's), shuts down our side and reads, dropping it,
    /// whatever the peer still sends until it closes too, [`CLOSE_HANDSHAKE`] at most. A
    /// socket closed with unread data sends a reset, and the peer, if still sending a large
    /// message, would lose our close frame to it.
    async fn linger(&self, receiving: &mut Receiving) {
        let deadline = Instant::now() + CLOSE_HANDSHAKE;
        let Some(stream) = receiving.half.take() else {
            return;
        };
        receiving.ended.get_or_insert(Received::Closed(None));
        let _ = tokio::time::timeout_at(deadline, async {
            let mut sending = self.sink.lock().await;
            sending.closed = true;
            let Some(mut sink) = sending.half.take() else {
                return;
            };
            drop(sending);
            let _ = sink.close().await;
            let Ok(mut socket) = stream.reunite(sink) else {
                return;
            };
            let io = socket.get_mut();
            let _ = io.shutdown().await;
            let mut discarded = [0; 8 * 1024];
            while io.read(&mut discarded).await.is_ok_and(|n| n > 0) {}
        })
        .await;
    }

    /// Sends a close frame (once; later calls and a closed peer are not errors) and ends the
    /// connection (see [`Self::linger`]). A `recv` waiting in another coroutine gets the
    /// peer's close itself, or gives up after [`CLOSE_HANDSHAKE`], and ends it then.
    pub async fn close(&self, code: u16, reason: String) {
        self.send_close(code, reason).await;
        if let Ok(mut receiving) = self.stream.try_lock() {
            self.linger(&mut receiving).await;
        }
    }
}

fn timeout_arg(args: &Args, pos: usize) -> Result<Option<Duration>> {
    if args.get(pos).is_nil() {
        return Ok(None);
    }
    let seconds = args.float(pos, "timeout")?;
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| args.invalid(pos, "timeout", format!("{seconds} is not a duration")))
}

impl ObjectType for Conn {
    const TYPE_NAME: &'static str = "http.WebSocket";

    fn methods(m: &mut Methods<Self>) {
        m.async_method("send", |this, args| async move {
            args.at_most(1, 0)?;
            let text = args.str(1, "text")?.to_owned();
            this.send(Message::Text(text.into())).await
        });
        m.async_method("send_binary", |this, args| async move {
            args.at_most(1, 0)?;
            let bytes = args.bytes(1, "data")?.to_vec();
            this.send(Message::Binary(bytes.into())).await
        });
        m.async_method("recv", |this, args| async move {
            args.at_most(1, 0)?;
            let timeout = timeout_arg(&args, 1)?;
            this.recv(timeout).await
        });
        m.async_method("close", |this, args| async move {
            args.at_most(2, 0)?;
            let code = match args.opt_int(1, "code")? {
                None => 1000,
                Some(n) => u16::try_from(n)
                    .ok()
                    .filter(|c| (1000..5000).contains(c))
                    .ok_or_else(|| args.invalid(1, "code", format!("{n} is not a close code")))?,
            };
            let reason = args.opt_str(2, "reason")?.unwrap_or("").to_owned();
            this.close(code, reason).await;
            Ok(())
        });
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "protocol" => self.protocol.as_deref().map(Value::from),
            _ => None,
        }
    }
}
