//! Running a Lua function as a coroutine under `xpcall`, so that a failure comes back with the
//! traceback of the place where it happened (a coroutine's stack is gone once it has died).

use std::cell::RefCell;
use std::ffi::c_void;
use std::rc::Rc;

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Value};

use crate::builtins::args::type_name;
use crate::builtins::function::{INTERNAL_CHUNK, caller_position, error_message};
use crate::vm::id_map::IdMap;

/// A failure as the user sees it: the message (`file:line: text`) and the traceback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub message: String,
    pub traceback: String,
}

/// A failed run: the Lua error value (to re-raise unchanged) and its report.
#[derive(Debug, Clone)]
pub struct Failure {
    pub value: Value,
    pub report: Report,
}

/// Calls `f(args)` in a new coroutine driven by the current executor (a task's).
pub async fn run_traced(
    lua: &Lua,
    f: Function,
    args: impl IntoLuaMulti,
) -> mlua::Result<Result<MultiValue, Failure>> {
    Traced::new(lua, f, args)?.run(lua).await
}

/// Like [`run_traced`], for the main chunk: to the script its coroutine is Lua's main thread
/// (see `builtins::coroutine`).
pub async fn run_traced_main(
    lua: &Lua,
    f: Function,
    args: impl IntoLuaMulti,
) -> mlua::Result<Result<MultiValue, Failure>> {
    Traced::driven(lua, f, args, crate::builtins::coroutine::MAIN)?
        .run(lua)
        .await
}

/// A call made ready to run: its coroutine exists (and counts against the memory limit)
/// before it is run, so a spawner learns at once that there is no room for it.
pub struct Traced {
    thread: mlua::Thread,
    args: MultiValue,
    reports: Reports,
    /// Where the coroutine goes once the call has finished (tasks only).
    pool: Option<Rc<RefCell<Vec<mlua::Thread>>>>,
}

/// Reports the message handler left, by the coroutine that failed (taken by its run).
type Reports = Rc<RefCell<IdMap<*const c_void, Report>>>;

/// What every traced call of a VM shares, made at its first call: the original `xpcall`, the
/// glue that marks a coroutine as driven, and one message handler, which files each failure's
/// report under the coroutine it happened in. Per call that leaves creating the coroutine.
#[derive(Clone)]
struct Shared {
    xpcall: Function,
    driven: Function,
    handler: Function,
    reports: Reports,
    /// Finished task coroutines, reset and reused by the next task or plugin call (a server
    /// makes one per request): making one was a tenth of a small handler call, counting the
    /// collector's share. A script that kept a task's coroutine (`coroutine.running()`) may
    /// later see it running another task; it could never resume it.
    pool: Rc<RefCell<Vec<mlua::Thread>>>,
}

/// Finished coroutines kept for reuse, per VM.
const POOL: usize = 32;

fn shared(lua: &Lua) -> mlua::Result<Shared> {
    if let Some(shared) = lua.app_data_ref::<Shared>() {
        return Ok(shared.clone());
    }
    let reports: Reports = Rc::default();
    let handler = {
        let reports = reports.clone();
        lua.create_function(move |lua, err: Value| {
            crate::vm::ensure_open()?;
            // A nil global of a plugin that is not installed says which plugin it is.
            let message = crate::plugin::absent::explain(lua, describe(lua, &err));
            let traceback = lua
                .traceback(None, 1)
                .map(|t| clean_traceback(&t.to_string_lossy()))
                .unwrap_or_default();
            let report = Report { message, traceback };
            reports
                .borrow_mut()
                .insert(lua.current_thread().to_pointer(), report);
            Ok(err)
        })?
    };
    let made = Shared {
        xpcall: lua.named_registry_value(XPCALL_KEY)?,
        driven: crate::builtins::function::glue(lua, "driven")?,
        handler,
        reports,
        pool: Rc::default(),
    };
    lua.set_app_data(made.clone());
    Ok(made)
}

impl Traced {
    /// A task's (or a callback's) call.
    pub fn new(lua: &Lua, f: Function, args: impl IntoLuaMulti) -> mlua::Result<Traced> {
        Self::driven(lua, f, args, crate::builtins::coroutine::TASK)
    }

    /// `kind`: what the coroutine is to the script (`builtins::coroutine::TASK` or `MAIN`).
    fn driven(lua: &Lua, f: Function, args: impl IntoLuaMulti, kind: i64) -> mlua::Result<Traced> {
        let shared = shared(lua)?;
        let reused = match kind {
            crate::builtins::coroutine::TASK => shared.pool.borrow_mut().pop(),
            _ => None,
        };
        let thread = match reused {
            // Marked as a task when it was made.
            Some(thread) if thread.reset(shared.xpcall.clone()).is_ok() => thread,
            _ => {
                let thread = lua.create_thread(shared.xpcall)?;
                // The script may see this coroutine (`coroutine.running()`) but not resume it.
                shared.driven.call::<()>((&thread, kind))?;
                thread
            }
        };
        let mut call_args = args.into_lua_multi(lua)?;
        call_args.push_front(Value::Function(shared.handler));
        call_args.push_front(Value::Function(f));
        Ok(Traced {
            thread,
            args: call_args,
            reports: shared.reports,
            pool: (kind == crate::builtins::coroutine::TASK).then_some(shared.pool),
        })
    }

    /// The coroutine the call runs in.
    pub fn thread(&self) -> &mlua::Thread {
        &self.thread
    }

    /// Runs the call to its end.
    pub async fn run(self, lua: &Lua) -> mlua::Result<Result<MultiValue, Failure>> {
        let key = self.thread.to_pointer();
        let thread = self.thread.clone();
        // Dropped before its end (the task cancelled, the caller gone): see `vm::abandon`.
        let mut unfinished = Unfinished {
            lua,
            thread: Some(thread.clone()),
        };
        let mut results: MultiValue = self.thread.into_async(self.args)?.await?;
        unfinished.thread = None;
        super::abandon::settle(lua);
        // Finished (xpcall caught any error): the coroutine can serve another call.
        if let Some(pool) = &self.pool
            && thread.status() == mlua::prelude::LuaThreadStatus::Finished
            && pool.borrow().len() < POOL
        {
            pool.borrow_mut().push(thread);
        }
        let ok = matches!(results.pop_front(), Some(Value::Boolean(true)));
        let report = self.reports.borrow_mut().remove(&key);
        if ok {
            return Ok(Ok(results));
        }
        let value = results.pop_front().unwrap_or(Value::Nil);
        let report = report.unwrap_or_else(|| Report {
            // Lua does not call the handler for memory errors.
            message: describe(lua, &value),
            traceback: String::new(),
        });
        Ok(Err(Failure { value, report }))
    }
}

/// Closes a run's coroutine if the run is dropped before its end.
struct Unfinished<'a> {
    lua: &'a Lua,
    thread: Option<mlua::Thread>,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        if let Ok(body) = self.lua.named_registry_value::<Function>(XPCALL_KEY) {
            super::abandon::abandoned(self.lua, &thread, body);
        }
    }
}

/// Registry key of the original `xpcall`, saved before any script can replace it.
pub const XPCALL_KEY: &str = "assay.xpcall";
/// Registry key of the original `pcall`.
pub const PCALL_KEY: &str = "assay.pcall";

/// The text of an error value, as `lua` itself would print it.
pub fn describe(lua: &Lua, err: &Value) -> String {
    match err {
        Value::String(s) => s.to_string_lossy(),
        Value::Error(e) => format!("{}{}", caller_position(lua), error_message(e)),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(err.clone())
            .ok()
            .flatten()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
        Value::Nil => "nil".to_owned(),
        other => {
            let has_tostring = match other {
                Value::Table(t) => t
                    .metatable()
                    .is_some_and(|mt| mt.contains_key("__tostring").unwrap_or(false)),
                Value::UserData(u) => u
                    .metatable()
                    .is_ok_and(|mt| mt.contains("__tostring").unwrap_or(false)),
                _ => false,
            };
            let tostring: Option<Function> = lua.globals().raw_get("tostring").ok();
            match tostring {
                Some(f) if has_tostring => f
                    .call::<mlua::LuaString>(other.clone())
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_else(|_| "(error object with a failing __tostring)".into()),
                _ => format!("(error object is a {} value)", type_name(other)),
            }
        }
    }
}

/// Drops the frames of Assay's own glue, which only confuse a reader.
fn clean_traceback(tb: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut after_glue_error = false;
    for line in tb.lines() {
        let trimmed = line.trim();
        // A builtin's failure is raised by the glue's `error`, reached by a tail call (named
        // `?` now that the glue ships stripped).
        if trimmed == "[C]: in upvalue 'error'" || trimmed == "[C]: in upvalue '?'" {
            after_glue_error = true;
            continue;
        }
        // The glue's tail call shows as the first frame; a user's tail calls stay.
        if (after_glue_error || out.len() == 1) && trimmed == "(...tail calls...)" {
            after_glue_error = false;
            continue;
        }
        after_glue_error = false;
        if line.contains(INTERNAL_CHUNK.trim_start_matches('='))
            || trimmed.starts_with("?: in ")
            || line.contains("__mlua")
            || trimmed.starts_with("[C]: in function 'xpcall'")
            || trimmed == "[C]: in ?"
        {
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}
