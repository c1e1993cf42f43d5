//! Accepting and serving connections (HTTP/1.1 with upgrades), with the bounds a server that
//! faces the network needs:
//!
//! - **`header_timeout`** (default 30 s): a client has this long to send a request's complete
//!   head, counted from the accept for the first request and from its first byte for later
//!   ones; a connection that trickles a head slower is closed.
//! - **`idle_timeout`** (default 75 s, nginx's `keepalive_timeout`, above the 60 s idle timeout
//!   of common load balancers, which must close first): a kept-alive connection with no
//!   request for this long is closed.
//! - **`max_connections`** (default 1024, and never more than the process's open-file limit
//!   leaves room for): at the cap, accepting a connection closes the longest idle one (no
//!   request in flight), as nginx reuses keep-alive connections when it runs out; when every
//!   connection is busy, new ones wait in the listen queue. Idle clients cannot starve
//!   working ones.
//!
//! Stopping (`stop()`, SIGTERM): the listener closes at once, idle connections close, requests
//! in flight finish and their connections close after the response; `grace` after the stop,
//! whatever is left is dropped: its handler's Lua call ends (the host closes the coroutine)
//! and its TCP connection closes. WebSocket connections leave this module once upgraded (see
//! `websocket.rs` for their part of a stop).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower_service::Service as _;

use super::log;

/// The connection bounds, from the server's options.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// File descriptors kept for everything else the process opens (files, clients, plugins).
const RESERVED_FDS: u64 = 64;

/// `wanted`, lowered to what the open-file limit (`ulimit -n`) leaves room for.
pub fn fd_capped(wanted: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return wanted;
    }
    within_fds(wanted, limit.rlim_cur)
}

/// `wanted`, at most the open-file limit `fds` less what the rest of the process needs.
fn within_fds(wanted: usize, fds: u64) -> usize {
    let room = fds.saturating_sub(RESERVED_FDS).max(1);
    wanted.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// What one connection's task and the accept loop know of it.
struct Conn {
    /// Requests whose response is not yet sent (see [`UntilSent`]).
    in_flight: AtomicUsize,
    /// Milliseconds since `epoch` of the last byte read or response sent.
    last_active: AtomicU64,
    /// Milliseconds since `epoch` when the current request's head started arriving (0: none).
    head_started: AtomicU64,
    epoch: Instant,
    /// Asks the connection to close (evicted to make room).
    evict: Notify,
}

impl Conn {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            epoch: Instant::now(),
            evict: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        // At least 1: 0 means "not started".
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn read_some(&self) {
        let now = self.now();
        self.last_active.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self
                .head_started
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
    }

    fn request_done(&self) {
        self.last_active.store(self.now(), Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Why the connection should close now, if it should.
    fn expired(&self, limits: &Limits) -> Option<Expired> {
        if !self.is_idle() {
            return None;
        }
        let now = self.now();
        let started = self.head_started.load(Ordering::Acquire);
        if started > 0 {
            let waited = Duration::from_millis(now.saturating_sub(started));
            return (waited >= limits.header_timeout).then_some(Expired::Header);
        }
        let idle =
            Duration::from_millis(now.saturating_sub(self.last_active.load(Ordering::Relaxed)));
        (idle >= limits.idle_timeout).then_some(Expired::Idle)
    }
}

/// Why a connection is closed without a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expired {
    /// A request head arrived slower than `header_timeout`.
    Header,
    /// No request for `idle_timeout`.
    Idle,
}

/// How long an idle connection asked to close may take to do so.
const EVICTED_LINGER: Duration = Duration::from_millis(500);

/// A TCP stream that tells its [`Conn`] when bytes arrive.
struct Tracked {
    stream: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.read_some();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A response's body, its request counted in flight until it is sent (or dropped, the
/// connection gone): a streamed body (a `stream` function's, a large file) may last minutes,
/// and its connection is busy meanwhile, not idle: neither `idle_timeout` nor eviction at the
/// cap may close it, and a draining server lets it finish within the grace period.
struct UntilSent {
    body: Body,
    conn: Option<Arc<Conn>>,
}

impl UntilSent {
    fn new(body: Body, conn: Arc<Conn>) -> Self {
        Self {
            body,
            conn: Some(conn),
        }
    }

    fn done(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.request_done();
        }
    }
}

impl HttpBody for UntilSent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for UntilSent {
    fn drop(&mut self) {
        self.done();
    }
}

/// The live connections, for eviction at the cap.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Signalled when a connection ends (room for a waiting accept).
    ended: Notify,
}

impl Registry {
    fn count(&self) -> usize {
        self.conns.lock().map_or(0, |c| c.len())
    }

    fn add(&self, conn: Arc<Conn>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, conn);
        }
        id
    }

    fn remove(&self, id: u64) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&id);
        }
        self.ended.notify_waiters();
    }

    /// Asks the longest-idle connection to close; false when every one is busy.
    fn evict_one(&self) -> bool {
        let Ok(conns) = self.conns.lock() else {
            return false;
        };
        let oldest = conns
            .values()
            .filter(|c| c.is_idle())
            .min_by_key(|c| c.epoch + Duration::from_millis(c.last_active.load(Ordering::Relaxed)));
        match oldest {
            Some(conn) => {
                conn.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Resolves once `stop` is set. A dropped sender (the Lua object collected without `stop()`)
/// never resolves: an unreferenced server keeps serving until the process ends, as in Node.
pub async fn stopped(mut stopping: watch::Receiver<bool>) {
    if stopping.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Serves `listener` until `stopping` is set, then drains within `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    grace: Duration,
    stopping: watch::Receiver<bool>,
) {
    let registry = Arc::new(Registry::default());
    let (drain, draining) = watch::channel(false);
    let mut tasks = JoinSet::new();
    loop {
        // At the cap: make room by closing the longest-idle connection, or wait for one to end.
        while registry.count() >= limits.max_connections && !*stopping.borrow() {
            let ended = registry.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            registry.evict_one();
            tokio::select! {
                () = ended => {}
                () = stopped(stopping.clone()) => {}
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        if *stopping.borrow() {
            break;
        }
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(stopping.clone()) => break,
            // Reap finished tasks as they end, so the set does not grow.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: the connection stays in the queue; try again shortly.
                log::error("cannot accept a connection", &[("error", &e.to_string())]);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small responses must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let conn = Arc::new(Conn::new());
        // The first head is timed from the accept: connecting and sending nothing is the
        // cheapest way to hold a connection.
        let now = conn.now();
        conn.last_active.store(now, Ordering::Relaxed);
        conn.head_started.store(now, Ordering::Release);
        let id = registry.add(conn.clone());
        let registry = registry.clone();
        let router = router.clone();
        let draining = draining.clone();
        tasks.spawn(async move {
            serve_one(stream, remote, conn, router, limits, draining).await;
            registry.remove(id);
        });
    }
    drop(listener);
    // Idle connections close now; busy ones after their response.
    drain.send_replace(true);
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        log::error(
            "grace period over; closing requests still in flight",
            &[("grace", &format!("{}s", grace.as_secs_f64()))],
        );
        tasks.shutdown().await;
    }
}

/// One connection, until it closes, expires, is evicted, or the server drains.
async fn serve_one(
    stream: TcpStream,
    remote: SocketAddr,
    conn: Arc<Conn>,
    router: Router,
    limits: Limits,
    mut draining: watch::Receiver<bool>,
) {
    let tracker = conn.clone();
    let remote_text = super::request::RemoteText::new(remote);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        req.extensions_mut().insert(remote_text.clone());
        let mut router = router.clone();
        let tracker = tracker.clone();
        tracker.request_started();
        async move {
            let response = router.call(req.map(axum::body::Body::new)).await;
            response.map(|response| response.map(|body| UntilSent::new(body, tracker)))
        }
    });
    let io = TokioIo::new(Tracked {
        stream,
        conn: conn.clone(),
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    // Our own clock (`Conn::expired`) times heads from their first byte; hyper's would count
    // from when the connection starts waiting, which is the idle time.
    builder.header_read_timeout(None);
    let connection = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let tick = (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    // Set once the connection was asked to close: it then has a bounded time to do so.
    let mut closing: Option<Instant> = None;
    loop {
        tokio::select! {
            // Ended: closed by the peer, broken, timed out by hyper, or upgraded (the
            // WebSocket then lives on in its own task).
            _ = connection.as_mut() => return,
            () = conn.evict.notified(), if closing.is_none() => {
                closing = Some(Instant::now());
                connection.as_mut().graceful_shutdown();
            }
            _ = draining.wait_for(|d| *d), if closing.is_none() => {
                closing = Some(Instant::now());
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep(tick) => {
                match conn.expired(&limits) {
                    // A head trickling in too slowly: no response is owed, drop it.
                    Some(Expired::Header) => return,
                    Some(Expired::Idle) if closing.is_none() => {
                        closing = Some(Instant::now());
                        connection.as_mut().graceful_shutdown();
                    }
                    _ => {}
                }
                // An idle connection asked to close has nothing owed: it need not linger
                // (a draining one with a request in flight is bounded by the grace instead).
                if closing.is_some_and(|at| at.elapsed() >= EVICTED_LINGER) && conn.is_idle() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ulimit -n 256` (the case: 400 idle connections must not starve requests)
    /// leaves 192 connections, so accepting never runs out of descriptors: at the cap the
    /// longest idle connection is closed instead.
    #[test]
    fn the_cap_leaves_descriptors_for_the_rest() {
        assert_eq!(within_fds(1024, 256), 192);
        assert_eq!(within_fds(100, 1 << 20), 100);
        assert_eq!(within_fds(1024, 10), 1);
    }

    #[test]
    fn heads_and_idle_connections_expire() {
        let limits = Limits {
            header_timeout: Duration::from_millis(20),
            idle_timeout: Duration::from_millis(40),
            max_connections: 1,
        };
        let conn = Conn::new();
        conn.last_active.store(conn.now(), Ordering::Relaxed);
        assert_eq!(conn.expired(&limits), None);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(conn.expired(&limits), Some(Expired::Idle));
        conn.read_some();
        assert_eq!(conn.expired(&limits), None, "a head has just started");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(conn.expired(&limits), Some(Expired::Header));
        conn.request_started();
        assert_eq!(
            conn.expired(&limits),
            None,
            "a request in flight never expires"
        );
        conn.request_done();
        assert_eq!(conn.expired(&limits), None);
    }
}
