//! The plugin's I/O on the Lua thread (the `assay.reactor.v1` extension).
//!
//! By default a plugin's async work runs on its own runtime's thread (see [`crate::runtime`]),
//! and every result crosses to the Lua thread and back: two thread wake-ups per round trip.
//! A plugin that serves requests or makes many small calls can ask to run on the Lua thread
//! instead ([`crate::Plugin::io_on_lua_thread`]): while the host has a thread bound (a VM's
//! run is under way on it), [`crate::runtime`] called on that thread returns a current-thread
//! runtime of that thread, and the host drives it whenever the script has nothing to run, so
//! a request arrives, its handler runs and its reply is written on one thread, as in nginx.
//!
//! One plugin per host thread is driven (the first that asks); others keep their threads.
//! Outside a run (the thread unbound) new work goes to the plugin's own runtime, and what was
//! started on the thread's reactor waits for the next run on that thread.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use abi_stable::StableAbi;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

use crate::abi::{ReactorHookV1, ReactorV1};
use crate::error::catching;

/// Whether the plugin asked for the extension (set while it registers).
pub(crate) static WANTED: AtomicBool = AtomicBool::new(false);

/// A thread's reactor, made on first use and kept for the thread's life.
struct Reactor {
    runtime: Runtime,
}

thread_local! {
    /// Whether the host has this thread bound.
    static BOUND: Cell<bool> = const { Cell::new(false) };
    /// What ends this thread's `drive`; made at the first bind, kept for the thread's life.
    static WAKE: Cell<Option<&'static Notify>> = const { Cell::new(None) };
    static REACTOR: Cell<Option<&'static Reactor>> = const { Cell::new(None) };
}

static REACTOR_V1: ReactorV1 = ReactorV1 {
    bind,
    unbind,
    drive,
    wake,
};

pub(crate) static HOOK: ReactorHookV1 = ReactorHookV1 {
    reactor_layout: <ReactorV1 as StableAbi>::LAYOUT,
    reactor: &REACTOR_V1,
};

/// The runtime of this thread's reactor, when the host has the thread bound.
pub(crate) fn bound_runtime() -> Option<&'static Runtime> {
    if !BOUND.with(Cell::get) {
        return None;
    }
    let reactor = REACTOR.with(|r| match r.get() {
        Some(reactor) => reactor,
        None => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("cannot start the plugin's reactor: {e}"));
            // Kept for the thread's life: tasks on it wait for the thread's next run.
            let reactor: &'static Reactor = Box::leak(Box::new(Reactor { runtime }));
            r.set(Some(reactor));
            reactor
        }
    });
    Some(&reactor.runtime)
}

/// Whether work started now, on this thread, runs on the thread's reactor (driven by the host
/// between the script's steps) rather than on the plugin's own threads. A plugin uses it to
/// skip what only helps across threads (spinning to catch the next cross-thread wake-up).
pub fn on_lua_thread() -> bool {
    BOUND.with(Cell::get)
}

extern "C" fn bind() -> *const c_void {
    BOUND.with(|b| b.set(true));
    let notify = WAKE.with(|w| match w.get() {
        Some(notify) => notify,
        None => {
            let notify: &'static Notify = Box::leak(Box::new(Notify::new()));
            w.set(Some(notify));
            notify
        }
    });
    std::ptr::from_ref(notify).cast()
}

extern "C" fn unbind() {
    BOUND.with(|b| b.set(false));
}

extern "C" fn drive(timeout_ns: u64) -> u8 {
    let (Some(reactor), Some(notify)) = (REACTOR.with(Cell::get), WAKE.with(Cell::get)) else {
        return 0;
    };
    let timeout = Duration::from_nanos(timeout_ns);
    // A panic in a task is the task's (tokio catches it); this guards the drive itself.
    let _ = catching(|| {
        reactor.runtime.block_on(async {
            if timeout.is_zero() {
                // A turn that does not wait: run what is ready, poll the sockets without
                // blocking, then run what that woke.
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                return;
            }
            tokio::select! {
                biased;
                () = notify.notified() => {}
                () = tokio::time::sleep(timeout) => {}
            }
        });
    });
    1
}

extern "C" fn wake(token: *const c_void) {
    if token.is_null() {
        return;
    }
    // SAFETY: tokens are the leaked `Notify`s `bind` returns; they live for the process.
    let notify = unsafe { &*token.cast::<Notify>() };
    notify.notify_one();
}
