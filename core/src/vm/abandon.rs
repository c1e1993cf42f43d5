//! Work nobody waits for any more: a run dropped before its end (a cancelled task, a plugin
//! call its caller gave up on, a handler past its timeout).
//!
//! Dropping the run stops polling its coroutine, but what the coroutine waits on (a builtin's
//! future: a child process, a timer, a request) lives in a userdata on its stack, and in any
//! coroutine it resumed, until the collector frees it. So the coroutine is closed (its
//! `<close>` variables run, its stack is let go) and a full collection drops those futures
//! now, which ends what they hold (`process.run` kills its child when its future is dropped).
//! Collections are spaced so that they take at most a tenth of the time: a flood of
//! abandoned calls (clients that hang up) cannot keep the VM collecting; one that comes too
//! soon is done at the next run's end or abandonment after the gap.

use std::cell::Cell;
use std::time::{Duration, Instant};

use mlua::{Function, Lua};

/// When the last forced collection ran, what it cost, and whether one is owed.
#[derive(Default)]
struct Reclaim {
    last: Cell<Option<Instant>>,
    cost: Cell<Duration>,
    owed: Cell<bool>,
}

/// Closes `thread`, whose run was dropped before its end, and collects what it held.
/// `body` is any function: a closed coroutine is left ready to run it.
pub fn abandoned(lua: &Lua, thread: &mlua::Thread, body: Function) {
    if super::ensure_open().is_err() {
        return;
    }
    if matches!(thread.status(), mlua::prelude::LuaThreadStatus::Resumable) {
        let _ = thread.reset(body);
    }
    collect(lua, true);
}

impl Drop for Reclaim {
    fn drop(&mut self) {
        if self.owed.get() {
            let _ = OWING.try_with(|n| n.set(n.get().saturating_sub(1)));
        }
    }
}

thread_local! {
    /// How many VMs of this thread owe a collection (checked before a VM's own state, which
    /// costs a lookup, at the end of every run).
    static OWING: Cell<usize> = const { Cell::new(0) };
}

/// A collection owed by an earlier abandonment, if its gap has passed.
pub fn settle(lua: &Lua) {
    if OWING.with(Cell::get) == 0 {
        return;
    }
    let owed = lua.app_data_ref::<Reclaim>().is_some_and(|r| r.owed.get());
    if owed {
        collect(lua, false);
    }
}

fn collect(lua: &Lua, asked: bool) {
    if lua.app_data_ref::<Reclaim>().is_none() {
        lua.set_app_data(Reclaim::default());
    }
    let Some(reclaim) = lua.app_data_ref::<Reclaim>() else {
        return;
    };
    let now = Instant::now();
    let gap = (reclaim.cost.get() * 10).max(Duration::from_millis(1));
    if reclaim.last.get().is_some_and(|last| now < last + gap) {
        if asked && !reclaim.owed.replace(true) {
            OWING.with(|n| n.set(n.get() + 1));
        }
        return;
    }
    if reclaim.owed.replace(false) {
        OWING.with(|n| n.set(n.get().saturating_sub(1)));
    }
    reclaim.last.set(Some(now));
    drop(reclaim);
    let _ = lua.gc_collect();
    if let Some(reclaim) = lua.app_data_ref::<Reclaim>() {
        reclaim.cost.set(now.elapsed());
    }
}
