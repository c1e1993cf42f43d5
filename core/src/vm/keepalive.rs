//! What keeps a run alive after its main chunk returns: spawned tasks, intervals and Lua
//! callbacks running for a plugin each hold a [`Hold`]; the run ends when none is left. Work
//! that only waits for something to do (the callback dispatcher) holds none, so it never keeps
//! a finished program running.

use std::cell::Cell;
use std::rc::Rc;

use mlua::Lua;
use tokio::sync::Notify;

#[derive(Default)]
struct Count {
    holds: Cell<usize>,
    released: Notify,
    /// Set by [`KeepAlive::stop_waiting`]: the run ends without waiting for the holds left.
    abandoned: Cell<bool>,
}

/// The VM's count of live holds.
#[derive(Clone, Default)]
pub struct KeepAlive(Rc<Count>);

/// One reason to keep running; dropping it releases it.
pub struct Hold(Rc<Count>);

impl KeepAlive {
    pub fn hold(&self) -> Hold {
        self.0.holds.set(self.0.holds.get() + 1);
        Hold(self.0.clone())
    }

    /// How many holds are live (tasks, intervals, callbacks in flight).
    pub fn holds(&self) -> usize {
        self.0.holds.get()
    }

    /// Completes once no hold is left (or the host stopped waiting for them).
    pub async fn idle(&self) {
        while self.0.holds.get() > 0 && !self.0.abandoned.get() {
            self.0.released.notified().await;
        }
    }

    /// The run ends once its main chunk returns, whatever still holds it (a server a plugin
    /// runs, a process left running): what is left goes with the run. For hosts that decide
    /// when a run is over, as `assay test` does once a file's cases are done; it lasts for the
    /// rest of the VM's life.
    pub fn stop_waiting(&self) {
        self.0.abandoned.set(true);
        self.0.released.notify_waiters();
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let left = self.0.holds.get().saturating_sub(1);
        self.0.holds.set(left);
        if left == 0 {
            self.0.released.notify_waiters();
        }
    }
}

/// A hold on `lua`'s run, for work spawned on its executor.
pub fn hold(lua: &Lua) -> Option<Hold> {
    lua.app_data_ref::<KeepAlive>().map(|k| k.hold())
}

/// What one live task or interval costs outside Lua's allocator (its executor task, waker,
/// state, the sleep or I/O it waits on; measured at about 3 KB of RSS per sleeping task),
/// charged against the memory limit so that
/// spawning without end fails cleanly instead of growing the process past the limit.
pub const TASK_COST: usize = 3 << 10;

/// A memory error unless one more task fits in the VM's limit beside the live ones.
pub fn ensure_room_for_task(lua: &Lua) -> mlua::Result<()> {
    let live = lua.app_data_ref::<KeepAlive>().map_or(0, |k| k.holds());
    crate::vm::memory::ensure_room(lua, (live + 1).saturating_mul(TASK_COST))
}
