//! The async work in flight (`async.spawn` tasks, `async.interval`s, `process.spawn`
//! processes), each with what it is and where it started: for a host that must say what a
//! script left running and stop it. `assay test` fails the test that leaves work behind (see
//! `crate::testing`).
//!
//! Work is registered when it starts and forgotten when it finishes or is cancelled. Ids only
//! grow, so [`Pending::mark`] before a piece of code and [`Pending::cancel_since`] after it
//! find exactly what that code started and left running.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use mlua::Lua;
use tokio::task::AbortHandle;

/// How to stop a piece of work, and whether it has in fact ended (a process that exited
/// while its watcher has not yet noticed).
pub trait Stop {
    fn stop(&self);
    fn done(&self) -> bool {
        false
    }
}

impl Stop for AbortHandle {
    fn stop(&self) {
        self.abort();
    }
}

struct Entry {
    /// `async.spawn`, `async.interval`, `process.spawn of 'prog'`.
    what: String,
    /// `file:line` of the call, or empty.
    at: String,
    stop: Option<Box<dyn Stop>>,
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
    pub fn register(&self, what: String, at: String) -> Ticket {
        let id = self.0.next.get();
        self.0.next.set(id + 1);
        self.0.live.borrow_mut().insert(
            id,
            Entry {
                what,
                at,
                stop: None,
            },
        );
        Ticket {
            registry: self.0.clone(),
            id,
        }
    }

    /// How to stop the work `id`, once it is spawned.
    pub fn set_stop(&self, id: u64, stop: impl Stop + 'static) {
        if let Some(entry) = self.0.live.borrow_mut().get_mut(&id) {
            entry.stop = Some(Box::new(stop));
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
        // Out of the registry first: stopping may drop other work, which unregisters itself.
        let stopped: Vec<Entry> = {
            let mut live = self.0.live.borrow_mut();
            let later = live.split_off(&mark);
            later.into_values().collect()
        };
        stopped
            .into_iter()
            .filter(|entry| !entry.stop.as_ref().is_some_and(|s| s.done()))
            .map(|entry| {
                if let Some(stop) = entry.stop {
                    stop.stop();
                }
                match entry.at.as_str() {
                    "" => entry.what,
                    at => format!("{} at {at}", entry.what),
                }
            })
            .collect()
    }
}

/// Registers work on `lua` (nothing when the VM keeps no registry).
pub fn register(lua: &Lua, what: String) -> Option<Ticket> {
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
