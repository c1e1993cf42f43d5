//! The plugin's own tokio runtime. Every plugin library carries its own copy of tokio, so a
//! future from it cannot be polled by the host's executor ("no reactor running"): async work is
//! spawned here and the host awaits an FFI future of the join handle.

use std::sync::OnceLock;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The runtime to start async work on. On a Lua thread the host drives (a plugin that asked
/// for it: [`crate::Plugin::io_on_lua_thread`]), that thread's reactor; otherwise the
/// plugin's own runtime, created on first use: one worker thread plus tokio's blocking pool.
///
/// One worker is deliberate: the Lua side is single-threaded, and on small machines (the 2-core
/// pods Assay runs in) a second worker mostly adds cross-thread wake-ups.
///
/// # Panics
/// When the operating system refuses to start a thread; the panic is caught at the plugin
/// boundary and reaches Lua as an error.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    if let Some(runtime) = crate::reactor::bound_runtime() {
        return runtime;
    }
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("assay-{}", crate::plugin::name()))
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the plugin's runtime: {e}"))
    })
}
