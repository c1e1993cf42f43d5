//! Assay's changes to the standard `coroutine` library, so that a script sees Lua's own
//! semantics although it runs in coroutines the runtime drives.
//!
//! The main chunk runs as a coroutine on the executor (see `vm`), and so do tasks
//! (`async.spawn`) and plugin callbacks (an `http.serve` handler): that is how `sleep` and I/O
//! suspend them. To the script, though, the main chunk is Lua's main thread, as under `lua`:
//!
//! - `coroutine.running()` answers `co, true` in the main chunk (`co, false` in a task: a task
//!   is a coroutine, but not one the script made);
//! - `coroutine.isyieldable()` is false in the main chunk and in a task;
//! - a `coroutine.yield(...)` of the script's own in the main chunk or a task raises
//!   "attempt to yield from outside a coroutine", as under `lua` (nobody in the script could
//!   resume it). Assay's own waits still suspend them: they yield a marker only the executor
//!   sees, which passes;
//! - `coroutine.resume`, `wrap`, `close` and `status` (in the glue chunk, `glue.lua`) pass
//!   Assay's waits through the script's own coroutines, refuse to resume or close a coroutine
//!   the runtime drives, and report the main chunk as `lua` reports its main thread
//!   ("cannot close main thread"; "normal" while a task runs and the main chunk waits).
//!
//! `running`, `isyieldable` and `yield` are C functions like the ones they replace, so hooks,
//! `debug.getinfo` and tracebacks see what they see under `lua`.

use std::ffi::{CStr, c_int};

use mlua::{Function, Lua, Table, ffi};

/// Registry field holding the glue's weak table of coroutines the runtime drives: thread ->
/// [`TASK`] or [`MAIN`].
const DRIVEN_KEY: &CStr = c"assay.driven";
/// A task or a callback: driven by the executor, not resumable by the script.
pub const TASK: i64 = 1;
/// The main chunk (or a REPL entry): Lua's main thread to the script.
pub const MAIN: i64 = 2;

/// Registry field holding the standard library's own `coroutine.yield`.
const NATIVE_YIELD_KEY: &str = "assay.native_yield";

/// Patches the `coroutine` library (resume, wrap, close, status in the glue; running,
/// isyieldable, yield here). `patch` is the glue's `patch_coroutines`.
pub fn install(lua: &Lua, patch: Function) -> mlua::Result<()> {
    let coroutine: Table = lua.globals().raw_get("coroutine")?;
    let native_yield: Function = coroutine.raw_get("yield")?;
    lua.set_named_registry_value(NATIVE_YIELD_KEY, native_yield)?;
    let select: Function = lua.globals().raw_get("select")?;
    let driven: Table = patch.call((
        Lua::poll_pending(),
        coroutine.clone(),
        select,
        super::function::timed_out(lua)?,
        TASK,
        MAIN,
    ))?;
    lua.set_named_registry_value(DRIVEN_KEY.to_str().map_err(mlua::Error::external)?, driven)?;
    // SAFETY: each function below follows the Lua C API's rules for its arguments and stack,
    // and holds no Rust value that needs dropping when Lua raises (longjmp) or yields.
    unsafe {
        coroutine.raw_set("running", lua.create_c_function(running)?)?;
        coroutine.raw_set("isyieldable", lua.create_c_function(isyieldable)?)?;
        coroutine.raw_set("yield", lua.create_c_function(checked_yield)?)?;
    }
    Ok(())
}

/// Runs `make` with the global `coroutine.yield` set to the standard library's own. mlua's
/// async functions capture whatever `coroutine.yield` is when they are made, and Assay makes
/// its async builtins lazily, after the script may have replaced it (or the whole `coroutine`
/// table): each must still suspend its caller with Lua's own yield.
pub fn with_native_yield<T>(lua: &Lua, make: impl FnOnce() -> mlua::Result<T>) -> mlua::Result<T> {
    let globals = lua.globals();
    let scripts: mlua::Value = globals.raw_get("coroutine")?;
    let private = lua.create_table()?;
    private.raw_set(
        "yield",
        lua.named_registry_value::<Function>(NATIVE_YIELD_KEY)?,
    )?;
    globals.raw_set("coroutine", private)?;
    let made = make();
    globals.raw_set("coroutine", scripts)?;
    made
}

/// What the coroutine at `index` is to the runtime: 0 (the script's own), [`TASK`] or [`MAIN`].
///
/// # Safety
/// `state` is a valid Lua state with a value at `index` and room for two more.
unsafe fn driven_kind(state: *mut ffi::lua_State, index: c_int) -> i64 {
    unsafe {
        let index = ffi::lua_absindex(state, index);
        if ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, DRIVEN_KEY.as_ptr()) != ffi::LUA_TTABLE
        {
            ffi::lua_pop(state, 1);
            return 0;
        }
        ffi::lua_pushvalue(state, index);
        ffi::lua_rawget(state, -2);
        let kind = ffi::lua_tointegerx(state, -1, std::ptr::null_mut());
        ffi::lua_pop(state, 2);
        kind
    }
}

/// `coroutine.running()`: the running coroutine, and whether it is the main thread (Lua's own,
/// or the main chunk's coroutine).
unsafe extern "C-unwind" fn running(state: *mut ffi::lua_State) -> c_int {
    unsafe {
        let main = ffi::lua_pushthread(state) == 1 || driven_kind(state, -1) == MAIN;
        ffi::lua_pushboolean(state, c_int::from(main));
        2
    }
}

/// `coroutine.isyieldable([co])`: Lua's answer, except false for coroutines the runtime drives.
unsafe extern "C-unwind" fn isyieldable(state: *mut ffi::lua_State) -> c_int {
    unsafe {
        let co = if ffi::lua_type(state, 1) == ffi::LUA_TNONE {
            ffi::lua_pushthread(state);
            state
        } else {
            let co = ffi::lua_tothread(state, 1);
            if co.is_null() {
                let got = ffi::luaL_typename(state, 1);
                let message =
                    ffi::lua_pushfstring(state, c"coroutine expected, got %s".as_ptr(), got);
                return ffi::luaL_argerror(state, 1, message);
            }
            ffi::lua_pushvalue(state, 1);
            co
        };
        let yieldable = driven_kind(state, -1) == 0 && ffi::lua_isyieldable(co) != 0;
        ffi::lua_pushboolean(state, c_int::from(yieldable));
        1
    }
}

/// `coroutine.yield(...)`: Lua's, except in a coroutine the runtime drives, where only
/// Assay's own waits (the executor's pending marker) may yield.
unsafe extern "C-unwind" fn checked_yield(state: *mut ffi::lua_State) -> c_int {
    unsafe {
        let n = ffi::lua_gettop(state);
        let assays_wait = n == 1 && ffi::lua_tolightuserdata(state, 1) == Lua::poll_pending().0;
        if !assays_wait {
            ffi::lua_pushthread(state);
            let kind = driven_kind(state, -1);
            ffi::lua_pop(state, 1);
            if kind != 0 {
                // No position, like the message of Lua's own `lua_yield`.
                ffi::lua_pushstring(state, c"attempt to yield from outside a coroutine".as_ptr());
                ffi::lua_error(state);
            }
        }
        ffi::lua_yield(state, n)
    }
}
