//! Keeps the server's runtime awake while handler calls are in flight.
//!
//! Every request crosses to the Lua thread and back. When the reply arrives and this runtime's
//! worker is asleep, waking it costs a syscall plus the scheduler's wake-up latency, on every
//! request. Under load the next reply is microseconds away, so while calls are in flight (and
//! for [`LINGER`] after the last one) a task keeps yielding, which keeps the worker polling
//! instead of parking. With nothing in flight the task sleeps: a server at rest uses no CPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long the worker stays awake after the last call finished.
const LINGER: Duration = Duration::from_micros(200);

#[derive(Default)]
pub struct Spin {
    in_flight: AtomicUsize,
    work: Notify,
    closed: AtomicBool,
}

/// One call in flight; dropping it ends the call.
pub struct InFlight(Arc<Spin>);

impl Spin {
    /// Starts the spinning task for this server on the current runtime.
    pub fn start() -> Arc<Spin> {
        let spin = Arc::new(Spin::default());
        tokio::spawn(run(spin.clone()));
        spin
    }

    /// Ends the task (the server has stopped).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.work.notify_one();
    }

    pub fn enter(self: &Arc<Self>) -> InFlight {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            self.work.notify_one();
        }
        InFlight(self.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn run(spin: Arc<Spin>) {
    let mut last_busy = Instant::now();
    while !spin.closed.load(Ordering::Acquire) {
        if spin.in_flight.load(Ordering::Acquire) > 0 {
            last_busy = Instant::now();
        } else if last_busy.elapsed() >= LINGER {
            // Notify keeps a permit, so a call that started meanwhile is not missed.
            spin.work.notified().await;
            last_busy = Instant::now();
            continue;
        }
        // Give the core to any thread that wants it (the Lua thread, on a busy machine), then
        // let the runtime poll its sockets and other tasks.
        std::thread::yield_now();
        tokio::task::yield_now().await;
    }
}
