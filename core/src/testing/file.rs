//! One test file: a VM of its own, the runner (`runner.lua`) that gives the file `test`,
//! `describe` and the hooks, and the [`Progress`] the runner reports as each case starts and
//! ends. The progress is shared with the thread waiting for the file, so a file that runs out
//! of time, or whose thread never comes back, still reports the cases it finished.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mlua::{Lua, MultiValue, Table, Value};

use super::Options;
use crate::builtins::r#async::Unobserved;
use crate::report::{Attempt, Case, Outcome};
use crate::vm::deadline::{GRACE, Watch};
use crate::vm::pending::Pending;
use crate::{RunError, RuntimeBuilder};

/// The most of a case's name or message kept (a test can raise a string of any size); the
/// rest is cut, saying how much.
const MAX_TEXT: usize = 64 << 10;

/// The most pieces of leftover work a failure lists by name.
const MAX_LISTED: usize = 10;

/// The largest test file read.
const MAX_SOURCE: u64 = 16 << 20;

/// What a file has reported so far.
#[derive(Debug)]
pub struct Progress {
    file: String,
    started: Instant,
    /// The selected cases in order; those not started yet are `planned[next..]`.
    planned: Vec<String>,
    next: usize,
    running: Option<(String, Instant)>,
    finished: Vec<Case>,
    /// Bytes of names and messages kept here, outside Lua's allocator: charged against the
    /// VM's memory limit, so a file of endless failing cases cannot grow the report without
    /// bound.
    kept: usize,
    /// When the file's run passes its deadline (`vm::deadline`), for the waiting thread.
    watch: Option<Watch>,
}

/// A file's progress, written by its thread and read by the one waiting for it.
pub type Shared = Arc<Mutex<Progress>>;

/// Locks `shared`; a thread that panicked holding it left nothing half-written that matters.
pub fn lock(shared: &Shared) -> MutexGuard<'_, Progress> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

impl Progress {
    pub fn new(path: &Path) -> Self {
        Self {
            file: path.display().to_string(),
            started: Instant::now(),
            planned: Vec::new(),
            next: 0,
            running: None,
            finished: Vec::new(),
            kept: 0,
            watch: None,
        }
    }

    /// Whether the file's run is past its deadline by [`GRACE`]: stuck where the VM cannot
    /// interrupt it (a `__gc` finalizer that loops, code that turned the hooks off).
    pub fn stuck(&self) -> bool {
        let Some(watch) = &self.watch else {
            return false;
        };
        let at = *watch.lock().unwrap_or_else(|p| p.into_inner());
        at.is_some_and(|at| Instant::now() > at + GRACE)
    }

    /// The cases when the file ends with `message` instead of finishing: those finished as
    /// they are, the one running (or else the file) with `outcome`, those not reached skipped.
    pub fn end_with(&self, outcome: Outcome, message: String) -> Vec<Case> {
        let mut cases = self.finished.clone();
        let (ended_in, since) = match &self.running {
            Some((name, since)) => (name.clone(), *since),
            None => (self.file.clone(), self.started),
        };
        let first_line = message.lines().next().unwrap_or_default().to_owned();
        cases.push(case(
            &self.file,
            ended_in.clone(),
            outcome,
            message,
            since.elapsed(),
        ));
        for name in self.planned.iter().skip(self.next) {
            let why = format!("not run: the file ended in '{ended_in}' ({first_line})");
            cases.push(case(
                &self.file,
                name.clone(),
                Outcome::Skipped,
                why,
                Duration::ZERO,
            ));
        }
        cases
    }
}

fn case(file: &str, name: String, outcome: Outcome, message: String, duration: Duration) -> Case {
    let attempts = match outcome {
        Outcome::Skipped => Vec::new(),
        _ => vec![Attempt {
            passed: outcome == Outcome::Passed,
            message: message.clone(),
            duration,
        }],
    };
    Case {
        name,
        group: file.to_owned(),
        outcome,
        attempts,
        message,
        duration,
        captures: Vec::new(),
    }
}

/// A Lua string as text: bytes that are not UTF-8 become U+FFFD, and past [`MAX_TEXT`] it is
/// cut.
fn text(s: &mlua::LuaString) -> String {
    let bytes = s.as_bytes();
    if bytes.len() <= MAX_TEXT {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let mut shown = String::from_utf8_lossy(&bytes[..MAX_TEXT]).into_owned();
    shown.push_str(&format!(
        "… ({} more bytes)",
        bytes.len().saturating_sub(MAX_TEXT)
    ));
    shown
}

/// Runs the file at `path`, reporting to `progress`; returns its cases.
pub fn run(path: &Path, options: &Options, progress: &Shared) -> Vec<Case> {
    let outcome = run_vm(path, options, progress);
    let mut p = lock(progress);
    // The VM is closed: nothing of it can be stuck any more.
    p.watch = None;
    match outcome {
        // A plain file (no cases) is one case, passed once it and what it spawned finished.
        Ok(0) if p.finished.is_empty() => {
            let filtered_out = options
                .filter
                .as_ref()
                .is_some_and(|f| !p.file.contains(f.as_str()));
            if filtered_out {
                Vec::new()
            } else {
                let name = p.file.clone();
                vec![case(
                    &p.file,
                    name,
                    Outcome::Passed,
                    String::new(),
                    p.started.elapsed(),
                )]
            }
        }
        Ok(_) => p.finished.clone(),
        Err(e) => {
            let outcome = match e {
                RunError::Timeout(_)
                | RunError::Memory { .. }
                | RunError::Script(_)
                | RunError::Unobserved(_) => Outcome::Failed,
                _ => Outcome::Error,
            };
            p.end_with(outcome, without_runner_frames(&e.report()))
        }
    }
}

/// `report` without the traceback lines of the runner's own chunk (a timeout's traceback
/// starts where the runner caught it), and without the traceback header if nothing is left.
fn without_runner_frames(report: &str) -> String {
    let (message, traceback) = match report.split_once("\nstack traceback:") {
        Some((message, traceback)) => (message, traceback),
        None => return report.to_owned(),
    };
    let frames: Vec<&str> = traceback
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains("[assay test]"))
        .collect();
    if frames.is_empty() {
        return message.to_owned();
    }
    format!("{message}\nstack traceback:\n{}", frames.join("\n"))
}

/// Runs the file in a VM of its own (dropped here, finalizers and all); returns how many cases
/// it defined.
fn run_vm(path: &Path, options: &Options, progress: &Shared) -> Result<i64, RunError> {
    let runtime = RuntimeBuilder::default()
        .memory_limit(options.memory_limit)
        .timeout(options.timeout)
        .lib_path(options.lib_path.clone())
        .log(options.log)
        .build()?;
    if let Some(deadline) = crate::vm::deadline::of(runtime.lua()) {
        lock(progress).watch = Some(deadline.watch());
    }
    runtime.set_script_file(path)?;
    let source = crate::vm::script::source(assay_files::read_capped(path, MAX_SOURCE)?);
    let lua = runtime.lua();
    let file = path.display().to_string();
    let chunk = lua
        .load(&source[..])
        .set_name(format!("@{file}"))
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
        .map_err(|e| syntax(&e))?;
    let args = || -> mlua::Result<MultiValue> {
        Ok(MultiValue::from_iter([
            Value::Function(chunk.clone()),
            match &options.filter {
                Some(f) => Value::String(lua.create_string(f)?),
                None => Value::Nil,
            },
            Value::String(lua.create_string(&file)?),
            Value::Table(host(lua, progress)?),
        ]))
    };
    let args = args().map_err(RunError::Setup)?;
    let values = runtime.eval_chunk(include_bytes!("runner.lua"), "=[assay test]", args)?;
    Ok(match values.into_iter().next() {
        Some(Value::Integer(defined)) => defined,
        _ => 0,
    })
}

fn syntax(e: &mlua::Error) -> RunError {
    RunError::Syntax(crate::vm::Report {
        message: crate::builtins::function::error_message(e),
        traceback: String::new(),
    })
}

/// The functions through which `runner.lua` reports to `progress` and settles each case's
/// async work.
fn host(lua: &Lua, progress: &Shared) -> mlua::Result<Table> {
    let host = lua.create_table()?;
    let p = progress.clone();
    let planned = lua.create_function(move |lua, name: mlua::LuaString| {
        let name = text(&name);
        if !keep(lua, &p, name.len()) {
            return Ok(false);
        }
        lock(&p).planned.push(name);
        Ok(true)
    })?;
    let p = progress.clone();
    let started = lua.create_function(move |_, name: mlua::LuaString| {
        let mut p = lock(&p);
        p.next += 1;
        p.running = Some((text(&name), Instant::now()));
        Ok(())
    })?;
    let p = progress.clone();
    let finished = lua.create_function(
        move |lua, (name, passed, message): (mlua::LuaString, bool, mlua::LuaString)| {
            let (name, message) = (text(&name), text(&message));
            // The case holds the message twice (its attempt's too) and the file's name.
            let file = lock(&p).file.len();
            let cost = size_of::<Case>() + size_of::<Attempt>() + file + name.len();
            if !keep(lua, &p, cost + 2 * message.len()) {
                return Ok(false);
            }
            let mut p = lock(&p);
            let since = p.running.take().map_or(p.started, |(_, since)| since);
            let outcome = if passed {
                Outcome::Passed
            } else {
                Outcome::Failed
            };
            let case = case(&p.file, name, outcome, message, since.elapsed());
            p.finished.push(case);
            Ok(true)
        },
    )?;
    let mark = lua.create_function(|lua, ()| Ok(pending(lua).map_or(0, |p| p.mark())))?;
    let settle = lua.create_function(|lua, since: u64| Ok(settle(lua, since)))?;
    // After the last case: the work the file's top level started is cancelled, and the run
    // does not wait for what else holds it (a plugin's server, a process): it goes with the VM.
    let cancel_rest = lua.create_function(|lua, ()| {
        if let Some(pending) = pending(lua) {
            pending.cancel_since(0);
        }
        if let Some(keepalive) = lua.app_data_ref::<crate::vm::keepalive::KeepAlive>() {
            keepalive.stop_waiting();
        }
        Ok(())
    })?;
    host.raw_set("planned", planned)?;
    host.raw_set("started", started)?;
    host.raw_set("finished", finished)?;
    host.raw_set("mark", mark)?;
    host.raw_set("settle", settle)?;
    host.raw_set("cancel_rest", cancel_rest)?;
    Ok(host)
}

/// Charges `bytes` more of kept text against the VM's memory limit; whether they fit (the
/// runner raises "not enough memory" when not). The lock is not held meanwhile: making room
/// may run finalizers, and one that never returns must not keep the waiting thread from
/// reading the progress.
fn keep(lua: &Lua, progress: &Shared, bytes: usize) -> bool {
    let kept = lock(progress).kept + bytes;
    if crate::vm::memory::ensure_room(lua, kept).is_err() {
        return false;
    }
    lock(progress).kept = kept;
    true
}

fn pending(lua: &Lua) -> Option<Pending> {
    lua.app_data_ref::<Pending>().map(|p| p.clone())
}

/// After a case: stops the async work it started and left running, and says what that was
/// and which of its tasks failed unawaited (`None`: nothing).
fn settle(lua: &Lua, since: u64) -> Option<String> {
    let mut problems = Vec::new();
    let left = pending(lua)
        .map(|p| p.cancel_since(since))
        .unwrap_or_default();
    if !left.is_empty() {
        let more = left.len().saturating_sub(MAX_LISTED);
        let mut left: Vec<String> = left.into_iter().take(MAX_LISTED).collect();
        if more > 0 {
            left.push(format!("and {more} more"));
        }
        problems.push(format!(
            "left running when it ended (now stopped; await tasks, cancel intervals and wait \
             for processes before a test returns): {}",
            left.join(", ")
        ));
    }
    if let Some(unseen) = lua.app_data_ref::<Unobserved>().map(|u| u.take()) {
        if unseen.tasks > 0 {
            let first = unseen.first_task_failure.unwrap_or_default();
            problems.push(format!(
                "{} task(s) it started failed and nobody awaited them: {first}",
                unseen.tasks
            ));
        }
        if unseen.intervals > 0 {
            let first = unseen.first_interval_failure.unwrap_or_default();
            problems.push(format!(
                "{} interval callback(s) raised, stopping the interval: {first}",
                unseen.intervals
            ));
        }
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}
