//! Building a VM and running scripts on it.
//!
//! A [`Runtime`] is one Lua 5.5 state with Assay's globals, a memory limit, the `require`
//! searcher over a lib path, and a single-threaded executor (one per thread, shared by the
//! thread's VMs: see `thread_executor`). A script runs as a coroutine on that executor: I/O and `sleep` yield it, `async.spawn` runs more coroutines beside it, and a
//! run ends when the main chunk and everything it spawned have finished.
//!
//! ```no_run
//! let rt = assay::Runtime::builder().sandbox(true).memory_limit(16 << 20).build()?;
//! rt.run_chunk("print(json.encode({ok = true}))", "=(embedded)")?;
//! # Ok::<(), assay::RunError>(())
//! ```

pub mod abandon;
pub mod deadline;
mod error;
pub mod id_map;
pub mod interrupt;
pub mod keepalive;
pub mod memory;
pub mod pending;
pub(crate) mod sandbox;
pub mod script;
pub mod timers;
pub mod traced;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mlua::state::{GcGenParams, GcMode};
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

pub use error::RunError;
pub use traced::Report;

use crate::builtins::{self, BuiltinOptions, log::LogConfig};
use crate::resolve::{self, LibPath, ScriptDir};

/// The default memory limit of every VM: 128 MiB. (It was 64 MiB: Lua's own test files
/// overflow Lua's stack on purpose, up to its million slots, which takes about 90 MB, and a
/// script recursing without end must hear Lua's "stack overflow", not "not enough memory".)
pub const DEFAULT_MEMORY_LIMIT: usize = 128 << 20;

/// The deadline of a sandboxed run when none is given: untrusted code must not run forever,
/// and a minute is far more than a check or a hook script needs.
pub const DEFAULT_SANDBOX_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest script source read when the VM has no memory limit.
const MAX_SCRIPT: usize = 256 << 20;

thread_local! {
    /// Set while a [`Runtime`] on this thread closes its Lua state.
    static CLOSING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// An error instead of running a Rust function while a VM closes: Lua runs the `__gc`
/// finalizers of everything still alive at `lua_close`, when mlua's handles to the state can
/// no longer be used (touching one panics across C and kills the process). A builtin called
/// from such a finalizer raises this instead; the finalizer's error is dropped, as Lua does.
pub(crate) fn ensure_open() -> mlua::Result<()> {
    if CLOSING.with(std::cell::Cell::get) > 0 {
        return Err(mlua::Error::runtime(
            "the VM is closing: builtins cannot run in finalizers at exit",
        ));
    }
    Ok(())
}

/// Options for a [`Runtime`]; `Runtime::builder()` starts from the defaults.
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    sandbox: bool,
    memory_limit: usize,
    lib_path: Option<LibPath>,
    log: LogConfig,
    /// `None`: the default (none, or [`DEFAULT_SANDBOX_TIMEOUT`] in the sandbox).
    timeout: Option<Option<Duration>>,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Self {
            sandbox: false,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            lib_path: None,
            log: LogConfig::default(),
            timeout: None,
        }
    }
}

impl RuntimeBuilder {
    /// Restricts the VM to the sandbox of DESIGN.md (no files, processes, C code or debug).
    pub fn sandbox(mut self, on: bool) -> Self {
        self.sandbox = on;
        self
    }

    /// Bytes the VM may allocate; 0 means no limit. Exceeding it is a Lua error.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Where `require("assay.X")` looks; defaults to [`LibPath::from_env`].
    pub fn lib_path(mut self, lib_path: LibPath) -> Self {
        self.lib_path = Some(lib_path);
        self
    }

    /// How long one run (`run_file`, `run_chunk`, a REPL entry) may take, waiting and computing
    /// alike; past it the run fails with "timed out after N s" (see [`deadline`]). `None` (or a
    /// zero duration) means no deadline. Unset, a sandboxed VM gets
    /// [`DEFAULT_SANDBOX_TIMEOUT`] and any other none.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = Some(timeout.filter(|t| !t.is_zero()));
        self
    }

    /// Level and format of the `log` builtin.
    pub fn log(mut self, config: LogConfig) -> Self {
        self.log = config;
        self
    }

    pub fn build(self) -> Result<Runtime, RunError> {
        let lua = if self.sandbox {
            // `io` and `debug` are never opened: no reference to them can exist anywhere
            // (`package.loaded` included) for a script to find.
            let libraries = StdLib::ALL_SAFE ^ StdLib::IO;
            Lua::new_with(libraries, LuaOptions::new()).map_err(RunError::Setup)?
        } else {
            // SAFETY: outside the sandbox a script has everything the reference `lua` gives it,
            // `debug` and C modules included; that is the documented contract.
            unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::new()) }
        };
        // No collection while the VM is being built: everything made now lives on anyway.
        lua.gc_stop();
        let timeout = match self.timeout {
            Some(chosen) => chosen,
            None if self.sandbox => Some(DEFAULT_SANDBOX_TIMEOUT),
            None => None,
        };
        let setup = || -> mlua::Result<()> {
            let xpcall: Function = lua.globals().raw_get("xpcall")?;
            lua.set_named_registry_value(traced::XPCALL_KEY, xpcall)?;
            let pcall: Function = lua.globals().raw_get("pcall")?;
            lua.set_named_registry_value(traced::PCALL_KEY, pcall)?;
            builtins::install(
                &lua,
                BuiltinOptions {
                    sandbox: self.sandbox,
                    log: self.log,
                },
            )?;
            let lib_path = self.lib_path.clone().unwrap_or_else(LibPath::from_env);
            let plugins = if self.sandbox {
                crate::plugin::Profile::Sandbox
            } else {
                crate::plugin::Profile::Full
            };
            crate::plugin::install(&lua, &lib_path, plugins)?;
            resolve::install(&lua, lib_path)?;
            if self.sandbox {
                sandbox::apply(&lua)?;
            }
            if let Some(budget) = timeout {
                deadline::install(&lua, budget)?;
            }
            Ok(())
        };
        setup().map_err(RunError::Setup)?;
        lua.set_app_data(memory::Limit(self.memory_limit));
        lua.gc_restart();
        // Generational, not Lua 5.5's default incremental mode: there, garbage with finalizers
        // grows without bound under steady allocation (each cycle's pause counts the objects it
        // resurrected to finalize), and every async call leaves one such userdata (mlua's
        // future). A `sleep(0)` loop reached 600 MB after 3 million calls; so does
        // `setmetatable({}, {__gc = f})` in a loop in the reference `lua` 5.5.1, while 5.4 stays
        // flat. Generational mode keeps both flat and ran allocation-heavy code (binary trees)
        // 1.9x faster. Switching makes one full collection: about 40K instructions at start-up.
        lua.gc_set_mode(GcMode::Generational(GcGenParams::default()));
        if self.memory_limit > 0 {
            lua.set_memory_limit(self.memory_limit)
                .map_err(RunError::Setup)?;
        }
        let executor = thread_executor().map_err(RunError::Executor)?;
        Ok(Runtime {
            lua: std::mem::ManuallyDrop::new(lua),
            executor,
            memory_limit: self.memory_limit,
            sandbox: self.sandbox,
        })
    }
}

thread_local! {
    static EXECUTOR: std::cell::RefCell<std::rc::Weak<tokio::runtime::Runtime>> =
        const { std::cell::RefCell::new(std::rc::Weak::new()) };
}

/// The executor of the VMs on this thread: one current-thread tokio runtime, made by the first
/// VM and dropped with the last.
///
/// Why shared: a host that embeds thousands of VMs (hooks run in-process) paid for a runtime
/// per VM, its timer wheel and driver included, in time to build and memory to keep. Sharing
/// is safe because a VM never leaves its thread (`Lua` is `!Send`) and runs only inside its
/// own `drive`, on a `LocalSet` of its own: its tasks, timers and I/O belong to that run and
/// are dropped with it, so VMs on one thread never see each other's work. What they share is
/// the reactor and the clock, which are the thread's anyway. Nesting is no different from
/// before: driving one VM from inside another's run is refused by tokio either way.
fn thread_executor() -> std::io::Result<std::rc::Rc<tokio::runtime::Runtime>> {
    EXECUTOR.with(|shared| {
        if let Some(executor) = shared.borrow().upgrade() {
            return Ok(executor);
        }
        let executor = std::rc::Rc::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                // With nothing to run, wait in a plugin's reactor (see `plugin::reactor`).
                .on_thread_park(crate::plugin::on_idle)
                .build()?,
        );
        *shared.borrow_mut() = std::rc::Rc::downgrade(&executor);
        Ok(executor)
    })
}

/// Marks a VM whose `arg` the command line set ([`Runtime::set_command_line`]).
struct CommandLine;

/// A Lua VM with Assay's globals and an executor to run it on.
///
/// `run_*` block the calling thread until the script and its tasks finish; they drive the
/// thread's single-threaded tokio executor (shared by its VMs, each run on a `LocalSet` of its
/// own), so call them from a plain thread (inside another tokio
/// runtime, use `spawn_blocking` or a dedicated thread). A `Runtime` is not `Send`: one VM, one
/// thread; scale with several runtimes.
pub struct Runtime {
    /// Dropped by hand (see `Drop`), before the executor.
    lua: std::mem::ManuallyDrop<Lua>,
    /// Declared after `lua`, so it is dropped after the state whose finalizers may use it.
    /// Shared with the thread's other VMs (see [`thread_executor`]).
    executor: std::rc::Rc<tokio::runtime::Runtime>,
    memory_limit: usize,
    /// Every chunk loads as text only.
    sandbox: bool,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The finalizers that run as the state closes run with hooks off: under a deadline,
        // the command line's watchdog ends a close that takes more than its grace.
        if let Some(deadline) = deadline::of(&self.lua) {
            deadline.closing();
        }
        // Builtins refuse from now on, in Lua (async ones must not even start) and in Rust.
        if let Ok(close) = builtins::function::glue::<Function>(&self.lua, "close") {
            let _ = close.call::<()>(());
        }
        CLOSING.with(|c| c.set(c.get() + 1));
        // SAFETY: dropped once, here, and never used afterwards.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.lua) };
        CLOSING.with(|c| c.set(c.get() - 1));
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("memory_limit", &self.memory_limit)
            .finish()
    }
}

impl Runtime {
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The memory limit in bytes (0: none).
    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    /// The Lua state, for embedders that add their own globals.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Runs the script at `path` with `args` (as `arg` and `...`), until it and everything it
    /// spawned have finished.
    pub fn run_file(&self, path: &Path, args: &[String]) -> Result<(), RunError> {
        // A pipe is fine (`assay <(generate)`); an endless device is not.
        let cap = match self.memory_limit {
            0 => MAX_SCRIPT,
            limit => limit.min(MAX_SCRIPT),
        };
        let source = script::source(assay_files::read_capped(path, cap as u64)?);
        self.set_script(&path.display().to_string(), args, script_dir(path))?;
        let chunk_name = format!("@{}", path.display());
        self.run_source(&source, &chunk_name, args)
    }

    /// Makes `path` the running script without running it: `arg[0]` names it and relative
    /// `require`s start from its folder. For embedders that load the file themselves, as
    /// `assay test` does inside its runner.
    pub fn set_script_file(&self, path: &Path) -> Result<(), RunError> {
        self.set_script(&path.display().to_string(), &[], script_dir(path))
    }

    /// Runs a script's bytes read from elsewhere (standard input) as `lua` loads a file: a
    /// byte-order mark and a first `#` line skipped, a precompiled chunk allowed outside the
    /// sandbox. Relative `require`s start from the current folder.
    pub fn run_script_source(
        &self,
        source: Vec<u8>,
        chunk_name: &str,
        args: &[String],
    ) -> Result<(), RunError> {
        self.set_script("", args, None)?;
        self.run_source(&script::source(source), chunk_name, args)
    }

    /// Sets the global `arg` as `lua` does from its command line (see [`script::arg_entries`]):
    /// `words` is the whole command line, the program first, and `script` the index of the
    /// script in it. Later runs keep this `arg` instead of making their own.
    pub fn set_command_line(
        &self,
        words: &[String],
        script: Option<usize>,
    ) -> Result<(), RunError> {
        let setup = || -> mlua::Result<()> {
            let arg: Table = self.lua.create_table()?;
            for (i, word) in script::arg_entries(words, script) {
                arg.raw_set(i, word)?;
            }
            self.lua.globals().raw_set("arg", arg)
        };
        setup().map_err(RunError::Setup)?;
        self.lua.set_app_data(CommandLine);
        Ok(())
    }

    /// Runs `code` as a chunk named `chunk_name` (`=(command line)` style or `@file`).
    pub fn run_chunk(&self, code: &str, chunk_name: &str) -> Result<(), RunError> {
        self.run_chunk_with_args(code, chunk_name, &[])
    }

    /// Like [`Runtime::run_chunk`], with script arguments.
    pub fn run_chunk_with_args(
        &self,
        code: &str,
        chunk_name: &str,
        args: &[String],
    ) -> Result<(), RunError> {
        if self.lua.app_data_ref::<ScriptDir>().is_none() {
            self.set_script("", args, None)?;
        }
        self.run_source(code.as_bytes(), chunk_name, args)
    }

    /// Evaluates one REPL entry: as an expression when it parses as one, else as statements.
    /// Returns the values it produced.
    pub fn eval(&self, code: &str) -> Result<MultiValue, RunError> {
        let load = |text: &str| {
            self.lua
                .load(text)
                .set_name("=stdin")
                .set_mode(mlua::chunk::ChunkMode::Text)
                .into_function()
        };
        let function = load(&format!("return {code}"))
            .or_else(|_| load(code))
            .map_err(|e| self.load_error(&e))?;
        self.drive(function, MultiValue::new())
    }

    /// Calls `function(args)` as a run's main coroutine (see [`Runtime::run_file`]): a
    /// function that waits on a plugin (an http request) is driven to its end. For embedders,
    /// and for core commands that borrow a plugin through Lua glue (`assay install` fetching
    /// over HTTP with the http plugin).
    pub fn call(&self, function: Function, args: MultiValue) -> Result<MultiValue, RunError> {
        self.drive(function, args)
    }

    fn set_script(
        &self,
        script: &str,
        args: &[String],
        dir: Option<PathBuf>,
    ) -> Result<(), RunError> {
        if self.lua.app_data_ref::<CommandLine>().is_none() {
            let setup = || -> mlua::Result<()> {
                let arg: Table = self.lua.create_table()?;
                let exe = std::env::args().next().unwrap_or_else(|| "assay".into());
                arg.raw_set(-1, exe)?;
                arg.raw_set(0, script)?;
                for (i, a) in args.iter().enumerate() {
                    arg.raw_set(i + 1, a.as_str())?;
                }
                self.lua.globals().raw_set("arg", arg)
            };
            setup().map_err(RunError::Setup)?;
        }
        let dir = match dir {
            Some(d) => d,
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        self.lua.set_app_data(ScriptDir(dir));
        Ok(())
    }

    fn load_error(&self, e: &mlua::Error) -> RunError {
        let message = builtins::function::error_message(e);
        RunError::Syntax(Report {
            message,
            traceback: String::new(),
        })
    }

    fn run_source(&self, source: &[u8], chunk_name: &str, args: &[String]) -> Result<(), RunError> {
        let function = self.load_source(source, chunk_name)?;
        let args: MultiValue = args
            .iter()
            .map(|a| self.lua.create_string(a).map(Value::String))
            .collect::<mlua::Result<_>>()
            .map_err(RunError::Setup)?;
        self.drive(function, args)?;
        Ok(())
    }

    /// Runs `source` as a chunk named `chunk_name` with `args` as its `...`, until it and
    /// what it spawned finish, and returns what the chunk returned: for hosts that run Lua
    /// for a result (check mode's script checks and requests).
    pub fn eval_chunk(
        &self,
        source: &[u8],
        chunk_name: &str,
        args: MultiValue,
    ) -> Result<MultiValue, RunError> {
        let function = self.load_source(source, chunk_name)?;
        self.drive(function, args)
    }

    fn load_source(&self, source: &[u8], chunk_name: &str) -> Result<Function, RunError> {
        if self.sandbox && source.first() == Some(&0x1b) {
            let name = chunk_name.trim_start_matches(['@', '=']);
            return Err(RunError::Syntax(Report {
                message: format!("{name}: binary chunks are not available in sandbox"),
                traceback: String::new(),
            }));
        }
        // Outside the sandbox a precompiled chunk runs, as with `lua`.
        let mode = match source.first() {
            Some(0x1b) if !self.sandbox => mlua::chunk::ChunkMode::Binary,
            _ => mlua::chunk::ChunkMode::Text,
        };
        self.lua
            .load(source)
            .set_name(chunk_name)
            .set_mode(mode)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::MemoryError(_) => self.memory_error(),
                e => self.load_error(&e),
            })
    }

    /// The main coroutine's values, or how it failed.
    fn main_outcome(
        &self,
        main: mlua::Result<Result<MultiValue, traced::Failure>>,
    ) -> Result<MultiValue, RunError> {
        match main {
            Ok(Ok(values)) => Ok(values),
            Ok(Err(failure)) if failure.report.message == "not enough memory" => {
                Err(self.memory_error())
            }
            Ok(Err(failure)) => Err(RunError::Script(failure.report)),
            Err(mlua::Error::MemoryError(_)) => Err(self.memory_error()),
            Err(e) => Err(RunError::Setup(e)),
        }
    }

    fn memory_error(&self) -> RunError {
        RunError::Memory {
            limit: self.memory_limit,
        }
    }

    /// Runs `function(args)` as the main coroutine, then waits for everything it spawned, all
    /// within the deadline if the VM has one.
    fn drive(&self, function: Function, args: MultiValue) -> Result<MultiValue, RunError> {
        let local = tokio::task::LocalSet::new();
        let lua = &self.lua;
        let plugin_run = crate::plugin::begin_run(lua, &local);
        let deadline = deadline::of(lua);
        let until = deadline.as_ref().map(|d| d.start());
        let run = async {
            let main = traced::run_traced_main(lua, function, args).await;
            let values = self.main_outcome(main)?;
            let keepalive = lua
                .app_data_ref::<keepalive::KeepAlive>()
                .map(|k| k.clone());
            if let Some(keepalive) = keepalive {
                keepalive.idle().await;
            }
            Ok(values)
        };
        let outcome = self
            .executor
            .block_on(plugin_run.watch(local.run_until(async {
                match until {
                    Some(at) => timers::timeout_at(at, run)
                        .await
                        .unwrap_or_else(|| Err(RunError::Timeout(Report::default()))),
                    None => run.await,
                }
            })));
        drop(plugin_run);
        if let Some(deadline) = &deadline {
            let timed_out = deadline.expired();
            deadline.stop();
            if timed_out {
                // Whatever the script was doing when time ran out; its traceback if it was
                // computing.
                let traceback = match outcome {
                    Err(RunError::Script(report)) => report.traceback,
                    _ => String::new(),
                };
                return Err(RunError::Timeout(Report {
                    message: deadline.message(),
                    traceback,
                }));
            }
        }
        let values = outcome?;
        // What is left (the callback dispatcher) only waits for work; it goes with the set.
        drop(local);
        let unobserved = lua
            .app_data_ref::<builtins::r#async::Unobserved>()
            .map(|u| u.take());
        match unobserved {
            Some(unseen) if unseen.tasks > 0 || unseen.intervals > 0 => {
                Err(RunError::Unobserved(unseen))
            }
            _ => Ok(values),
        }
    }
}

/// The folder relative `require`s start from: the script's own (`None`: the current one).
fn script_dir(path: &Path) -> Option<PathBuf> {
    path.parent()
        .map(Path::to_owned)
        .filter(|d| !d.as_os_str().is_empty())
}

#[cfg(test)]
mod tests;
