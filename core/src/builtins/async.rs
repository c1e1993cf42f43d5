//! `async`: concurrency on the script's single thread.
//!
//! - `async.spawn(fn, ...)` runs `fn(...)` as its own coroutine and returns a task at once;
//!   `task:await()` returns fn's results or re-raises its error; `task:cancel()` stops it
//!   (later awaits raise "task cancelled"); `task:done()` says whether it has finished.
//! - `async.interval(seconds, fn)` calls `fn()` every `seconds` until `handle:cancel()`; a
//!   callback that raises stops its interval and is reported at once.
//! - `async.all(tasks)` awaits every task and returns the list of their first results; the
//!   first task to fail (in time, not in list order) ends it at once with that error.
//!
//! The program lives until the main chunk, every task and every interval has finished. A task
//! that fails while nobody awaits it is reported at once (an `ERROR` line with its traceback,
//! JSON in JSON log mode: a service may run for days with a dead task), and if it is still not
//! awaited when the program ends, the exit code is 1 (like an unhandled rejection in Node or
//! Deno): failures are never silent. Awaiting it later still gets its error.
//!
//! Each live task or interval counts 3 KiB against the memory limit (what it costs
//! outside Lua's allocator): spawning without end fails in `async.spawn` with "not enough
//! memory", which the spawner can catch.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use mlua::{
    AnyUserData, Function, Lua, MultiValue, Table, UserData, UserDataFields, UserDataMethods, Value,
};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::args::{Args, type_name};
use super::function::{BuiltinResult, Raise, async_function, function};
use super::log;
use crate::vm::traced::{Failure, Report, Traced, run_traced};

enum Outcome {
    Values(MultiValue),
    Failed(Failure),
    Cancelled,
}

#[derive(Default)]
struct TaskState {
    outcome: RefCell<Option<Outcome>>,
    finished: Notify,
    /// Whether anyone has seen the failure (awaited the task).
    observed: Cell<bool>,
    /// How many `await`s (or `async.all`s) are waiting for it now.
    waiters: Cell<usize>,
    /// Whether its failure was reported when it happened.
    reported: Cell<bool>,
    /// Told when it finishes, besides `finished`: the `async.all` calls waiting for it.
    watchers: RefCell<Vec<Rc<Notify>>>,
    abort: RefCell<Option<AbortHandle>>,
    /// Its entry among the VM's work in flight (`vm::pending`).
    pending: Cell<Option<u64>>,
}

impl TaskState {
    fn finish(&self, outcome: Outcome) {
        self.abort.borrow_mut().take();
        *self.outcome.borrow_mut() = Some(outcome);
        self.finished.notify_waiters();
        for watcher in self.watchers.borrow().iter() {
            watcher.notify_waiters();
        }
    }
}

/// Failures nobody has looked at yet; read by the runtime when the program ends.
#[derive(Default)]
pub struct Unobserved {
    tasks: RefCell<Vec<Rc<TaskState>>>,
    /// Interval callbacks that raised (already printed when they happened).
    interval_failures: Cell<usize>,
    /// The message of the first of them since the last [`Unobserved::take`].
    first_interval_failure: RefCell<Option<String>>,
    /// Reports of failures as they happen are limited to [`REPORTS_PER_WINDOW`] per
    /// [`REPORT_WINDOW`] (a loop spawning failing tasks must not flood the log): when this
    /// window began, how many it printed, and how many were held back since the last print.
    window: Cell<Option<std::time::Instant>>,
    in_window: Cell<usize>,
    held_back: Cell<usize>,
}

const REPORTS_PER_WINDOW: usize = 10;
const REPORT_WINDOW: Duration = Duration::from_secs(60);

impl Unobserved {
    /// Whether a failure may be reported now; if so, how many were held back before it.
    fn may_report(&self) -> Option<usize> {
        let now = std::time::Instant::now();
        if self
            .window
            .get()
            .is_none_or(|start| now - start > REPORT_WINDOW)
        {
            self.window.set(Some(now));
            self.in_window.set(0);
        }
        if self.in_window.get() >= REPORTS_PER_WINDOW {
            self.held_back.set(self.held_back.get() + 1);
            return None;
        }
        self.in_window.set(self.in_window.get() + 1);
        Some(self.held_back.replace(0))
    }

    /// What failed unseen: the number of failed tasks nobody awaited, the reports of those
    /// not reported when they failed, the number of intervals stopped by an error, and the
    /// first message of each kind.
    pub fn take(&self) -> Unseen {
        let failed: Vec<_> = self
            .tasks
            .take()
            .into_iter()
            .filter(|t| !t.observed.get())
            .filter(|t| matches!(&*t.outcome.borrow(), Some(Outcome::Failed(_))))
            .collect();
        let unreported = failed
            .iter()
            .filter(|t| !t.reported.get())
            .filter_map(|t| match &*t.outcome.borrow() {
                Some(Outcome::Failed(f)) => Some(f.report.clone()),
                _ => None,
            })
            .collect();
        let first_task_failure = failed.first().and_then(|t| match &*t.outcome.borrow() {
            Some(Outcome::Failed(f)) => Some(f.report.message.clone()),
            _ => None,
        });
        Unseen {
            tasks: failed.len(),
            unreported,
            intervals: self.interval_failures.replace(0),
            first_task_failure,
            first_interval_failure: self.first_interval_failure.take(),
        }
    }
}

/// See [`Unobserved::take`].
#[derive(Debug)]
pub struct Unseen {
    pub tasks: usize,
    pub unreported: Vec<Report>,
    pub intervals: usize,
    pub first_task_failure: Option<String>,
    pub first_interval_failure: Option<String>,
}

struct Task(Rc<TaskState>);

impl UserData for Task {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with("__index", |lua| {
            let methods = lua.create_table()?;
            methods.raw_set("await", async_function(lua, "task:await", task_await)?)?;
            methods.raw_set("cancel", function(lua, "task:cancel", task_cancel)?)?;
            methods.raw_set(
                "done",
                function(lua, "task:done", |_, args| {
                    Ok(task_arg(&args, 1)?.outcome.borrow().is_some())
                })?,
            )?;
            Ok(methods)
        });
        fields.add_meta_field("__name", "task");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method("__tostring", |_, task, ()| {
            crate::vm::ensure_open()?;
            let status = match &*task.0.outcome.borrow() {
                None => "running",
                Some(Outcome::Values(_)) => "done",
                Some(Outcome::Failed(_)) => "failed",
                Some(Outcome::Cancelled) => "cancelled",
            };
            Ok(format!("task ({status})"))
        });
    }
}

/// An interval's stop handle (taken by `cancel`) and its entry among the work in flight.
struct Interval(RefCell<Option<AbortHandle>>, Option<u64>);

impl UserData for Interval {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with("__index", |lua| {
            let methods = lua.create_table()?;
            methods.raw_set(
                "cancel",
                function(lua, "interval:cancel", |lua, args| {
                    let (handle, id) = match args.value(1) {
                        Value::UserData(ud) => match ud.borrow::<Interval>() {
                            Ok(i) => (i.0.borrow_mut().take(), i.1),
                            Err(_) => return Err(args.bad(1, "self", "interval")),
                        },
                        _ => return Err(args.bad(1, "self", "interval")),
                    };
                    if let (Some(_), Some(id)) = (&handle, id) {
                        crate::vm::pending::forget(lua, id);
                    }
                    Ok(handle.map(|h| h.abort()).is_some())
                })?,
            )?;
            Ok(methods)
        });
        fields.add_meta_field("__name", "interval");
    }
}

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("spawn", function(lua, "async.spawn", spawn)?)?;
    t.raw_set("interval", function(lua, "async.interval", interval)?)?;
    t.raw_set("all", async_function(lua, "async.all", all)?)?;
    Ok(())
}

fn task_arg(args: &Args, pos: usize) -> BuiltinResult<Rc<TaskState>> {
    match args.value(pos) {
        Value::UserData(ud) => match ud.borrow::<Task>() {
            Ok(task) => Ok(task.0.clone()),
            Err(_) => Err(args.bad(pos, "task", "task")),
        },
        _ => Err(args.bad(pos, "task", "task")),
    }
}

fn spawn(lua: &Lua, args: Args) -> BuiltinResult<AnyUserData> {
    let f = args.function(1, "fn")?;
    crate::vm::keepalive::ensure_room_for_task(lua)?;
    let rest = args.rest(2);
    // The coroutine is made now, so a spawn that does not fit in memory fails here.
    let call = Traced::new(lua, f, rest)?;
    let state = Rc::new(TaskState::default());
    let runner = state.clone();
    let task_lua = lua.clone();
    let hold = crate::vm::keepalive::hold(lua);
    let ticket = crate::vm::pending::register(lua, "async.spawn".into());
    let registered = ticket.as_ref().map(|t| t.id());
    state.pending.set(registered);
    let handle = tokio::task::spawn_local(async move {
        let _hold = hold;
        let _ticket = ticket;
        let outcome = match call.run(&task_lua).await {
            Ok(Ok(values)) => Outcome::Values(values),
            Ok(Err(failure)) => Outcome::Failed(failure),
            Err(e) => Outcome::Failed(Failure {
                report: Report {
                    message: super::function::error_message(&e),
                    traceback: String::new(),
                },
                value: Value::Nil,
            }),
        };
        if let Outcome::Failed(failure) = &outcome
            && let Some(unobserved) = task_lua.app_data_ref::<Unobserved>()
        {
            if runner.waiters.get() == 0
                && let Some(suppressed) = unobserved.may_report()
            {
                let report = &failure.report;
                let mut message = format!("task failed (nobody awaits it yet): {}", report.message);
                if suppressed > 0 {
                    message.push_str(&format!(" ({suppressed} such failures not shown before)"));
                }
                log::runtime_failure(&task_lua, log::Level::Error, &message, &report.traceback);
                runner.reported.set(true);
            }
            unobserved.tasks.borrow_mut().push(runner.clone());
        }
        runner.finish(outcome);
    });
    *state.abort.borrow_mut() = Some(handle.abort_handle());
    set_abort(lua, registered, handle.abort_handle());
    Ok(lua.create_userdata(Task(state))?)
}

/// Counts a waiter on a task while it lives.
struct Waiting<'a>(&'a TaskState);

impl<'a> Waiting<'a> {
    fn on(state: &'a TaskState) -> Self {
        state.waiters.set(state.waiters.get() + 1);
        Self(state)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiters.set(self.0.waiters.get() - 1);
    }
}

async fn wait(state: &TaskState) {
    let _waiting = Waiting::on(state);
    loop {
        let notified = state.finished.notified();
        if state.outcome.borrow().is_some() {
            return;
        }
        notified.await;
    }
}

/// The task's results, or its error re-raised as the original Lua value.
fn outcome_of(state: &TaskState) -> BuiltinResult<MultiValue> {
    state.observed.set(true);
    match &*state.outcome.borrow() {
        Some(Outcome::Values(values)) => Ok(values.clone()),
        Some(Outcome::Failed(failure)) => Err(Raise::Value(failure.value.clone())),
        Some(Outcome::Cancelled) | None => Err(Raise::msg("task cancelled")),
    }
}

async fn task_await(_: Lua, args: Args) -> BuiltinResult<MultiValue> {
    let state = task_arg(&args, 1)?;
    wait(&state).await;
    outcome_of(&state)
}

fn task_cancel(lua: &Lua, args: Args) -> BuiltinResult<bool> {
    let state = task_arg(&args, 1)?;
    let handle = state.abort.borrow_mut().take();
    match handle {
        Some(handle) if state.outcome.borrow().is_none() => {
            handle.abort();
            if let Some(id) = state.pending.take() {
                crate::vm::pending::forget(lua, id);
            }
            state.finish(Outcome::Cancelled);
            Ok(true)
        }
        _ => Ok(false),
    }
}

async fn all(lua: Lua, args: Args) -> BuiltinResult<Table> {
    let list = args.table(1, "tasks")?;
    let mut states = Vec::new();
    for (i, item) in list.sequence_values::<Value>().enumerate() {
        match item? {
            Value::UserData(ud) if ud.is::<Task>() => {
                states.push(ud.borrow::<Task>().map_err(Raise::Lua)?.0.clone());
            }
            other => {
                return Err(args.invalid(
                    1,
                    "tasks",
                    format!("item {} is a {}, not a task", i + 1, type_name(&other)),
                ));
            }
        }
    }
    // Every task is awaited from now on, and the first to fail (or be cancelled), whichever
    // it is, ends the call with its error at once (as `Promise.all`): a failure is never
    // held back behind a task still running.
    let _waiting: Vec<Waiting<'_>> = states.iter().map(|state| Waiting::on(state)).collect();
    let any_finished = Rc::new(Notify::new());
    let _watching = Watching::on(&states, &any_finished);
    loop {
        let notified = any_finished.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let ended_badly = states.iter().find(|state| {
            matches!(
                &*state.outcome.borrow(),
                Some(Outcome::Failed(_) | Outcome::Cancelled)
            )
        });
        if let Some(state) = ended_badly {
            return Err(outcome_of(state)
                .err()
                .unwrap_or_else(|| Raise::msg("task failed")));
        }
        if states.iter().all(|state| state.outcome.borrow().is_some()) {
            break;
        }
        notified.await;
    }
    let results = lua.create_table_with_capacity(states.len(), 0)?;
    for (i, state) in states.iter().enumerate() {
        let first = outcome_of(state)?.pop_front().unwrap_or(Value::Nil);
        results.raw_seti(i + 1, first)?;
    }
    Ok(results)
}

/// An `async.all` call's notifier, registered on its tasks while it waits.
struct Watching<'a> {
    states: &'a [Rc<TaskState>],
    notify: &'a Rc<Notify>,
}

impl<'a> Watching<'a> {
    fn on(states: &'a [Rc<TaskState>], notify: &'a Rc<Notify>) -> Self {
        for state in states {
            state.watchers.borrow_mut().push(notify.clone());
        }
        Self { states, notify }
    }
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        for state in self.states {
            state
                .watchers
                .borrow_mut()
                .retain(|watcher| !Rc::ptr_eq(watcher, self.notify));
        }
    }
}

/// How late a tick may be and still count as on time (tokio's own tolerance).
const MISSED_TICK: Duration = Duration::from_millis(5);

fn interval(lua: &Lua, args: Args) -> BuiltinResult<AnyUserData> {
    let period = args.seconds(1, "seconds")?;
    if period < Duration::from_millis(1) {
        return Err(args.invalid(1, "seconds", "an interval must be at least 0.001 s"));
    }
    let f: Function = args.function(2, "fn")?;
    crate::vm::keepalive::ensure_room_for_task(lua)?;
    let task_lua = lua.clone();
    let hold = crate::vm::keepalive::hold(lua);
    let ticket = crate::vm::pending::register(lua, "async.interval".into());
    let registered = ticket.as_ref().map(|t| t.id());
    let handle = tokio::task::spawn_local(async move {
        let _hold = hold;
        let _ticket = ticket;
        let mut next = std::time::Instant::now() + period;
        loop {
            crate::vm::timers::sleep_until(next).await;
            // A tick more than a few milliseconds late (the script was busy) starts the count
            // again from now rather than firing the missed ticks in a burst.
            let now = std::time::Instant::now();
            next = if now > next + MISSED_TICK {
                now + period
            } else {
                next + period
            };
            let failure = match run_traced(&task_lua, f.clone(), ()).await {
                Ok(Ok(_)) => continue,
                Ok(Err(failure)) => failure.report,
                Err(e) => Report {
                    message: super::function::error_message(&e),
                    traceback: String::new(),
                },
            };
            let message = format!("interval stopped: {}", failure.message);
            log::runtime_failure(&task_lua, log::Level::Error, &message, &failure.traceback);
            if let Some(unobserved) = task_lua.app_data_ref::<Unobserved>() {
                unobserved
                    .interval_failures
                    .set(unobserved.interval_failures.get() + 1);
                let mut first = unobserved.first_interval_failure.borrow_mut();
                first.get_or_insert(failure.message);
            }
            return;
        }
    });
    set_abort(lua, registered, handle.abort_handle());
    Ok(lua.create_userdata(Interval(
        RefCell::new(Some(handle.abort_handle())),
        registered,
    ))?)
}

/// Lets the registry of work in flight stop the work `id` (see `vm::pending`).
fn set_abort(lua: &Lua, id: Option<u64>, abort: AbortHandle) {
    if let (Some(id), Some(pending)) = (id, lua.app_data_ref::<crate::vm::pending::Pending>()) {
        pending.set_stop(id, abort);
    }
}
