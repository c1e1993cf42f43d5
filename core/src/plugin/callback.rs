//! Lua functions handed to plugins.
//!
//! A function passed to a plugin becomes a [`Callback`] backed by a [`LuaCallback`]: an id and
//! the sending end of the VM's request channel, both `Send + Sync`. A call from any plugin
//! thread sends a request; the dispatcher, a task on the script's executor, runs the function as
//! a new coroutine (so it may sleep or wait on I/O while other calls proceed) and sends the
//! results back through a oneshot channel that the plugin's future awaits. While a call runs it
//! keeps the program alive; the dispatcher itself does not.
//!
//! A plugin that stops waiting (it drops the call's future: a server's handler timed out, its
//! client went away) ends the call: a coroutine waiting in `sleep` or I/O is closed at once
//! (its `<close>` variables run, the future it waited on is dropped), and one computing is
//! stopped by the VM's count hook with an error, within a few thousand instructions. Only the
//! call's own coroutine is watched: a loop inside a coroutine the call resumed is stopped once
//! control comes back to it.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future as _;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RErr, ROk, RString, RVec};
use assay_sdk::abi::{CallFuture, CallResult};
use assay_sdk::{Callback, CallbackImpl, Value};
use async_ffi::FutureExt as _;
use mlua::{Function, Lua};
use tokio::sync::{mpsc, oneshot};

use super::bridge;
use crate::builtins::function::{Raise, error_message};
use crate::vm::id_map::IdMap;
use crate::vm::keepalive;
use crate::vm::traced::Traced;

enum Request {
    Call {
        id: u64,
        args: RVec<Value>,
        reply: oneshot::Sender<CallResult>,
    },
    Release(u64),
    /// A plugin gave back a [`RemoteHold`].
    ReleaseHold(u64),
}

/// A plugin's hold on the VM's run (see `assay_sdk::KeepAlive`), released from any thread by
/// sending its id back to the dispatcher, which drops the real (thread-bound) hold.
pub struct RemoteHold {
    id: u64,
    requests: mpsc::UnboundedSender<Request>,
}

impl Drop for RemoteHold {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::ReleaseHold(self.id));
    }
}

/// A hold on `lua`'s run for a plugin; `None` outside a run.
pub fn hold(lua: &Lua) -> Option<RemoteHold> {
    let held = keepalive::hold(lua)?;
    let hub = hub(lua).ok()?;
    let id = hub.next_id.get();
    hub.next_id.set(id + 1);
    hub.holds.borrow_mut().insert(id, held);
    Some(RemoteHold {
        id,
        requests: hub.requests.clone(),
    })
}

/// The host's implementation of a callback.
pub struct LuaCallback {
    id: u64,
    requests: mpsc::UnboundedSender<Request>,
}

impl CallbackImpl for LuaCallback {
    fn call(&self, args: RVec<Value>) -> CallFuture {
        let (reply, result) = oneshot::channel();
        // A plugin driven on the VM's thread calls while the VM waits: run the function now.
        let mut args = Some(args);
        let mut reply = Some(reply);
        let ran = super::reactor::inline(|lua| {
            let hub = lua.app_data_ref::<Hub>()?;
            if !hub.requests.same_channel(&self.requests) {
                return None;
            }
            drop(hub);
            let (args, reply) = (args.take()?, reply.take()?);
            Some(call_inline(lua, self.id, args, reply))
        })
        .flatten();
        if let Some(Some(done)) = ran {
            return std::future::ready(done).into_ffi();
        }
        if ran.is_some() {
            // Started inline and waiting: its reply comes through the channel.
            return async move {
                result.await.unwrap_or_else(|_| {
                    RErr(RString::from(
                        "the Lua VM finished before the function returned",
                    ))
                })
            }
            .into_ffi();
        }
        let (Some(args), Some(reply)) = (args, reply) else {
            return std::future::ready(RErr(RString::from("the call could not start"))).into_ffi();
        };
        let sent = self.requests.send(Request::Call {
            id: self.id,
            args,
            reply,
        });
        async move {
            if sent.is_err() {
                return RErr(RString::from(
                    "the Lua VM has finished; the function can no longer be called",
                ));
            }
            result.await.unwrap_or_else(|_| {
                RErr(RString::from(
                    "the Lua VM finished before the function returned",
                ))
            })
        }
        .into_ffi()
    }

    fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for LuaCallback {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::Release(self.id));
    }
}

/// Per-VM state: the functions plugins hold, by id, with how many handles point at each.
pub struct Hub {
    requests: mpsc::UnboundedSender<Request>,
    incoming: Rc<RefCell<mpsc::UnboundedReceiver<Request>>>,
    functions: RefCell<IdMap<u64, (Function, usize)>>,
    ids: RefCell<IdMap<*const c_void, u64>>,
    next_id: Cell<u64>,
    running: Rc<Cell<bool>>,
    holds: RefCell<IdMap<u64, keepalive::Hold>>,
    /// Calls running as coroutines, by coroutine: their replies, which tell whether the plugin
    /// still waits.
    calls: RefCell<IdMap<*const c_void, Rc<ReplySlot>>>,
}

/// Where a call's results go; shared by the task that answers and the hook that checks whether
/// anyone still waits (never borrowed across an await).
struct ReplySlot(RefCell<Option<oneshot::Sender<CallResult>>>);

impl ReplySlot {
    /// Whether the plugin dropped the call's future.
    fn abandoned(&self) -> bool {
        self.0
            .borrow()
            .as_ref()
            .is_some_and(oneshot::Sender::is_closed)
    }

    /// Resolves once the plugin drops the call's future.
    async fn closed(&self) {
        std::future::poll_fn(|cx| match self.0.borrow_mut().as_mut() {
            Some(reply) => reply.poll_closed(cx),
            None => Poll::Pending,
        })
        .await;
    }

    fn take(&self) -> Option<oneshot::Sender<CallResult>> {
        self.0.borrow_mut().take()
    }
}

/// The error that stops a call whose plugin no longer waits for it.
const ABANDONED: &str = "stopped: the plugin no longer waits for this call (its caller timed \
                         out or went away)";

/// The count hook's check: an error when the running coroutine serves a call its plugin
/// abandoned. And when Lua has run for a whole time slice while a plugin's I/O waits on this
/// thread (`reactor`), that I/O gets its turn first (its timers fire, so a handler's timeout
/// can abandon the call that is computing), or, for a call started inside the reactor, the
/// call yields to let the reactor go on.
fn check_call(lua: &Lua) -> mlua::Result<mlua::VmState> {
    let abandoned = |lua: &Lua| {
        let hub = lua.app_data_ref::<Hub>()?;
        let calls = hub.calls.borrow();
        if calls.is_empty() {
            return Some(false);
        }
        calls
            .get(&lua.current_thread().to_pointer())
            .map(|slot| slot.abandoned())
    };
    let in_call = abandoned(lua);
    if in_call == Some(true) {
        return Err(mlua::Error::runtime(ABANDONED));
    }
    let state = super::reactor::preempt(in_call.is_some());
    if abandoned(lua) == Some(true) {
        return Err(mlua::Error::runtime(ABANDONED));
    }
    Ok(state)
}

impl Hub {
    pub fn new() -> Self {
        let (requests, incoming) = mpsc::unbounded_channel();
        Self {
            requests,
            incoming: Rc::new(RefCell::new(incoming)),
            functions: RefCell::default(),
            ids: RefCell::default(),
            next_id: Cell::new(1),
            running: Rc::default(),
            holds: RefCell::default(),
            calls: RefCell::default(),
        }
    }

    fn release(&self, id: u64) {
        let mut functions = self.functions.borrow_mut();
        let Some(entry) = functions.get_mut(&id) else {
            return;
        };
        entry.1 -= 1;
        if entry.1 == 0
            && let Some((f, _)) = functions.remove(&id)
        {
            self.ids.borrow_mut().remove(&f.to_pointer());
        }
    }
}

/// Whether a run (`Runtime::drive`) is under way, so code runs inside its task set.
#[derive(Default)]
struct InRun(Cell<bool>);

/// The VM's hub, made by the first callback: a script that hands no function to a plugin pays
/// nothing for callbacks. Made during a run, its dispatcher starts at once.
fn hub(lua: &Lua) -> mlua::Result<mlua::AppDataRef<'_, Hub>> {
    if lua.app_data_ref::<Hub>().is_none() {
        lua.set_app_data(Hub::new());
        // Before any call's coroutine exists: they inherit the hook.
        crate::vm::interrupt::add(lua, Rc::new(check_call))?;
        let in_run = lua.app_data_ref::<InRun>().is_some_and(|r| r.0.get());
        if in_run && let Some(dispatcher) = dispatcher(lua) {
            // Inside a run, code executes within the run's LocalSet.
            tokio::task::spawn_local(dispatcher);
        }
    }
    lua.app_data_ref::<Hub>()
        .ok_or_else(|| mlua::Error::runtime("assay: the callback hub is missing"))
}

/// A callback for the Lua function `f`; the same function always gets the same id.
pub fn wrap(lua: &Lua, f: Function) -> mlua::Result<Callback> {
    let hub = hub(lua)?;
    let pointer = f.to_pointer();
    let existing = hub.ids.borrow().get(&pointer).copied();
    let id = match existing {
        Some(id) => id,
        None => {
            let id = hub.next_id.get();
            hub.next_id.set(id + 1);
            hub.ids.borrow_mut().insert(pointer, id);
            id
        }
    };
    hub.functions.borrow_mut().entry(id).or_insert((f, 0)).1 += 1;
    Ok(Callback::from_impl(Arc::new(LuaCallback {
        id,
        requests: hub.requests.clone(),
    })))
}

/// The Lua function behind a callback coming back from a plugin. A callback of another VM (or
/// one a plugin made itself) becomes an async Lua function that calls it.
pub fn unwrap(lua: &Lua, cb: Callback) -> mlua::Result<Function> {
    if let (Some(ours), Some(hub)) = (cb.downcast_ref::<LuaCallback>(), lua.app_data_ref::<Hub>())
        && ours.requests.same_channel(&hub.requests)
        && let Some((f, _)) = hub.functions.borrow().get(&ours.id)
    {
        return Ok(f.clone());
    }
    let key = cb.raw().data as usize;
    if let Some(cache) = lua.app_data_ref::<ForeignFunctions>()
        && let Some((_, f)) = cache.0.borrow().get(&key)
    {
        return Ok(f.clone());
    }
    let f = foreign_function(lua, cb.clone())?;
    if lua.app_data_ref::<ForeignFunctions>().is_none() {
        lua.set_app_data(ForeignFunctions::default());
    }
    if let Some(cache) = lua.app_data_ref::<ForeignFunctions>() {
        let mut cache = cache.0.borrow_mut();
        if cache.len() >= FOREIGN_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, (cb, f.clone()));
    }
    Ok(f)
}

/// How many plugin-made functions a VM keeps converted. They are usually a few long-lived ones
/// (`resp.json`, shared by every response), so the cache rarely fills; when it does it starts
/// over rather than growing with plugins that make a function per call.
const FOREIGN_CACHE_LIMIT: usize = 256;

/// Lua functions for plugin-made callbacks, by the callback's data pointer. The entry holds a
/// clone of the callback, so the pointer cannot be reused by another while it is cached.
#[derive(Default)]
struct ForeignFunctions(RefCell<IdMap<usize, (Callback, Function)>>);

/// An async Lua function that calls a callback the VM did not make. A callback that completes
/// at once (a plugin's own function) returns without yielding. It fails like a builtin: a plain
/// string at the caller's position (the plugin's message names what failed, e.g. `json: ...`).
fn foreign_function(lua: &Lua, cb: Callback) -> mlua::Result<Function> {
    crate::builtins::function::async_function(lua, "function", move |lua, args| {
        let values: Vec<mlua::Value> = args.rest(1).into_vec();
        let converted = bridge::to_values(&lua, &values, "bad argument");
        let cb = cb.clone();
        async move {
            let values = converted.map_err(Raise::Positioned)?;
            let future = cb.call(values.into_vec());
            let results = future
                .await
                .map_err(|e| Raise::Positioned(e.into_message()))?;
            Ok(bridge::to_lua_values(&lua, RVec::from(results))?)
        }
    })
}

/// The dispatcher task, unless the VM has no hub or its dispatcher is already running.
fn dispatcher(lua: &Lua) -> Option<impl std::future::Future<Output = ()> + 'static> {
    let hub = lua.app_data_ref::<Hub>()?;
    if hub.running.replace(true) {
        return None;
    }
    let incoming = hub.incoming.clone();
    let running = Running(hub.running.clone());
    Some(dispatch(lua.clone(), incoming, running))
}

/// Marks a run under way (until dropped) and starts the dispatcher on its task set if the VM
/// already has a hub (from an earlier run).
pub struct Run<'a>(&'a Lua);

impl<'a> Run<'a> {
    pub fn begin(lua: &'a Lua, local: &tokio::task::LocalSet) -> Self {
        match lua.app_data_ref::<InRun>() {
            Some(flag) => flag.0.set(true),
            None => {
                lua.set_app_data(InRun(Cell::new(true)));
            }
        }
        if let Some(dispatcher) = dispatcher(lua) {
            local.spawn_local(dispatcher);
        }
        Run(lua)
    }
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        if let Some(flag) = self.0.app_data_ref::<InRun>() {
            flag.0.set(false);
        }
    }
}

/// Clears the running flag when the dispatcher task is dropped with its run's task set.
struct Running(Rc<Cell<bool>>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// How long the dispatcher keeps looking for the next call after the channel runs dry, before
/// it lets the thread sleep. Under load the next request is usually a few microseconds away,
/// and waking a sleeping thread costs more than that (a syscall on each side); at rest the spin
/// ends after this long, so an idle program never burns a core.
const SPIN: Duration = Duration::from_micros(50);

/// Receives calls in batches: everything queued is taken on each wake-up; each call starts at
/// once and, when it finishes without waiting (the common case for a request handler), its
/// reply is sent with the rest of the batch; a call that waits goes on as its own task.
async fn dispatch(
    lua: Lua,
    incoming: Rc<RefCell<mpsc::UnboundedReceiver<Request>>>,
    _running: Running,
) {
    let mut replies: Vec<(oneshot::Sender<CallResult>, CallResult)> = Vec::new();
    let mut idle_since: Option<Instant> = None;
    std::future::poll_fn(|cx| {
        loop {
            let mut incoming = incoming.borrow_mut();
            let request = match incoming.try_recv() {
                Ok(request) => request,
                Err(mpsc::error::TryRecvError::Disconnected) => return Poll::Ready(()),
                Err(mpsc::error::TryRecvError::Empty) => {
                    for (reply, result) in replies.drain(..) {
                        let _ = reply.send(result);
                    }
                    let since = *idle_since.get_or_insert_with(Instant::now);
                    // With a plugin's reactor on this thread, calls from it run inline and
                    // spinning would only keep the thread out of that reactor.
                    if since.elapsed() < SPIN && !super::reactor::bound_here() {
                        // Look again soon without registering a waker, so senders find no
                        // one to wake and skip the syscall. Meanwhile the core goes to any
                        // other thread that wants it (on a busy 2-core machine, often the
                        // plugin thread about to send the next call), then to this thread's
                        // other tasks.
                        std::thread::yield_now();
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    match incoming.poll_recv(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(None) => return Poll::Ready(()),
                        Poll::Ready(Some(request)) => request,
                    }
                }
            };
            drop(incoming);
            idle_since = None;
            match request {
                Request::Release(id) => {
                    if let Some(hub) = lua.app_data_ref::<Hub>() {
                        hub.release(id);
                    }
                }
                Request::ReleaseHold(id) => {
                    let released = lua
                        .app_data_ref::<Hub>()
                        .and_then(|hub| hub.holds.borrow_mut().remove(&id));
                    drop(released);
                }
                Request::Call { id, args, reply } => {
                    if let Some((reply, result)) = start_call(&lua, id, args, reply, cx) {
                        replies.push((reply, result));
                    }
                }
            }
        }
    })
    .await
}

/// A call made while the VM's thread waits in a plugin's reactor (see `reactor`): started at
/// once; `Some(result)` when it finished without waiting, `None` when it goes on as a task of
/// the run (its result then comes through `reply`). A panic is the call's error.
fn call_inline(
    lua: &Lua,
    id: u64,
    args: RVec<Value>,
    reply: oneshot::Sender<CallResult>,
) -> Option<CallResult> {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        start_call(lua, id, args, reply, &mut cx)
    }));
    match started {
        Ok(Some((_, result))) => Some(result),
        Ok(None) => None,
        Err(_) => Some(RErr(RString::from(
            "the host panicked running the function",
        ))),
    }
}

/// Starts a call and polls it once; returns its reply if it is already done, otherwise spawns
/// it to finish on its own, or to be closed once the plugin stops waiting.
fn start_call(
    lua: &Lua,
    id: u64,
    args: RVec<Value>,
    reply: oneshot::Sender<CallResult>,
    cx: &mut Context<'_>,
) -> Option<(oneshot::Sender<CallResult>, CallResult)> {
    let Some(hub) = lua.app_data_ref::<Hub>() else {
        return Some((reply, RErr(RString::from("the function was released"))));
    };
    let function = hub.functions.borrow().get(&id).map(|(f, _)| f.clone());
    let Some(function) = function else {
        return Some((reply, RErr(RString::from("the function was released"))));
    };
    let traced = match prepare(lua, function.clone(), args) {
        Ok(traced) => traced,
        Err(why) => return Some((reply, RErr(RString::from(why)))),
    };
    let thread = traced.thread().clone();
    let key = thread.to_pointer();
    let slot = Rc::new(ReplySlot(RefCell::new(Some(reply))));
    hub.calls.borrow_mut().insert(key, slot.clone());
    drop(hub);
    let hold = keepalive::hold(lua);
    let owned = lua.clone();
    let mut call = Box::pin(async move {
        let _hold = hold;
        let outcome = traced.run(&owned).await;
        finish(&owned, outcome)
    });
    // Polled here with the dispatcher's waker; if it is pending, the spawned task's first poll
    // registers the task's own waker.
    if let Poll::Ready(result) = call.as_mut().poll(cx) {
        forget(lua, key);
        return slot.take().map(|reply| (reply, result));
    }
    let owned = lua.clone();
    tokio::task::spawn_local(async move {
        tokio::select! {
            biased;
            result = &mut call => {
                forget(&owned, key);
                if let Some(reply) = slot.take() {
                    let _ = reply.send(result);
                }
            }
            () = slot.closed() => {
                // Dropping the run stops polling what the coroutine waits on; closing the
                // coroutine runs its pending `<close>` variables (their errors have no one
                // to go to).
                drop(call);
                forget(&owned, key);
                let _ = thread.reset(function);
            }
        }
    });
    None
}

/// Stops watching the call running in the coroutine `key`.
fn forget(lua: &Lua, key: *const c_void) {
    if let Some(hub) = lua.app_data_ref::<Hub>() {
        hub.calls.borrow_mut().remove(&key);
    }
}

/// The call made ready to run: its arguments in Lua, its coroutine created.
fn prepare(lua: &Lua, f: Function, args: RVec<Value>) -> Result<Traced, String> {
    let args = bridge::to_lua_values(lua, args).map_err(|e| error_message(&e))?;
    Traced::new(lua, f, args).map_err(|e| error_message(&e))
}

/// What the plugin gets back from a finished call.
fn finish(
    lua: &Lua,
    outcome: mlua::Result<Result<mlua::MultiValue, crate::vm::traced::Failure>>,
) -> CallResult {
    match outcome {
        Ok(Ok(values)) => {
            let values: Vec<mlua::Value> = values.into_vec();
            match bridge::to_values(lua, &values, "return value") {
                Ok(converted) => ROk(converted),
                Err(why) => RErr(RString::from(why)),
            }
        }
        Ok(Err(failure)) => {
            let report = failure.report;
            let text = if report.traceback.is_empty() {
                report.message
            } else {
                format!("{}\n{}", report.message, report.traceback)
            };
            super::passed_back::remember(lua, &text, failure.value);
            RErr(RString::from(text))
        }
        Err(e) => RErr(RString::from(error_message(&e))),
    }
}
