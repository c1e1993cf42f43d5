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

    /// Completes once no hold is left.
    pub async fn idle(&self) {
        while self.0.holds.get() > 0 {
            self.0.released.notified().await;
        }
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
