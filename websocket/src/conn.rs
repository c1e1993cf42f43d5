//! [`Conn`]: one WebSocket connection, its two halves behind their own locks.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assay_sdk::{Error, Result, Value};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::{Mutex, MutexGuard, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::ended::{Ended, Failure};
use crate::{Io, Side, Socket};

/// How long a closing side waits for the other's close (RFC 6455 7.1.1: a server should close
/// the TCP connection once the handshake is done, or when it no longer expects it to finish).
pub const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

/// A WebSocket connection as scripts see it (the crate's docs say how it behaves).
pub struct Conn<S: Side> {
    sink: Mutex<Sending>,
    stream: Mutex<Receiving>,
    /// When our close frame went, once it has: reads (in any coroutine) then give the peer
    /// until [`CLOSE_HANDSHAKE`] after it to answer, no more, however much it still sends.
    closing: watch::Sender<Option<Instant>>,
    /// The number of the last ping of ours answered (pings carry their number).
    pongs: watch::Sender<u64>,
    /// The number of the last ping sent.
    pings: AtomicU64,
    protocol: Option<String>,
    max_message: usize,
    side: PhantomData<S>,
}

/// The sending half (`None` once the connection is shut down) and whether our close frame
/// went (nothing is sent after it).
struct Sending {
    half: Option<SplitSink<Socket, Message>>,
    closed: bool,
}

/// The receiving half (`None` once the connection is shut down), the messages a `ping` read
/// for the next `recv`s, and how the connection ended, once it has: no more reads after that
/// (the rest of an oversized frame must not be read as frames).
struct Receiving {
    half: Option<SplitStream<Socket>>,
    queued: VecDeque<(Value, &'static str)>,
    queued_bytes: usize,
    ended: Option<Ended>,
}

/// What one read gave.
enum Event {
    Message(Value, &'static str),
    Pong,
    End(Failure),
}

impl<S: Side> Conn<S> {
    /// Speaks WebSocket on `io`, whose handshake is done, as `role`.
    pub async fn from_raw(
        io: impl Io,
        role: Role,
        protocol: Option<String>,
        max_message: usize,
    ) -> Self {
        let io: Box<dyn Io> = Box::new(io);
        let config = crate::config(max_message);
        let socket = WebSocketStream::from_raw_socket(io, role, Some(config)).await;
        Self::from_socket(socket, protocol, max_message)
    }

    /// Takes over a connection a client handshake made (with [`crate::config`]`(max_message)`).
    pub fn from_socket(socket: Socket, protocol: Option<String>, max_message: usize) -> Self {
        let (sink, stream) = socket.split();
        Self {
            sink: Mutex::new(Sending {
                half: Some(sink),
                closed: false,
            }),
            stream: Mutex::new(Receiving {
                half: Some(stream),
                queued: VecDeque::new(),
                queued_bytes: 0,
                ended: None,
            }),
            closing: watch::Sender::new(None),
            pongs: watch::Sender::new(0),
            pings: AtomicU64::new(0),
            protocol,
            max_message,
            side: PhantomData,
        }
    }

    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Sends `message`. Once the connection is closing, a send still waiting (for the lock,
    /// or for a peer that stopped reading to take the bytes) gives up when the close handshake's
    /// time is over, dropping the sending half: the socket is closed then, not left to a peer
    /// that never reads.
    pub(crate) async fn send(&self, message: Message) -> Result<()> {
        let closed = || Error::new("the connection is closed");
        if self.closing.borrow().is_some() {
            return Err(closed());
        }
        let mut sending = tokio::select! {
            biased;
            sending = self.sink.lock() => sending,
            () = self.close_deadline() => return Err(closed()),
        };
        let closed_already = sending.closed;
        let Some(sink) = sending.half.as_mut().filter(|_| !closed_already) else {
            return Err(closed());
        };
        let sent = tokio::select! {
            biased;
            sent = sink.send(message) => sent,
            () = self.close_deadline() => {
                sending.half = None;
                sending.closed = true;
                return Err(Error::new(
                    "the connection is closed (the peer stopped reading what we sent)",
                ));
            }
        };
        sent.map_err(|e| Error::new(format!("the connection is closed ({e})")))
    }

    /// Resolves [`CLOSE_HANDSHAKE`] after our close frame went (or was due to go); never
    /// before it.
    fn close_deadline(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let sent = match closing.wait_for(Option::is_some).await {
                Ok(sent) => *sent,
                Err(_) => None,
            };
            match sent {
                Some(sent) => tokio::time::sleep_until(sent + CLOSE_HANDSHAKE).await,
                None => std::future::pending().await,
            }
        }
    }

    /// Whether the close handshake's time is over.
    fn close_overdue(&self) -> bool {
        self.closing
            .borrow()
            .is_some_and(|sent| sent.elapsed() >= CLOSE_HANDSHAKE)
    }

    /// The next message, or how the connection ended, or `nil, "timeout"` past `timeout`.
    pub async fn recv(&self, timeout: Option<Duration>) -> Vec<Value> {
        let deadline = timeout.and_then(|limit| Instant::now().checked_add(limit));
        let timed_out = || vec![Value::Nil, "timeout".into()];
        let Some(mut receiving) = within(deadline, self.stream.lock()).await else {
            return timed_out();
        };
        if let Some((message, kind)) = receiving.queued.pop_front() {
            receiving.queued_bytes -= message.as_bytes().map_or(0, <[u8]>::len);
            return vec![message, kind.into()];
        }
        loop {
            if let Some(ended) = &receiving.ended {
                return ended.values();
            }
            let Some(stream) = receiving.half.as_mut() else {
                return Ended::abnormally("the connection is shut down").values();
            };
            // Only the wait is bounded by `timeout`: ending the connection, once it ended, is
            // not cut short.
            match within(deadline, self.next_event(stream)).await {
                None => return timed_out(),
                Some(Event::Message(message, kind)) => return vec![message, kind.into()],
                Some(Event::Pong) => {}
                Some(Event::End(failure)) => self.end(&mut receiving, failure).await,
            }
        }
    }

    /// Pings the peer and waits for the pong: the round trip in seconds, or `nil, "timeout"`,
    /// or `nil, "closed", code, reason`.
    pub async fn ping(&self, timeout: Duration) -> Vec<Value> {
        let number = self.pings.fetch_add(1, Ordering::Relaxed) + 1;
        let start = Instant::now();
        let deadline = start.checked_add(timeout);
        let ping = Message::Ping(number.to_be_bytes().to_vec().into());
        // A send stuck behind a peer that stopped reading is what a ping is there to notice.
        match within(deadline, self.send(ping)).await {
            None => return vec![Value::Nil, "timeout".into()],
            Some(Err(_)) => return self.ended().await.values(),
            Some(Ok(())) => {}
        }
        let mut pongs = self.pongs.subscribe();
        let answered = async {
            // Whoever reads sees the pong: a `recv` in another coroutine, or we ourselves
            // when nobody reads.
            let receiving = tokio::select! {
                _ = pongs.wait_for(|&n| n >= number) => return None,
                receiving = self.stream.lock() => receiving,
            };
            match self.read_until_pong(receiving, number).await {
                Some(Ok(())) => None,
                Some(Err(ended)) => Some(ended),
                // The queue is full: wait for a `recv` to read (and so for the pong).
                None => {
                    let _ = pongs.wait_for(|&n| n >= number).await;
                    None
                }
            }
        };
        match within(deadline, answered).await {
            None => vec![Value::Nil, "timeout".into()],
            Some(Some(ended)) => ended.values(),
            Some(None) => vec![Value::Float(start.elapsed().as_secs_f64())],
        }
    }

    /// Reads, keeping messages for later `recv`s, until the pong of ping `number` (`Ok`), the
    /// end of the connection (`Err`), or the queue holds `max_message` bytes (`None`).
    async fn read_until_pong(
        &self,
        mut receiving: MutexGuard<'_, Receiving>,
        number: u64,
    ) -> Option<std::result::Result<(), Ended>> {
        loop {
            if *self.pongs.borrow() >= number {
                return Some(Ok(()));
            }
            if let Some(ended) = &receiving.ended {
                return Some(Err(ended.clone()));
            }
            if receiving.queued_bytes >= self.max_message {
                return None;
            }
            let Some(stream) = receiving.half.as_mut() else {
                return Some(Err(Ended::abnormally("the connection is shut down")));
            };
            match self.next_event(stream).await {
                Event::Message(message, kind) => receiving.queue(message, kind),
                Event::Pong => {}
                Event::End(failure) => self.end(&mut receiving, failure).await,
            }
        }
    }

    /// How the connection ended, reading to its end (bounded by the close handshake) if our
    /// close frame is out but the peer's reply has not been read yet.
    async fn ended(&self) -> Ended {
        let mut receiving = self.stream.lock().await;
        self.read_to_end(&mut receiving).await
    }

    /// Reads until the connection ends, keeping messages for later `recv`s (while the queue
    /// has room), then ends it.
    async fn read_to_end(&self, receiving: &mut Receiving) -> Ended {
        loop {
            if let Some(ended) = &receiving.ended {
                return ended.clone();
            }
            let Some(stream) = receiving.half.as_mut() else {
                return Ended::abnormally("the connection is shut down");
            };
            if self.closing.borrow().is_none() {
                // The peer may never close on its own: close first (which bounds the reads).
                self.send_close(close_frame(1000, String::new())).await;
                continue;
            }
            // A peer that goes on sending after our close frame is not read forever.
            let event = match self.close_overdue() {
                true => Event::End(Failure {
                    ended: unanswered(),
                    owed: None,
                }),
                false => self.next_event(stream).await,
            };
            match event {
                Event::Message(message, kind) if receiving.queued_bytes < self.max_message => {
                    receiving.queue(message, kind);
                }
                Event::Message(..) | Event::Pong => {}
                Event::End(failure) => self.end(receiving, failure).await,
            }
        }
    }

    /// One read: a message, a pong of ours, or the end (the peer's close, a failure, or our
    /// close left unanswered for [`CLOSE_HANDSHAKE`]). Cancel-safe.
    async fn next_event(&self, stream: &mut SplitStream<Socket>) -> Event {
        let read = async {
            loop {
                return match stream.next().await {
                    None => Event::End(Failure {
                        ended: Ended::abnormally("the connection ended without a close frame"),
                        owed: None,
                    }),
                    Some(Ok(Message::Close(frame))) => Event::End(Failure {
                        ended: Ended::by_peer(frame),
                        owed: None,
                    }),
                    Some(Ok(Message::Text(text))) => Event::Message(text.as_str().into(), "text"),
                    Some(Ok(Message::Binary(bytes))) => {
                        Event::Message((&bytes[..]).into(), "binary")
                    }
                    Some(Ok(Message::Pong(payload))) => {
                        let sent = self.pings.load(Ordering::Relaxed);
                        if let Some(number) = answered_ping(&payload, sent) {
                            self.pongs.send_if_modified(|last| {
                                let newer = number > *last;
                                *last = (*last).max(number);
                                newer
                            });
                        }
                        Event::Pong
                    }
                    Some(Ok(Message::Ping(_) | Message::Frame(_))) => continue,
                    Some(Err(e)) => Event::End(Failure::of(&e, self.max_message)),
                };
            }
        };
        // What has arrived is read first: the peer's close reply may be waiting already.
        tokio::select! {
            biased;
            event = read => event,
            () = self.close_deadline() => Event::End(Failure {
                ended: unanswered(),
                owed: None,
            }),
        }
    }

    /// The connection ended: records how, sends the close frame we owe, and shuts it down.
    async fn end(&self, receiving: &mut Receiving, failure: Failure) {
        receiving.ended = Some(failure.ended);
        if let Some(frame) = failure.owed {
            self.send_close(frame).await;
        }
        self.linger(receiving).await;
    }

    /// Sends our close frame, once (later calls, and a peer already gone, are not errors).
    async fn send_close(&self, frame: Message) {
        // From now on the peer has CLOSE_HANDSHAKE to answer, even if the frame cannot go.
        self.closing.send_if_modified(|sent| {
            let first = sent.is_none();
            sent.get_or_insert_with(Instant::now);
            first
        });
        // A `send` blocked on a peer that reads nothing holds the lock: bounded too.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
            let mut sending = self.sink.lock().await;
            if std::mem::replace(&mut sending.closed, true) {
                return;
            }
            if let Some(sink) = sending.half.as_mut() {
                let _ = sink.send(frame).await;
            }
        })
        .await;
    }

    /// Shuts the connection down once it ended (see [`shut_down`]).
    async fn linger(&self, receiving: &mut Receiving) {
        let deadline = Instant::now() + CLOSE_HANDSHAKE;
        let Some(stream) = receiving.half.take() else {
            return;
        };
        let _ = tokio::time::timeout_at(deadline, async {
            let mut sending = self.sink.lock().await;
            sending.closed = true;
            let Some(sink) = sending.half.take() else {
                return;
            };
            drop(sending);
            shut_down(sink, stream).await;
        })
        .await;
    }

    /// Sends a close frame (once; later calls and a closed peer are not errors), waits for the
    /// peer's ([`CLOSE_HANDSHAKE`] at most) and shuts the connection down. A `recv` waiting in
    /// another coroutine gets the peer's close itself, and ends the connection then.
    pub async fn close(&self, code: u16, reason: String) {
        self.send_close(close_frame(code, reason)).await;
        // A `recv` waiting in another coroutine reads the reply and ends the connection; if it
        // stops waiting first (its timeout), we read it.
        let reading = tokio::select! {
            biased;
            receiving = self.stream.lock() => Some(receiving),
            () = self.close_deadline() => None,
        };
        if let Some(mut receiving) = reading {
            self.read_to_end(&mut receiving).await;
        }
    }
}

impl Receiving {
    fn queue(&mut self, message: Value, kind: &'static str) {
        self.queued_bytes += message.as_bytes().map_or(0, <[u8]>::len);
        self.queued.push_back((message, kind));
    }
}

/// The number of the ping of ours a pong's `payload` answers, if it does: our pings carry their
/// number (8 bytes), and only one we sent (`1..=sent`) counts. An unsolicited pong (a peer's
/// heartbeat) proves nothing about the pings.
fn answered_ping(payload: &[u8], sent: u64) -> Option<u64> {
    let number = u64::from_be_bytes(<[u8; 8]>::try_from(payload).ok()?);
    (1..=sent).contains(&number).then_some(number)
}

/// How a connection ended whose peer did not answer our close frame in time.
fn unanswered() -> Ended {
    Ended::abnormally(format!(
        "the peer did not answer our close frame within {} s",
        CLOSE_HANDSHAKE.as_secs()
    ))
}

fn close_frame(code: u16, reason: String) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

/// Ends a connection given its halves: flushes what we sent (our close frame, or the library's
/// reply to the peer's), shuts down our side and reads, dropping it, whatever the peer still
/// sends until it closes too. A socket closed with unread data sends a reset, and the peer, if
/// still sending a large message, would lose our close frame to it. The caller bounds it.
async fn shut_down(mut sink: SplitSink<Socket, Message>, stream: SplitStream<Socket>) {
    let _ = sink.close().await;
    let Ok(mut socket) = stream.reunite(sink) else {
        return;
    };
    let io = socket.get_mut();
    let _ = io.shutdown().await;
    let mut discarded = [0; 8 * 1024];
    while io.read(&mut discarded).await.is_ok_and(|n| n > 0) {}
}

/// `future`'s output, or `None` once `deadline` (if any) passed.
async fn within<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        None => Some(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
    }
}

/// A conn the script let go of without closing it (`<close>`, or collected) closes with 1000,
/// in a task of its own on the plugin's runtime. A socket made on the script thread's reactor
/// is driven only while a script runs there: one dropped as the script ends is closed by the
/// operating system instead (the peer sees 1006).
impl<S: Side> Drop for Conn<S> {
    fn drop(&mut self) {
        let sending = self.sink.get_mut();
        if sending.closed {
            return;
        }
        let (Some(mut sink), Some(stream)) =
            (sending.half.take(), self.stream.get_mut().half.take())
        else {
            return;
        };
        let close = async move {
            let _ = tokio::time::timeout(2 * CLOSE_HANDSHAKE, async {
                let _ = sink.send(close_frame(1000, String::new())).await;
                shut_down(sink, stream).await;
            })
            .await;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(close)),
            Err(_) => drop(assay_sdk::runtime().spawn(close)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pongs_carrying_a_number_we_sent_answer() {
        assert_eq!(answered_ping(&3u64.to_be_bytes(), 5), Some(3));
        assert_eq!(answered_ping(&5u64.to_be_bytes(), 5), Some(5));
        assert_eq!(answered_ping(&6u64.to_be_bytes(), 5), None);
        assert_eq!(answered_ping(&[0xff; 8], 5), None);
        assert_eq!(answered_ping(&0u64.to_be_bytes(), 5), None);
        assert_eq!(answered_ping(b"short", 5), None);
    }
}
