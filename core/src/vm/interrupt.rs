//! The VM's count hook: every [`HOOK_EVERY`] Lua instructions it asks each registered check
//! whether the running code must stop (the run's deadline has passed; the plugin call this
//! coroutine serves was abandoned by its caller), and raises the first check's error; or
//! whether it must yield for now (a plugin call that has computed for a whole time slice while
//! that plugin's I/O waits on this thread, see `plugin::reactor`).
//!
//! One hook serves every check because Lua has one hook per thread, and coroutines inherit
//! the hook of the thread that creates them: a second, thread-specific hook would not reach
//! the coroutines a handler starts. The hook exists only once a check is registered (a
//! deadline, or the first Lua function handed to a plugin), so plain runs never pay for it;
//! coroutines created before that run without it.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{HookTriggers, Lua, VmState};

/// Lua instructions between two checks: about 20-50 µs of a busy loop.
pub const HOOK_EVERY: u32 = 10_000;

/// A check the hook runs: an error stops the running code with that error; `Yield` suspends
/// the running coroutine (where Lua can: a hook yields only at yieldable points), which its
/// driver resumes later.
pub type Check = Rc<dyn Fn(&Lua) -> mlua::Result<VmState>>;

/// The registered checks, as app data.
#[derive(Default)]
struct Checks(RefCell<Vec<Check>>);

/// Registers `check`, installing the hook on first use (coroutines created from now on run it).
pub fn add(lua: &Lua, check: Check) -> mlua::Result<()> {
    if let Some(checks) = lua.app_data_ref::<Checks>() {
        checks.0.borrow_mut().push(check);
        return Ok(());
    }
    lua.set_app_data(Checks(RefCell::new(vec![check])));
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
        |lua, _| {
            // Cloned out, so a check may register another without a borrow conflict.
            let checks: Vec<Check> = match lua.app_data_ref::<Checks>() {
                Some(checks) => checks.0.borrow().clone(),
                None => Vec::new(),
            };
            let mut state = VmState::Continue;
            for check in checks {
                if let VmState::Yield = check(lua)? {
                    state = VmState::Yield;
                }
            }
            Ok(state)
        },
    )
}
