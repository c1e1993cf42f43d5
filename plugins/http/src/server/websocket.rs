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

use std::time::Duration;

use assay_sdk::{Args, Error, Methods, Multi, ObjectType, Result, Value};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;

enum Received {
    Message(Value, &'static str),
    /// Closed, cleanly (`None`) or not (the reason).
    Closed(Option<String>),
}

pub struct Conn {
    sink: Mutex<SplitSink<WebSocket, Message>>,
    stream: Mutex<SplitStream<WebSocket>>,
    protocol: Option<String>,
}

impl Conn {
    pub fn new(socket: WebSocket, protocol: Option<String>) -> Self {
        let (sink, stream) = socket.split();
        Self {
            sink: Mutex::new(sink),
            stream: Mutex::new(stream),
            protocol,
        }
    }

    async fn send(&self, message: Message) -> Result<()> {
        self.sink
            .lock()
            .await
            .send(message)
            .await
            .map_err(|e| Error::new(format!("the connection is closed ({e})")))
    }

    async fn recv(&self, timeout: Option<Duration>) -> Result<Multi> {
        let mut stream = self.stream.lock().await;
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
                    // A peer that vanished without a close frame (a reset, a protocol breach)
                    // has closed all the same; the reason comes third, for logs.
                    Some(Err(e)) => Received::Closed(Some(e.to_string())),
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
        Ok(Multi(match received {
            Received::Message(data, kind) => vec![data, kind.into()],
            Received::Closed(None) => vec![Value::Nil, "closed".into()],
            Received::Closed(Some(why)) => vec![Value::Nil, "closed".into(), why.into()],
        }))
    }

    /// Sends a close frame (once; later calls and a closed peer are not errors).
    pub async fn close(&self, code: u16, reason: String) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        };
        let mut sink = self.sink.lock().await;
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
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
