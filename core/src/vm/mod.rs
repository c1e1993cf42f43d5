//! Building a VM and running scripts on it.
//!
//! A [`Runtime`] is one Lua 5.5 state with Assay's globals, a memory limit, the `require`
//! searcher over a lib path, and a single-threaded executor. A script runs as a coroutine on
//! that executor: I/O and `sleep` yield it, `async.spawn` runs more coroutines beside it, and a
//! run ends when the main chunk and everything it spawned have finished.
//!
//! ```no_run
//! let rt = assay::Runtime::builder().sandbox(true).memory_limit(16 << 20).build()?;
//! rt.run_chunk("print(json.encode({ok = true}))", "=(embedded)")?;
//! # Ok::<(), assay::RunError>(())
//! ```

mod error;
pub mod keepalive;
pub mod memory;
mod sandbox;
pub mod traced;

use std::path::{Path, PathBuf};

use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

pub use error::RunError;
pub use traced::Report;

use crate::builtins::{self, BuiltinOptions, log::LogConfig};
use crate::resolve::{self, LibPath, ScriptDir};

/// The default memory limit of every VM: 64 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;

/// Options for a [`Runtime`]; `Runtime::builder()` starts from the defaults.
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    sandbox: bool,
    memory_limit: usize,
    lib_path: Option<LibPath>,
    log: LogConfig,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Self {
            sandbox: false,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            lib_path: None,
            log: LogConfig::default(),
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

    /// Level and format of the `log` builtin.
    pub fn log(mut self, config: LogConfig) -> Self {
        self.log = config;
        self
    }

    pub fn build(self) -> Result<Runtime, RunError> {
        let lua = if self.sandbox {
            Lua::new_with(StdLib::ALL_SAFE, LuaOptions::new()).map_err(RunError::Setup)?
        } else {
            // SAFETY: outside the sandbox a script has everything the reference `lua` gives it,
            // `debug` and C modules included; that is the documented contract.
            unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::new()) }
        };
        // No collection while the VM is being built: everything made now lives on anyway.
        lua.gc_stop();
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
            Ok(())
        };
        setup().map_err(RunError::Setup)?;
        lua.gc_restart();
        if self.memory_limit > 0 {
            lua.set_memory_limit(self.memory_limit)
                .map_err(RunError::Setup)?;
        }
        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(RunError::Executor)?;
        Ok(Runtime {
            lua,
            executor,
            memory_limit: self.memory_limit,
        })
    }
}

/// A Lua VM with Assay's globals and an executor to run it on.
///
/// `run_*` block the calling thread until the script and its tasks finish; they drive their
/// own single-threaded tokio executor, so call them from a plain thread (inside another tokio
/// runtime, use `spawn_blocking` or a dedicated thread). A `Runtime` is not `Send`: one VM, one
/// thread; scale with several runtimes.
pub struct Runtime {
    lua: Lua,
    /// Declared after `lua`, so it is dropped after the state whose finalizers may use it.
    executor: tokio::runtime::Runtime,
    memory_limit: usize,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("memory_limit", &self.memory_limit)
            .finish()
    }
}

/// Lua's loader skips a first line starting with `#` only for files it opens itself.
fn strip_shebang(source: &mut [u8]) {
    if source.first() == Some(&b'#') {
        for byte in source.iter_mut() {
            if *byte == b'\n' {
                break;
            }
            *byte = b' ';
        }
        source[0] = b'-';
        if source.len() > 1 && source[1] != b'\n' {
            source[1] = b'-';
        }
    }
}

impl Runtime {
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The Lua state, for embedders that add their own globals.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Runs the script at `path` with `args` (as `arg` and `...`), until it and everything it
    /// spawned have finished.
    pub fn run_file(&self, path: &Path, args: &[String]) -> Result<(), RunError> {
        let mut source = std::fs::read(path).map_err(|source| RunError::Read {
            path: path.to_owned(),
            source,
        })?;
        strip_shebang(&mut source);
        let dir = path
            .parent()
            .map(Path::to_owned)
            .filter(|d| !d.as_os_str().is_empty());
        self.set_script(&path.display().to_string(), args, dir)?;
        let chunk_name = format!("@{}", path.display());
        self.run_source(&source, &chunk_name, args)
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
        let function = self
            .lua
            .load(format!("return {code}"))
            .set_name("=stdin")
            .into_function()
            .or_else(|_| self.lua.load(code).set_name("=stdin").into_function())
            .map_err(|e| self.load_error(&e))?;
        self.drive(function, MultiValue::new())
    }

    fn set_script(
        &self,
        script: &str,
        args: &[String],
        dir: Option<PathBuf>,
    ) -> Result<(), RunError> {
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
        let function = self
            .lua
            .load(source)
            .set_name(chunk_name)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::MemoryError(_) => self.memory_error(),
                e => self.load_error(&e),
            })?;
        let args: MultiValue = args
            .iter()
            .map(|a| self.lua.create_string(a).map(Value::String))
            .collect::<mlua::Result<_>>()
            .map_err(RunError::Setup)?;
        self.drive(function, args)?;
        Ok(())
    }

    fn memory_error(&self) -> RunError {
        RunError::Memory {
            limit: self.memory_limit,
        }
    }

    /// Runs `function(args)` as the main coroutine, then waits for everything it spawned.
    fn drive(&self, function: Function, args: MultiValue) -> Result<MultiValue, RunError> {
        let local = tokio::task::LocalSet::new();
        let lua = &self.lua;
        let _run = crate::plugin::begin_run(lua, &local);
        let main = local.block_on(&self.executor, traced::run_traced(lua, function, args));
        let values = match main {
            Ok(Ok(values)) => values,
            Ok(Err(failure)) if failure.report.message == "not enough memory" => {
                return Err(self.memory_error());
            }
            Ok(Err(failure)) => return Err(RunError::Script(failure.report)),
            Err(mlua::Error::MemoryError(_)) => return Err(self.memory_error()),
            Err(e) => return Err(RunError::Setup(e)),
        };
        let keepalive = lua
            .app_data_ref::<keepalive::KeepAlive>()
            .map(|k| k.clone());
        if let Some(keepalive) = keepalive {
            local.block_on(&self.executor, keepalive.idle());
        }
        // What is left (the callback dispatcher) only waits for work; it goes with the set.
        drop(local);
        let unobserved = lua
            .app_data_ref::<builtins::r#async::Unobserved>()
            .map(|u| u.take());
        match unobserved {
            Some((tasks, intervals)) if !tasks.is_empty() || intervals > 0 => {
                Err(RunError::Unobserved { tasks, intervals })
            }
            _ => Ok(values),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedders_add_globals_and_run_chunks() {
        let rt = Runtime::builder()
            .sandbox(true)
            .memory_limit(8 << 20)
            .build()
            .expect("runtime");
        rt.lua().globals().set("answer", 42).expect("set global");
        rt.run_chunk(
            "assert.eq(answer, 42); sleep(0.001); result = json.encode({answer})",
            "=test",
        )
        .expect("chunk runs");
        let result: String = rt.lua().globals().get("result").expect("result");
        assert_eq!(result, "[42]");
    }

    #[test]
    fn script_errors_carry_position_and_traceback() {
        let rt = Runtime::builder().build().expect("runtime");
        let err = rt
            .run_chunk("local function f() error('boom') end\nf()", "=chunk")
            .expect_err("must fail");
        assert_eq!(err.exit_code(), 1);
        assert_eq!(err.to_string(), "chunk:1: boom");
        assert!(
            err.report().contains("stack traceback:"),
            "{}",
            err.report()
        );
    }

    #[test]
    fn memory_limit_is_a_clean_error() {
        let rt = Runtime::builder()
            .memory_limit(4 << 20)
            .build()
            .expect("runtime");
        let err = rt
            .run_chunk("local t = {} for i = 1, 1e8 do t[i] = i end", "=chunk")
            .expect_err("must run out");
        assert!(
            matches!(err, RunError::Memory { limit } if limit == 4 << 20),
            "{err:?}"
        );
    }

    #[test]
    fn shebang_is_blanked_keeping_line_numbers() {
        let mut s = b"#!/usr/bin/env assay\nprint(1)\n".to_vec();
        strip_shebang(&mut s);
        assert!(s.starts_with(b"--"));
        assert_eq!(s.iter().filter(|b| **b == b'\n').count(), 2);
    }
}
