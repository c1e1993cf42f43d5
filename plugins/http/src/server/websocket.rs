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
//! Pings are answered by the library. When the function returns, the connection is closed.
//! Sending and receiving are separate halves, so one coroutine may wait in `recv` while
//! another sends.
//!
//! Messages are bounded: a message (or a frame) larger than the server's `max_message` option
//! (default 1 MiB, as Python `websockets`; never more than the script's memory limit) is not
//! read: the connection is closed with code 1009 (message too big) and `recv` returns
//! `nil, "closed", "message larger than max_message (1 MiB)"`. A frame announcing a larger
//! length is refused from its header, before its payload arrives.

use std::time::Duration;

use assay_sdk::{Args, Error, Methods, Multi, ObjectType, Result, Value};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;

/// How long a closing side waits for the other's close frame (RFC 6455 7.1.1: the server
/// should close the TCP connection once the handshake is done, or when it no longer expects
/// it to finish).
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Received {
    Message(Value, &'static str),
    /// Closed, cleanly (`None`) or not (the reason).
    Closed(Option<String>),
    /// The peer broke a rule; we closed with `code`: 1009 for a message or frame over
    /// `max_message`, 1002 for a protocol error, 1007 for text that is not UTF-8.
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

/// The close code for a read that failed because the peer broke a rule, if it did. axum hides
/// tungstenite's error type behind its own, so its text decides: "Message too long" (the
/// size limit, 1009), "UTF-8 encoding error" (1007), "WebSocket protocol error" (1002). The
/// WebSocket tests check each code, so a change of those texts cannot pass unnoticed.
fn refusal(e: &axum::Error) -> Option<u16> {
    let text = e.to_string();
    if text.contains("Message too long") {
        Some(1009)
    } else if text.contains("UTF-8 encoding error") {
        Some(1007)
    } else if text.contains("WebSocket protocol error") {
        Some(1002)
    } else {
        None
    }
}

pub struct Conn {
    /// The sending half; `None` once the connection is shut down.
    sink: Mutex<Option<SplitSink<WebSocket, Message>>>,
    stream: Mutex<Receiving>,
    protocol: Option<String>,
    max_message: usize,
}

/// The receiving half (`None` once dropped) and why it ended, once it has: no more reads after
/// that (the rest of an oversized frame must not be read as frames).
struct Receiving {
    stream: Option<SplitStream<WebSocket>>,
    ended: Option<Received>,
}

impl Conn {
    pub fn new(socket: WebSocket, protocol: Option<String>, max_message: usize) -> Self {
        let (sink, stream) = socket.split();
        Self {
            sink: Mutex::new(Some(sink)),
            stream: Mutex::new(Receiving {
                stream: Some(stream),
                ended: None,
            }),
            protocol,
            max_message,
        }
    }

    async fn send(&self, message: Message) -> Result<()> {
        let mut sink = self.sink.lock().await;
        let Some(sink) = sink.as_mut() else {
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
        let Some(stream) = receiving.stream.as_mut() else {
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
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
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
        let received = match timeout {
            None => next.await,
            Some(limit) => match tokio::time::timeout(limit, next).await {
                Ok(received) => received,
                Err(_) => return Ok(Multi(vec![Value::Nil, "timeout".into()])),
            },
        };
        match received {
            Received::Message(..) => {}
            Received::Closed(_) => {
                receiving.ended = Some(received.clone());
                // The close handshake is over (or the peer is gone): flush our close reply
                // and drop both halves, closing the TCP connection now, not when the handler
                // returns or Lua collects `conn` (sockets used to wait in CLOSE-WAIT).
                receiving.stream = None;
                if let Some(mut sink) = self.sink.lock().await.take() {
                    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, sink.close()).await;
                }
            }
            Received::Refused { code, .. } => {
                receiving.ended = Some(received.clone());
                // RFC 6455 7.4.1: 1009, a message too big to process; 1002, a protocol error;
                // 1007, data inconsistent with its type. Nothing more is read or sent: both
                // halves go, and with them the TCP connection, so a peer that keeps sending
                // is not buffered for.
                let reason = match code {
                    1009 => format!("message too big (max {} bytes)", self.max_message),
                    1007 => "text message is not valid UTF-8".to_owned(),
                    _ => "protocol error".to_owned(),
                };
                self.close(code, reason).await;
                receiving.stream = None;
                self.sink.lock().await.take();
            }
        }
        Ok(Multi(received.into_values(self.max_message)))
    }

    /// Sends a close frame (once; later calls and a closed peer are not errors), then waits
    /// (at most [`CLOSE_HANDSHAKE`]) for the peer's close and drops the connection. A `recv`
    /// waiting in another coroutine gets the peer's close itself, and drops it then.
    pub async fn close(&self, code: u16, reason: String) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        };
        if let Some(mut sink) = self.sink.lock().await.take() {
            let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
                let _ = sink.send(Message::Close(Some(frame))).await;
                let _ = sink.close().await;
            })
            .await;
        }
        if let Ok(mut receiving) = self.stream.try_lock() {
            if let Some(stream) = receiving.stream.as_mut() {
                // Whatever the peer still sends before its close is dropped: we closed.
                let drain = async {
                    while let Some(Ok(message)) = stream.next().await {
                        if matches!(message, Message::Close(_)) {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(CLOSE_HANDSHAKE, drain).await;
            }
            receiving.stream = None;
            receiving.ended.get_or_insert(Received::Closed(None));
        }
    }

    /// The handler returned: closes (1000) and drops both halves, which closes the TCP
    /// connection now rather than when Lua collects `conn`. A receive still waiting in a task
    /// the handler spawned keeps its half until it returns.
    pub async fn finish(&self) {
        self.close(1000, String::new()).await;
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
            let text = args.str(1, "text")?.to_owned();
            this.send(Message::Text(text.into())).await
        });
        m.async_method("send_binary", |this, args| async move {
            let bytes = args.bytes(1, "data")?.to_vec();
            this.send(Message::Binary(bytes.into())).await
        });
        m.async_method("recv", |this, args| async move {
            let timeout = timeout_arg(&args, 1)?;
            this.recv(timeout).await
        });
        m.async_method("close", |this, args| async move {
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
