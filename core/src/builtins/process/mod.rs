//! `process`: programs run without blocking the VM (API.md "process").
//!
//! - `process.run(argv, opts)` runs `argv[1]` (looked up in `PATH`, no shell) with the other
//!   items as its arguments and returns `{status, signal, ok, stdout, stderr, timed_out,
//!   stdout_truncated, stderr_truncated}` once it has exited and its output has ended. The
//!   calling coroutine waits; other coroutines, timers and servers go on meanwhile. A non-zero
//!   exit is data (`ok = false`), not an error, unless `opts.check` is true.
//! - `process.shell(cmdline, opts)` is `process.run({"sh", "-c", cmdline}, opts)`.
//! - `process.spawn(argv, opts)` returns a handle at once (see `handle.rs`).
//!
//! Results: `status` is the exit code, nil when a signal ended the process; `signal` is that
//! signal's number, else nil; `ok` is `status == 0`. `stdout`/`stderr` are the captured bytes
//! (nil for a stream that was inherited or discarded).
//!
//! Options (unknown keys are errors): `env` (a table of variables merged into the environment
//! the script sees, `env.set` included; `clear_env = true` starts from an empty one), `cwd`,
//! `stdin` (for run and shell, a string is the input itself, written while the output is read;
//! `io.stdin` passes the script's own; the default is `/dev/null`, so a child never waits on a
//! terminal by surprise; spawn's default is a pipe for `handle:write`, or `"null"`/`io.stdin`),
//! `stdout`/`stderr` (`"pipe"`, the default, `"inherit"` or `"null"`), `timeout` (seconds, or
//! `math.huge` for none: then SIGTERM to the child's process group, SIGKILL `kill_grace`
//! seconds later, default 2, and `timed_out = true`), `max_output` (bytes kept per stream, at
//! least 1; default a quarter of the memory limit, 64 MiB without one; beyond it the rest is
//! read and dropped and `stdout_truncated`/`stderr_truncated` say so), `check` (raise when the
//! process fails: its status or signal and the end of its stderr).
//!
//! Each child leads a process group of its own, so a timeout or `kill` reaches the processes it
//! started too; with `stdin = io.stdin` it stays in assay's group instead (a background group
//! cannot read the terminal) and only the child itself is signalled. A signal sent to assay
//! alone (Ctrl-C reaches the terminal's foreground group, which the children are not in) does
//! not reach them; when assay exits, the children still running get SIGTERM. As with Python's
//! `subprocess.run`, a run lasts until the child's output ends: a background grandchild that
//! keeps the pipes open keeps the run waiting, unless a `timeout` ends it (one that left the
//! process group and outlives SIGKILL is given up on `kill_grace` later, its output cut).
//!
//! `process` is absent from the sandbox ("process.run is not available in sandbox").

mod child;
mod handle;
mod options;
mod output;

use mlua::{Lua, Table};

use self::child::Child;
use self::options::{Kind, Spec};
use self::output::Stream;
use super::args::Args;
use super::function::{BuiltinResult, Raise, async_function, function};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set(
        "run",
        async_function(lua, "process.run", |lua, args| run(lua, args, Kind::Run))?,
    )?;
    t.raw_set(
        "shell",
        async_function(lua, "process.shell", |lua, args| {
            run(lua, args, Kind::Shell)
        })?,
    )?;
    t.raw_set("spawn", function(lua, "process.spawn", handle::spawn)?)?;
    Ok(())
}

async fn run(lua: Lua, args: Args, kind: Kind) -> BuiltinResult<Table> {
    let mut spec = Spec::read(&lua, &args, kind)?;
    let child = Child::start(&mut spec).map_err(Raise::msg)?;
    child.drain();
    child.finished().await;
    let result = Outcome::take(&child);
    if spec.check {
        result.check(&child.program)?;
    }
    result.to_table(&lua)
}

/// How a child ended and what it wrote.
pub struct Outcome {
    status: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    lost: Option<String>,
    stdout: Option<(Vec<u8>, bool)>,
    stderr: Option<(Vec<u8>, bool)>,
}

impl Outcome {
    /// Takes the end state and the remaining output of a finished child.
    fn take(child: &Child) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        let mut state = child.shared().lock();
        let mut output = |which| {
            let stream = state.stream(which);
            stream.piped.then(|| (stream.take_all(), stream.truncated))
        };
        let (stdout, stderr) = (output(Stream::Stdout), output(Stream::Stderr));
        Outcome {
            status: state.exit.and_then(|e| e.code()),
            signal: state.exit.and_then(|e| e.signal()),
            timed_out: state.timed_out,
            lost: state.lost.clone(),
            stdout,
            stderr,
        }
    }

    /// `"exited 0"`, `"killed by signal 9"`, for `tostring(handle)`.
    fn describe(&self) -> String {
        match (&self.lost, self.timed_out, self.status, self.signal) {
            (Some(_), ..) => "lost".to_owned(),
            (_, true, ..) => "timed out".to_owned(),
            (_, _, Some(code), _) => format!("exited {code}"),
            (_, _, None, Some(signal)) => format!("killed by signal {signal}"),
            _ => "ended".to_owned(),
        }
    }

    fn ok(&self) -> bool {
        self.status == Some(0) && !self.timed_out
    }

    /// `opts.check`: an error unless the process succeeded.
    fn check(&self, program: &str) -> BuiltinResult<()> {
        if self.ok() {
            return Ok(());
        }
        let how = match (&self.lost, self.timed_out, self.status, self.signal) {
            (Some(why), ..) => format!("was lost: {why}"),
            (_, true, ..) => "timed out".to_owned(),
            (_, _, Some(code), _) => format!("exited with status {code}"),
            (_, _, None, Some(signal)) => format!("was killed by signal {signal}"),
            _ => "failed".to_owned(),
        };
        let mut message = format!("'{program}' {how}");
        if let Some((stderr, _)) = &self.stderr {
            let tail = tail(stderr, 1000);
            if !tail.is_empty() {
                message.push_str(": ");
                message.push_str(&tail);
            }
        }
        Err(Raise::msg(message))
    }

    fn to_table(&self, lua: &Lua) -> BuiltinResult<Table> {
        let t = lua.create_table_with_capacity(0, 8)?;
        t.raw_set("status", self.status)?;
        t.raw_set("signal", self.signal)?;
        t.raw_set("ok", self.ok())?;
        t.raw_set("timed_out", self.timed_out)?;
        for (name, stream) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if let Some((bytes, truncated)) = stream {
                crate::vm::memory::ensure_room(lua, bytes.len())?;
                t.raw_set(name, lua.create_string(bytes)?)?;
                t.raw_set(format!("{name}_truncated"), *truncated)?;
            }
        }
        Ok(t)
    }
}

/// The last `max` bytes of `bytes`, trimmed, as text.
fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).trim().to_owned()
}
