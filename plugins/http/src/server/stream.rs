//! Streamed response bodies: a handler returns `{status, headers, stream = function(body) ...
//! end}` and writes the body piece by piece while the client reads it (a Kubernetes watch,
//! followed logs, server-sent events, a large generated download).
//!
//! - The head goes out at once; then the server calls `stream(body)` as a coroutine (as it
//!   runs a `{websocket = fn}` route's function) and sends what it writes chunked.
//! - `body:write(chunk)` (a string; `""` does nothing) waits until the chunk is queued for the
//!   connection. The queue is bounded ([`IN_FLIGHT`] bytes, [`QUEUED_CHUNKS`] chunks; one
//!   larger chunk goes alone): a client that stops reading stops the producer at its next
//!   write instead of growing memory, as a Node stream's `write` asks to wait for `drain`.
//! - The client gone (its connection closed): `write` raises `http.server: the client closed
//!   the connection`, so loops and `<close>` variables end. The function learns it at its
//!   next write (a producer that waits long between writes should send heartbeats, as a
//!   Kubernetes watch sends bookmarks). Not logged: a client leaving is no error.
//! - The server stopping (`server:stop()`, SIGTERM): the body ends at once on the wire with
//!   what was already queued (the client sees a complete response and can re-watch, as the
//!   Kubernetes API server ends its watches), and `write` raises `http.server: the server is
//!   stopping`. Unlike Go's `Shutdown`, which waits for a handler that may sleep between
//!   writes for the whole grace period, a stop is not held up by an open stream. The function
//!   has the server's grace period to return; then its coroutine is dropped (its `<close>`
//!   variables run), as a WebSocket handler's is.
//! - The function returns: the body ends (its last chunk). It raises anything else: the log
//!   line `stream raised an error` (route and error) and the body is aborted (no last chunk,
//!   the connection closes), so the client sees a truncated transfer, never a body that looks
//!   complete.
//! - The server's `timeout` bounds the handler that produces the response, not the stream: a
//!   watch lasts minutes.
//! - A HEAD request gets the head and the function is not called; nor is it when `after`
//!   replaces the body (see `middleware.rs`).
//! - `body.closed`: whether writes raise from now on (the client gone, the server stopping,
//!   the function returned).
//!
//! Speed: a write that finds room completes inline, in the same turn (see
//! `assay_sdk::Methods::async_method`); chunks queued together leave as one piece (see
//! [`StreamBody::gather`]), so a producer ahead of its client waits once per batch. The call
//! does not hold the server's spin (`spin.rs`) as a handler's call does: a watch open for
//! minutes would keep a core busy the whole time, and its writes need no round trip.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use assay_sdk::{Callback, Error, Methods, Object, ObjectType, Value};
use axum::body::{Body, HttpBody};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use bytes::BytesMut;
use hyper::body::{Bytes, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::lifecycle::Shutdown;
use super::log;
use super::middleware::Streamed;
use super::request;
use super::response::{self, HttpResponse};

/// Bytes queued between the function and the connection (a chunk larger than this is queued
/// alone).
pub const IN_FLIGHT: usize = 64 * 1024;
/// Chunks queued: many tiny writes are bounded too.
pub const QUEUED_CHUNKS: usize = 64;

pub const CLIENT_CLOSED: &str = "http.server: the client closed the connection";
pub const STOPPING: &str = "http.server: the server is stopping";
const ENDED: &str =
    "http.server: the response has ended (write to body inside its stream function only)";

/// Why writes fail from now on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Closed {
    Open,
    Client,
    Stopping,
    Ended,
}

impl Closed {
    fn message(self) -> &'static str {
        match self {
            Closed::Open | Closed::Client => CLIENT_CLOSED,
            Closed::Stopping => STOPPING,
            Closed::Ended => ENDED,
        }
    }
}

/// What the function's `body` and the connection's end share.
struct Shared {
    closed: AtomicU8,
    /// Bytes that may be queued; closed with the stream, which wakes waiting writes.
    budget: Arc<Semaphore>,
}

impl Shared {
    fn closed(&self) -> Closed {
        match self.closed.load(Ordering::Acquire) {
            0 => Closed::Open,
            1 => Closed::Client,
            2 => Closed::Stopping,
            _ => Closed::Ended,
        }
    }

    /// Closes an open stream for `why` (the first reason stays) and wakes waiting writes.
    fn close(&self, why: Closed) {
        let _ = self.closed.compare_exchange(
            Closed::Open as u8,
            why as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        self.budget.close();
    }

    fn error(&self) -> Error {
        Error::new(self.closed().message())
    }
}

/// What goes from the function to the connection, in order.
enum Item {
    /// The permit returns the chunk's bytes to the budget once the connection took it.
    Chunk(Bytes, OwnedSemaphorePermit),
    /// The function returned.
    End,
    /// The function raised: the body must not look complete.
    Abort,
}

/// The `body` a stream function writes to.
pub struct ResponseStream {
    queue: mpsc::Sender<Item>,
    shared: Arc<Shared>,
}

impl ObjectType for ResponseStream {
    const TYPE_NAME: &'static str = "http.ResponseStream";

    fn methods(m: &mut Methods<Self>) {
        m.async_method("write", |this, mut args| async move {
            args.at_most(1, 0)?;
            if args.get(1).as_bytes().is_none() {
                return Err(args.bad(1, "chunk", "string"));
            }
            let Value::Str(chunk) = args.take(1) else {
                unreachable!("checked to be a string")
            };
            this.write(chunk.into_vec()).await
        });
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "closed" => Some(Value::Bool(self.shared.closed() != Closed::Open)),
            _ => None,
        }
    }
}

impl ResponseStream {
    async fn write(&self, chunk: Vec<u8>) -> assay_sdk::Result<()> {
        if self.shared.closed() != Closed::Open {
            return Err(self.shared.error());
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let share = u32::try_from(chunk.len().min(IN_FLIGHT)).unwrap_or(u32::MAX);
        let permit = self
            .shared
            .budget
            .clone()
            .acquire_many_owned(share)
            .await
            .map_err(|_| self.shared.error())?;
        self.queue
            .send(Item::Chunk(Bytes::from(chunk), permit))
            .await
            .map_err(|_| self.shared.error())
    }
}

/// The response for a handler's `{stream = function}` answer: `head` with a body that calls
/// `function` once the connection first asks for it.
pub fn respond(
    mut head: HttpResponse,
    function: Callback,
    shutdown: &Shutdown,
    parts: &Parts,
    route: &str,
) -> HttpResponse {
    head.extensions_mut().insert(Streamed::Function);
    if parts.method == Method::HEAD {
        // The head only: the function would produce a body nobody reads.
        *head.body_mut() = response::empty(StatusCode::NO_CONTENT).into_body();
        return head;
    }
    let (queue, receiver) = mpsc::channel(QUEUED_CHUNKS);
    let shared = Arc::new(Shared {
        closed: AtomicU8::new(Closed::Open as u8),
        budget: Arc::new(Semaphore::new(IN_FLIGHT)),
    });
    let stopping = shutdown.clone();
    let producer = Producer {
        function,
        queue,
        shared: shared.clone(),
        shutdown: shutdown.clone(),
        method: parts.method.to_string(),
        path: request::original_uri(parts).path().to_owned(),
        route: route.to_owned(),
    };
    *head.body_mut() = Body::new(StreamBody {
        producer: Some(producer),
        receiver,
        stashed: None,
        stopping: Box::pin(async move { stopping.stopping().await }),
        shared,
        aborting: false,
        finished: false,
    });
    head
}

/// The function and what running it needs; started by the body's first poll.
struct Producer {
    function: Callback,
    queue: mpsc::Sender<Item>,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    method: String,
    path: String,
    route: String,
}

impl Producer {
    async fn run(self) {
        let body = ResponseStream {
            queue: self.queue.clone(),
            shared: self.shared.clone(),
        };
        let call = self.function.call(vec![Value::Object(Object::new(body))]);
        tokio::pin!(call);
        // A stopping server has already ended the body; the function has the grace period to
        // return, then the call is dropped (the host closes its coroutine).
        let result = tokio::select! {
            result = &mut call => result,
            () = self.shutdown.killed() => return,
        };
        let why = self.shared.closed();
        let last = match result {
            Ok(_) => Item::End,
            // A write that raised because the client left or the server stops, passed on.
            Err(e)
                if matches!(why, Closed::Client | Closed::Stopping)
                    && e.message().contains(why.message()) =>
            {
                Item::End
            }
            Err(e) => {
                log::error(
                    "stream raised an error",
                    &[
                        ("method", &self.method),
                        ("path", &self.path),
                        ("route", &self.route),
                        ("error", e.message()),
                    ],
                );
                Item::Abort
            }
        };
        self.shared.close(Closed::Ended);
        // Fails when the connection is gone: nobody is left to tell.
        let _ = self.queue.send(last).await;
    }
}

/// The streamed body as hyper sends it.
struct StreamBody {
    /// Taken (and started) at the first poll: hyper polls a body once the head is written.
    producer: Option<Producer>,
    receiver: mpsc::Receiver<Item>,
    /// The end (or abort) met while gathering chunks, for the next poll.
    stashed: Option<Item>,
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
    shared: Arc<Shared>,
    /// The function raised: the body fails at the next poll.
    aborting: bool,
    finished: bool,
}

/// The stream function raised: the body is cut short.
#[derive(Debug, thiserror::Error)]
#[error("the stream function raised an error")]
struct Aborted;

impl StreamBody {
    /// `first` and the chunks queued behind it (up to [`IN_FLIGHT`] bytes) as one piece: a
    /// producer faster than its client then waits for room once per batch rather than once
    /// per chunk (each wait is a round trip between threads when the server runs on the
    /// plugin's own runtime: 200,000 small writes took 30 s without this, 0.4 s with it). Nothing
    /// waits for more: only what is already queued is gathered.
    fn gather(&mut self, first: Bytes) -> Bytes {
        let mut batch: Option<BytesMut> = None;
        while batch.as_ref().map_or(first.len(), BytesMut::len) < IN_FLIGHT {
            match self.receiver.try_recv() {
                Ok(Item::Chunk(bytes, _permit)) => batch
                    .get_or_insert_with(|| BytesMut::from(&first[..]))
                    .extend_from_slice(&bytes),
                Ok(last) => {
                    self.stashed = Some(last);
                    break;
                }
                Err(_) => break,
            }
        }
        batch.map_or(first, BytesMut::freeze)
    }
}

impl HttpBody for StreamBody {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        if this.aborting {
            this.finished = true;
            return Poll::Ready(Some(Err(Aborted)));
        }
        if this.shared.closed() == Closed::Open && this.stopping.as_mut().poll(cx).is_ready() {
            // What is queued still goes out; nothing more is taken.
            this.shared.close(Closed::Stopping);
            this.receiver.close();
        }
        // Not started once the server stops: its first write would raise.
        if let Some(producer) = this.producer.take()
            && this.shared.closed() == Closed::Open
        {
            tokio::spawn(producer.run());
        }
        let item = match this.stashed.take() {
            Some(item) => item,
            None => match this.receiver.poll_recv(cx) {
                Poll::Ready(Some(item)) => item,
                // Every sender gone: the producer ended (or was dropped) after the stop.
                Poll::Ready(None) => Item::End,
                Poll::Pending => return Poll::Pending,
            },
        };
        match item {
            Item::Chunk(bytes, _permit) => Poll::Ready(Some(Ok(Frame::data(this.gather(bytes))))),
            Item::End => {
                this.finished = true;
                Poll::Ready(None)
            }
            Item::Abort => {
                // hyper drops what it holds unsent when a body fails: wait a turn, in which it
                // flushes the chunks written before the error, then fail.
                this.aborting = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        // Sent, or the connection is gone: a write from now on raises.
        self.shared.close(Closed::Client);
    }
}
