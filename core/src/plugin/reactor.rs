//! Plugins' I/O driven on the VM's thread (the `assay.reactor.v1` extension; see
//! `assay_sdk::reactor` for the plugin's half).
//!
//! During a run, the first plugin that offers a reactor is bound to the run's thread: what it
//! starts from that thread (a server, a client's connections) runs on a reactor of that
//! thread. Whenever the executor has nothing left to run and would go to sleep
//! ([`idle`], its park hook), it sleeps in the plugin's reactor instead, until the next host
//! timer is due ([`crate::vm::timers`]) or the host is woken ([`HostWake`]). A plugin calling a
//! Lua function from there (a request reaching a server) gets it run at once, inline
//! (`callback::call_inline`): the handler runs and the reply is written on one thread, with
//! no wake-up in between.
//!
//! Only one plugin is driven per thread: a thread can wait in one reactor at a time. The others
//! keep their own threads, as does a plugin whose view of [`ReactorV1`] differs from ours.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use abi_stable::StableAbi;
use abi_stable::std_types::RStr;
use assay_sdk::abi::{PluginModuleRef, REACTOR_V1, ReactorHookV1, ReactorV1};
use tokio::task::LocalSet;

/// The longest the thread waits in a plugin's reactor without looking at its own executor: a
/// safety net for a host timer that did not register its deadline.
const MAX_DRIVE: Duration = Duration::from_secs(1);

/// The longest the host runs its own work (a plugin call computing, tasks ready one after the
/// other) without giving the plugin's reactor a turn: its timers (a handler's timeout) fire and
/// its other connections are served at least this often.
const SLICE: Duration = Duration::from_millis(5);

/// How long the thread polls the reactor without sleeping before it waits in it, when the
/// last wait ended soon (a conversation: a reply on loopback or in the same zone comes within
/// tens of microseconds). Falling asleep and being woken costs the kernel about as much again
/// on every round trip; a script at rest, whose waits are long, never polls like this.
const SPIN: Duration = Duration::from_micros(50);

/// A wait that ended within this long makes the next one start with [`SPIN`].
const SHORT_WAIT: Duration = Duration::from_millis(1);

/// Plugins offering a reactor, in load order (for the process: plugins load once).
static REACTORS: Mutex<Vec<&'static ReactorV1>> = Mutex::new(Vec::new());

/// Records a plugin's reactor, and binds it at once if a run on this thread has none.
pub fn offer(module: PluginModuleRef) {
    let hook = (module.extension())(RStr::from_str(REACTOR_V1));
    if hook.is_null() {
        return;
    }
    // SAFETY: a plugin answering this name returns a `ReactorHookV1` with static lifetime (the
    // SDK's contract; the hook's own layout is frozen with the name).
    let hook = unsafe { &*hook.cast::<ReactorHookV1>() };
    let agrees = abi_stable::abi_stability::check_layout_compatibility(
        hook.reactor_layout,
        <ReactorV1 as StableAbi>::LAYOUT,
    )
    .is_ok();
    if !agrees {
        return;
    }
    REACTORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(hook.reactor);
    RUN.with(|run| {
        if let Some(run) = run.borrow_mut().as_mut() {
            run.bind_first();
        }
    });
}

/// What the executor's thread knows of the run under way on it.
struct RunState {
    wake: Arc<HostWake>,
    bound: Option<(&'static ReactorV1, usize)>,
    /// The run's task set, for calls that start inline and then wait.
    local: *const LocalSet,
    lua: mlua::WeakLua,
}

impl RunState {
    fn bind_first(&mut self) {
        if self.bound.is_some() {
            return;
        }
        let first = REACTORS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first()
            .copied();
        if let Some(reactor) = first {
            let token = (reactor.bind)() as usize;
            self.bound = Some((reactor, token));
            *self
                .wake
                .reactor
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some((reactor, token));
        }
    }
}

thread_local! {
    static RUN: RefCell<Option<RunState>> = const { RefCell::new(None) };
    /// Set while the thread waits in a plugin's reactor with nothing of the host running:
    /// a Lua function the plugin calls then may run inline.
    static INLINE: Cell<bool> = const { Cell::new(false) };
    /// When the bound reactor last had its turn.
    static LAST_DRIVE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Set while the thread is inside the bound reactor's `drive`.
    static IN_DRIVE: Cell<bool> = const { Cell::new(false) };
    /// Whether the last wait in the reactor ended within [`SHORT_WAIT`].
    static CONVERSING: Cell<bool> = const { Cell::new(false) };
}

/// The run under way on this thread; binds a reactor if a plugin offers one. Ends (unbinds)
/// when dropped.
pub struct Run {
    wake: Arc<HostWake>,
}

impl Run {
    /// `local` must outlive the returned guard (the run's task set, dropped after it).
    pub fn begin(lua: &mlua::Lua, local: &LocalSet) -> Run {
        let wake = Arc::new(HostWake::default());
        let mut state = RunState {
            wake: wake.clone(),
            bound: None,
            local: std::ptr::from_ref(local),
            lua: lua.weak(),
        };
        state.bind_first();
        RUN.with(|run| *run.borrow_mut() = Some(state));
        LAST_DRIVE.with(|l| l.set(Some(Instant::now())));
        Run { wake }
    }

    /// `future` with the host's waker in between, so that a wake-up from anywhere ends a wait
    /// in a plugin's reactor.
    pub fn watch<F: Future>(&self, future: F) -> Watched<F> {
        Watched {
            inner: Box::pin(future),
            waker: Waker::from(self.wake.clone()),
            wake: self.wake.clone(),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let state = RUN.with(|run| run.borrow_mut().take());
        if let Some((reactor, _)) = state.and_then(|s| s.bound) {
            (reactor.unbind)();
        }
    }
}

/// Whether this thread's run drives a plugin's reactor (then spinning to catch cross-thread
/// wake-ups only gets in the way).
pub fn bound_here() -> bool {
    RUN.with(|run| run.borrow().as_ref().is_some_and(|r| r.bound.is_some()))
}

/// Whether a plugin's reactor on this thread has waited a whole [`SLICE`] for the host's
/// work to end (the count hook then yields a computing plugin call).
pub fn slice_over() -> bool {
    LAST_DRIVE
        .with(Cell::get)
        .is_some_and(|at| at.elapsed() >= SLICE)
        && bound_here()
}

/// The executor's park hook (it runs each time the executor has run what was ready): with
/// nothing left to run, wait in the bound plugin's reactor until the next host timer or a
/// wake-up, then make sure the executor looks at its timers and tasks before it sleeps on its
/// own. With work left (the host keeps waking itself), give the reactor a turn that does not
/// wait, once a [`SLICE`].
pub fn idle() {
    let Some((reactor, wake)) = RUN.with(|run| {
        let run = run.borrow();
        let run = run.as_ref()?;
        Some((run.bound?.0, run.wake.clone()))
    }) else {
        return;
    };
    if wake.woken.load(Ordering::SeqCst) {
        if slice_over() {
            drive(reactor, 0, true);
        }
        return;
    }
    wake.driving.store(true, Ordering::SeqCst);
    // A wake-up between the first look and here may have seen `driving` already up and
    // woken the reactor only, which nobody is about to wait in: wake the executor, or it
    // sleeps with the wake-up lost (a child's end arriving just then hung the script).
    if wake.woken.load(Ordering::SeqCst) {
        wake.driving.store(false, Ordering::SeqCst);
        wake.wake_executor();
        return;
    }
    let now = Instant::now();
    let timeout = crate::vm::timers::next_deadline()
        .map_or(MAX_DRIVE, |at| at.saturating_duration_since(now))
        .min(MAX_DRIVE);
    if CONVERSING.with(Cell::get) && spin(reactor, &wake, now + SPIN.min(timeout)) {
        wake.driving.store(false, Ordering::SeqCst);
        wake.wake_executor();
        return;
    }
    let nanos = u64::try_from(timeout.saturating_sub(now.elapsed()).as_nanos()).unwrap_or(u64::MAX);
    let waited = Instant::now();
    drive(reactor, nanos, true);
    CONVERSING.with(|c| c.set(waited.elapsed() < SHORT_WAIT && wake.woken.load(Ordering::SeqCst)));
    wake.driving.store(false, Ordering::SeqCst);
    // The executor is about to sleep; it must first see its timers, what the drive woke and
    // any wake-up that went to the reactor, then come back here.
    wake.wake_executor();
}

/// Gives the reactor turns that do not wait until the host is woken (true) or `until`.
fn spin(reactor: &'static ReactorV1, wake: &HostWake, until: Instant) -> bool {
    loop {
        drive(reactor, 0, true);
        if wake.woken.load(Ordering::SeqCst) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::hint::spin_loop();
    }
}

/// Runs the reactor for up to `nanos` (0: a turn that does not wait). `inline`: whether a Lua
/// function the plugin calls meanwhile may run at once (only when nothing of the host is
/// running; otherwise the call is queued for the executor).
fn drive(reactor: &'static ReactorV1, nanos: u64, inline: bool) -> u8 {
    IN_DRIVE.with(|d| d.set(true));
    INLINE.with(|i| i.set(inline));
    let drove = (reactor.drive)(nanos);
    INLINE.with(|i| i.set(false));
    IN_DRIVE.with(|d| d.set(false));
    LAST_DRIVE.with(|l| l.set(Some(Instant::now())));
    drove
}

/// The count hook's part (see `callback::check_call`), once a [`SLICE`] has passed without a
/// turn of the bound reactor: outside the reactor, give it a turn that does not wait (Lua
/// functions it calls are queued); inside it (a call it started inline is computing), yield
/// that call (`in_call`), the only way back to the reactor.
pub fn preempt(in_call: bool) -> mlua::VmState {
    if !slice_over() {
        return mlua::VmState::Continue;
    }
    if IN_DRIVE.with(Cell::get) {
        return if in_call {
            mlua::VmState::Yield
        } else {
            mlua::VmState::Continue
        };
    }
    let bound = RUN.with(|run| run.borrow().as_ref().and_then(|r| r.bound));
    if let Some((reactor, _)) = bound {
        drive(reactor, 0, false);
    }
    mlua::VmState::Continue
}

/// Runs `f` with the VM and the run's task set entered, when the thread is waiting in a
/// plugin's reactor (a plugin calling Lua from its I/O) and `lua` is this run's VM; `None`
/// otherwise. Inline calls do not nest: `f` runs with the flag down.
pub fn inline<R>(f: impl FnOnce(&mlua::Lua) -> R) -> Option<R> {
    if !INLINE.with(Cell::get) {
        return None;
    }
    let (lua, local) = RUN.with(|run| {
        let run = run.borrow();
        let run = run.as_ref()?;
        Some((run.lua.try_upgrade()?, run.local))
    })?;
    INLINE.with(|i| i.set(false));
    // The reactor has just had its turn (it delivered this call): the call's slice starts now.
    // Counted from the end of the last drive instead, a call arriving after a long wait was
    // preempted at its first instructions, in the middle of whatever statement it was on.
    LAST_DRIVE.with(|l| l.set(Some(Instant::now())));
    // SAFETY: `local` is the run's task set, alive while `RUN` holds its state (see `begin`).
    let _entered = unsafe { &*local }.enter();
    let result = f(&lua);
    INLINE.with(|i| i.set(true));
    Some(result)
}

/// The host's side of wake-ups during a run: records that the executor has work, wakes it,
/// and when the thread is waiting in a plugin's reactor, ends that wait.
#[derive(Default)]
pub struct HostWake {
    woken: AtomicBool,
    driving: AtomicBool,
    executor: Mutex<Option<Waker>>,
    reactor: Mutex<Option<(&'static ReactorV1, usize)>>,
}

impl HostWake {
    fn wake_executor(&self) {
        if let Some(waker) = self
            .executor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

impl Wake for HostWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if self.driving.load(Ordering::SeqCst) {
            let reactor = *self.reactor.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((reactor, token)) = reactor {
                (reactor.wake)(token as *const c_void);
            }
            // `idle` wakes the executor when the drive ends.
        } else {
            self.wake_executor();
        }
    }
}

/// A future polled with the host's waker (see [`Run::watch`]).
pub struct Watched<F> {
    inner: Pin<Box<F>>,
    waker: Waker,
    wake: Arc<HostWake>,
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        {
            let mut executor = this
                .wake
                .executor
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !executor.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *executor = Some(cx.waker().clone());
            }
        }
        this.wake.woken.store(false, Ordering::SeqCst);
        this.inner
            .as_mut()
            .poll(&mut Context::from_waker(&this.waker))
    }
}
