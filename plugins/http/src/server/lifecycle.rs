//! A server's life: serving, stopping gracefully, done; and the SIGTERM/SIGINT watcher.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use assay_sdk::{Error, Result};
use axum::Router;
use tokio::sync::watch;

use super::connections::{self, Limits};
use super::options::ServerOptions;

/// The stop and kill signals of a server, sending ends (for its lifecycle).
pub struct Signals {
    stop: watch::Sender<bool>,
    kill: watch::Sender<bool>,
}

/// The stop and kill signals of a server, receiving ends (for what outlives a request:
/// WebSocket connections). `stopping`: `stop()` or SIGTERM; `killed`: the grace period after
/// it is over.
#[derive(Clone)]
pub struct Shutdown {
    stopping: watch::Receiver<bool>,
    killed: watch::Receiver<bool>,
}

impl Shutdown {
    pub async fn stopping(&self) {
        connections::stopped(self.stopping.clone()).await;
    }

    pub async fn killed(&self) {
        connections::stopped(self.killed.clone()).await;
    }
}

/// A new server's signals.
pub fn signals() -> (Signals, Shutdown) {
    let (stop, stopping) = watch::channel(false);
    let (kill, killed) = watch::channel(false);
    (Signals { stop, kill }, Shutdown { stopping, killed })
}

pub struct Lifecycle {
    stop: watch::Sender<bool>,
    done: watch::Receiver<bool>,
    port: u16,
}

/// A listening socket: SO_REUSEADDR (restarts do not wait for TIME_WAIT), SO_REUSEPORT when
/// asked, the requested backlog.
fn listen(address: SocketAddr, opts: &ServerOptions) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    if opts.reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(address)?;
    socket.listen(opts.backlog)
}

impl Lifecycle {
    /// Binds `address` (on the calling thread, so a port in use is an error at once) and
    /// starts serving on the plugin's runtime (one worker thread; with a single Lua thread
    /// feeding it, a second worker measured slower: it mostly adds wake-ups).
    pub fn start(
        address: SocketAddr,
        opts: &ServerOptions,
        router: Router,
        signals: Signals,
    ) -> Result<Arc<Self>> {
        let runtime = assay_sdk::runtime();
        let listener = {
            let _entered = runtime.enter();
            listen(address, opts)
                .map_err(|e| Error::new(format!("cannot listen on {address}: {e}")))?
        };
        let port = listener
            .local_addr()
            .map_err(|e| Error::new(format!("cannot listen on {address}: {e}")))?
            .port();
        let Signals { stop, kill } = signals;
        let stopping = stop.subscribe();
        let (finished, done) = watch::channel(false);
        let opts_grace = opts.grace;
        let limits = opts.limits;
        // The program lives while the server serves, as a listening server keeps Node's event
        // loop alive; an older host without the service just does not keep it alive.
        let alive = assay_sdk::KeepAlive::acquire().ok();
        // What outlives a request (WebSockets) is dropped when the grace period is over.
        let killer = stopping.clone();
        runtime.spawn(async move {
            connections::stopped(killer).await;
            tokio::time::sleep(opts_grace).await;
            kill.send_replace(true);
        });
        runtime.spawn(async move {
            serve(listener, router, limits, opts_grace, stopping, finished).await;
            drop(alive);
        });
        let lifecycle = Arc::new(Self { stop, done, port });
        // SIGTERM/SIGINT stop every running server gracefully, waited on or not: the program
        // then ends as its servers finish (their holds released) and exits 0.
        watch_signals(&lifecycle)?;
        Ok(lifecycle)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Asks the server to stop (idempotent); `wait` tells when it has.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    fn is_done(&self) -> bool {
        *self.done.borrow()
    }

    /// Completes once the server has stopped.
    pub async fn wait(self: &Arc<Self>) -> Result<()> {
        let mut done = self.done.clone();
        // An error means the serving task is gone, which is also done.
        let _ = done.wait_for(|d| *d).await;
        Ok(())
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    grace: Duration,
    stopping: watch::Receiver<bool>,
    finished: watch::Sender<bool>,
) {
    connections::serve(listener, router, limits, grace, stopping).await;
    finished.send_replace(true);
}

/// Running servers, for the signal watcher.
static WAITING: Mutex<Vec<Weak<Lifecycle>>> = Mutex::new(Vec::new());

/// Registers `server` with the watcher, starting the watcher on first use. Installing a handler
/// replaces the signals' default action for the whole process, so the watcher also does what
/// the default would when no server is left to stop: it exits with 128 + the signal.
fn watch_signals(server: &Arc<Lifecycle>) -> Result<()> {
    use std::sync::OnceLock;
    static WATCHER: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    if let Ok(mut waiting) = WAITING.lock() {
        waiting.retain(|w| w.strong_count() > 0);
        waiting.push(Arc::downgrade(server));
    }
    WATCHER
        .get_or_init(|| {
            use tokio::signal::unix::{SignalKind, signal};
            let _entered = assay_sdk::runtime().enter();
            let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
            let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
            assay_sdk::runtime().spawn(async move {
                loop {
                    let number = tokio::select! {
                        _ = term.recv() => 15,
                        _ = int.recv() => 2,
                    };
                    if !stop_waiting() {
                        std::process::exit(128 + number);
                    }
                }
            });
            Ok(())
        })
        .clone()
        .map_err(|e| Error::new(format!("cannot watch SIGTERM/SIGINT: {e}")))
}

/// Stops every server still running; false when there was none.
fn stop_waiting() -> bool {
    let Ok(waiting) = WAITING.lock() else {
        return false;
    };
    let mut stopped_any = false;
    for server in waiting.iter().filter_map(Weak::upgrade) {
        if !server.is_done() {
            server.stop();
            stopped_any = true;
        }
    }
    stopped_any
}
