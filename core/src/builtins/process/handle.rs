//! `process.spawn(argv, opts)`: a running program as a handle.
//!
//! - `handle.pid`;
//! - `handle:write(s)` writes to its stdin (waits while the pipe is full); `handle:close_stdin()`;
//! - `handle:lines(stream)` (`"stdout"`, the default, or `"stderr"`): an iterator over that
//!   stream's lines (without their `\n`), waiting for each as it comes, for `for line in
//!   h:lines() do ... end`; output not read this way stays for `wait`;
//! - `handle:wait()` closes stdin (as Python's `communicate` does: nothing can be written while
//!   the script waits), waits for the end and returns the same table as `process.run` (output
//!   not already read with `lines`); again later, the same result;
//! - `handle:kill(signal)` signals the process group (`"TERM"` by default; names with or
//!   without `SIG`, or numbers) while the process or a member of its group still holds its
//!   output; false when nothing was left to signal.
//!
//! A handle closed (`local h <close> = process.spawn(...)`) or collected while its process
//! runs terminates it (SIGTERM to its group, SIGKILL after `kill_grace`; its output is drained
//! and dropped). The program does not end while a spawned process runs.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataMethods, Value};

use super::child::Child;
use super::options::{Kind, Spec};
use super::output::Stream;
use super::{Outcome, Raise};
use crate::builtins::args::Args;
use crate::builtins::function::{BuiltinResult, async_function, function};

/// A spawned process as the script holds it.
struct Process {
    child: Rc<Child>,
    check: bool,
    max_output: usize,
    /// Set by the first `wait`.
    outcome: Rc<RefCell<Option<Rc<Outcome>>>>,
}

/// A spawned process as the registry of work in flight sees it (`vm::pending`): stopped by
/// terminating it, done once it exited. Weak, so a collected handle still ends its process.
struct Running(std::rc::Weak<Child>);

impl crate::vm::pending::Stop for Running {
    fn stop(&self) {
        if let Some(child) = self.0.upgrade() {
            child.terminate();
        }
    }

    fn done(&self) -> bool {
        self.0.upgrade().is_none_or(|child| child.exited())
    }
}

/// The methods every handle of a VM shares, made on first spawn.
struct Methods(Table);

pub fn spawn(lua: &Lua, args: Args) -> BuiltinResult<AnyUserData> {
    let mut spec = Spec::read(lua, &args, Kind::Spawn)?;
    let child = Rc::new(Child::start(&mut spec).map_err(Raise::msg)?);
    // The program lives while the process runs, whoever holds the handle.
    let hold = crate::vm::keepalive::hold(lua);
    let what = format!("process.spawn of '{}'", child.program);
    let ticket = crate::vm::pending::register(lua, what);
    let registered = ticket.as_ref().map(|t| t.id());
    let shared = child.shared().clone();
    tokio::task::spawn_local(async move {
        let _hold = hold;
        let _ticket = ticket;
        shared.until(|s| s.exited().then_some(())).await;
    });
    if let (Some(id), Some(pending)) = (
        registered,
        lua.app_data_ref::<crate::vm::pending::Pending>(),
    ) {
        pending.set_stop(id, Running(Rc::downgrade(&child)));
    }
    Ok(lua.create_userdata(Process {
        child,
        check: spec.check,
        max_output: spec.max_output,
        outcome: Rc::default(),
    })?)
}

impl UserData for Process {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_meta_method(MetaMethod::Index, |lua, this, key: Value| {
            crate::vm::ensure_open()?;
            if let Value::String(s) = &key
                && &*s.as_bytes() == b"pid"
            {
                return Ok(Value::Integer(i64::from(this.child.pid)));
            }
            methods(lua)?.raw_get(key)
        });
        m.add_meta_method(MetaMethod::Close, |_, this, _: mlua::MultiValue| {
            this.child.terminate();
            Ok(())
        });
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            let state = match this.outcome.borrow().as_deref() {
                Some(outcome) => outcome.describe(),
                None if !this.child.exited() => "running".to_owned(),
                None => "exited".to_owned(),
            };
            Ok(format!("process {} ({state})", this.child.pid))
        });
    }
}

fn methods(lua: &Lua) -> mlua::Result<Table> {
    if let Some(methods) = lua.app_data_ref::<Methods>() {
        return Ok(methods.0.clone());
    }
    let t = lua.create_table()?;
    t.raw_set("write", async_function(lua, "process:write", write)?)?;
    t.raw_set(
        "close_stdin",
        function(lua, "process:close_stdin", |_, args| {
            args.at_most(1)?;
            Ok(this(&args)?.child.close_stdin())
        })?,
    )?;
    t.raw_set("lines", function(lua, "process:lines", lines)?)?;
    t.raw_set("wait", async_function(lua, "process:wait", wait)?)?;
    t.raw_set("kill", function(lua, "process:kill", kill)?)?;
    lua.set_app_data(Methods(t.clone()));
    Ok(t)
}

/// The handle a method was called on (`h:method()`), as the parts the method needs.
fn this(args: &Args) -> BuiltinResult<ProcessRef> {
    let bad = || args.bad(1, "self", "process handle (use h:method())");
    let Value::UserData(ud) = args.value(1) else {
        return Err(bad());
    };
    let process = ud.borrow::<Process>().map_err(|_| bad())?;
    Ok(ProcessRef {
        child: process.child.clone(),
        check: process.check,
        max_output: process.max_output,
        outcome: process.outcome.clone(),
    })
}

/// What a method holds of its handle while it waits (no borrow of the userdata across a wait).
struct ProcessRef {
    child: Rc<Child>,
    check: bool,
    max_output: usize,
    outcome: Rc<RefCell<Option<Rc<Outcome>>>>,
}

async fn write(_: Lua, args: Args) -> BuiltinResult<bool> {
    args.at_most(2)?;
    let process = this(&args)?;
    let data = match args.value(2) {
        Value::Integer(_) | Value::Number(_) => args.string_like(2, "data")?.into_bytes(),
        _ => args.bytes(2, "data")?.as_bytes().to_vec(),
    };
    process.child.write(data).await.map_err(Raise::msg)?;
    Ok(true)
}

fn lines(lua: &Lua, args: Args) -> BuiltinResult<mlua::Function> {
    args.at_most(2)?;
    let process = this(&args)?;
    let which = match args.opt_string(2, "stream")?.as_deref() {
        None | Some("stdout") => Stream::Stdout,
        Some("stderr") => Stream::Stderr,
        Some(other) => {
            let why = format!("\"stdout\" or \"stderr\" expected, got \"{other}\"");
            return Err(args.invalid(2, "stream", why));
        }
    };
    if !process.child.shared().lock().stream(which).piped {
        let why = format!(
            "{} is not a pipe (it was inherited or discarded)",
            which.name()
        );
        return Err(args.invalid(2, "stream", why));
    }
    let (child, cap) = (process.child, process.max_output);
    Ok(async_function(lua, "process:lines", move |lua, _| {
        let child = child.clone();
        async move {
            let line = child.line(which, cap).await.map_err(Raise::msg)?;
            match line {
                Some(line) => {
                    crate::vm::memory::ensure_room(&lua, line.len())?;
                    Ok(Value::String(lua.create_string(line)?))
                }
                None => Ok(Value::Nil),
            }
        }
    })?)
}

async fn wait(lua: Lua, args: Args) -> BuiltinResult<Table> {
    args.at_most(1)?;
    let process = this(&args)?;
    let known = process.outcome.borrow().clone();
    let outcome = match known {
        Some(outcome) => outcome,
        None => {
            process.child.close_stdin();
            process.child.drain();
            process.child.finished().await;
            // Another task may have waited too and taken the output first: every waiter
            // gets the same result.
            let mut known = process.outcome.borrow_mut();
            known
                .get_or_insert_with(|| Rc::new(Outcome::take(&process.child)))
                .clone()
        }
    };
    if process.check {
        outcome.check(&process.child.program)?;
    }
    outcome.to_table(&lua)
}

fn kill(lua: &Lua, args: Args) -> BuiltinResult<bool> {
    args.at_most(2)?;
    let process = this(&args)?;
    let signal = match args.value(2) {
        Value::Nil => libc::SIGTERM,
        Value::Integer(_) | Value::Number(_) => {
            let n = args.opt_integer(lua, 2, "signal")?.unwrap_or_default();
            i32::try_from(n)
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| args.invalid(2, "signal", format!("{n} is not a signal number")))?
        }
        Value::String(_) => {
            let name = args.string(2, "signal")?;
            signal_number(&name)
                .ok_or_else(|| args.invalid(2, "signal", format!("unknown signal name '{name}'")))?
        }
        _ => return Err(args.bad(2, "signal", "signal name or number")),
    };
    Ok(process.child.signal(signal))
}

/// `"TERM"`, `"SIGTERM"`, `"term"` -> 15.
fn signal_number(name: &str) -> Option<i32> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    Some(match bare {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "WINCH" => libc::SIGWINCH,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::signal_number;

    #[test]
    fn signal_names() {
        assert_eq!(signal_number("TERM"), Some(libc::SIGTERM));
        assert_eq!(signal_number("sigkill"), Some(libc::SIGKILL));
        assert_eq!(signal_number("SIGINT"), Some(libc::SIGINT));
        assert_eq!(signal_number("NOPE"), None);
    }
}
