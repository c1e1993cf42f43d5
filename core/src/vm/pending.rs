//! The async work in flight (`async.spawn` tasks, `async.interval`s), each with what it is and
//! where it started: for a host that must say what a script left running and stop it.
//! `assay test` fails the test that leaves work behind (see `crate::testing`).
//!
//! Work is registered when it starts and forgotten when it finishes or is cancelled. Ids only
//! grow, so [`Pending::mark`] before a piece of code and [`Pending::cancel_since`] after it
//! find exactly what that code started and left running.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use mlua::Lua;
use tokio::task::AbortHandle;

struct Entry {
    /// `async.spawn` or `async.interval`.
    what: &'static str,
    /// `file:line` of the call, or empty.
    at: String,
    abort: Option<AbortHandle>,
}

#[derive(Default)]
struct Registry {
    next: Cell<u64>,
    live: RefCell<BTreeMap<u64, Entry>>,
}

/// The VM's work in flight.
#[derive(Clone, Default)]
pub struct Pending(Rc<Registry>);

/// One registered piece of work; dropping it (the work's future ending) forgets it.
pub struct Ticket {
    registry: Rc<Registry>,
    id: u64,
}

impl Ticket {
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.registry.live.borrow_mut().remove(&self.id);
    }
}

impl Pending {
    /// Registers work `what` started at `at` (`file:line`).
    pub fn register(&self, what: &'static str, at: String) -> Ticket {
        let id = self.0.next.get();
        self.0.next.set(id + 1);
        self.0.live.borrow_mut().insert(
            id,
            Entry {
                what,
                at,
                abort: None,
            },
        );
        Ticket {
            registry: self.0.clone(),
            id,
        }
    }

    /// The handle that stops the work `id`, once it is spawned.
    pub fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(entry) = self.0.live.borrow_mut().get_mut(&id) {
            entry.abort = Some(abort);
        }
    }

    /// The work with id `id` was cancelled by the script: it no longer counts as running.
    pub fn forget(&self, id: u64) {
        self.0.live.borrow_mut().remove(&id);
    }

    /// What identifies the work started from now on.
    pub fn mark(&self) -> u64 {
        self.0.next.get()
    }

    /// Stops the work started since `mark` that is still running, and says what it was:
    /// `async.interval at t_test.lua:3`, one per piece of work, oldest first.
    pub fn cancel_since(&self, mark: u64) -> Vec<String> {
        let stopped: Vec<Entry> = {
            let mut live = self.0.live.borrow_mut();
            let later = live.split_off(&mark);
            later.into_values().collect()
        };
        stopped
            .into_iter()
            .map(|entry| {
                if let Some(abort) = entry.abort {
                    abort.abort();
                }
                match entry.at.as_str() {
                    "" => entry.what.to_owned(),
                    at => format!("{} at {at}", entry.what),
                }
            })
            .collect()
    }
}

/// Registers work on `lua` (nothing when the VM keeps no registry).
pub fn register(lua: &Lua, what: &'static str) -> Option<Ticket> {
    let pending = lua.app_data_ref::<Pending>()?.clone();
    let at = crate::builtins::function::caller_position(lua);
    let at = at.trim_end_matches(": ").to_owned();
    Some(pending.register(what, at))
}

/// Forgets the work `id` on `lua` (it was cancelled).
pub fn forget(lua: &Lua, id: u64) {
    if let Some(pending) = lua.app_data_ref::<Pending>() {
        pending.forget(id);
    }
}
