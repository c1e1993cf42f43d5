//! The `assay` command line: one file per way of running.

mod args;
mod check;
mod completions;
mod console;
mod init;
mod install;
mod package;
mod packages;
mod plugins;
mod progress;
mod publish;
mod remove;
mod repl;
mod report_out;
mod run;
mod search;
mod spec;
mod spec_install;
mod test;
mod types;
mod update;
mod version;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::builtins::log::{Level, LogConfig};
use crate::vm::memory::parse_limit;
use crate::{LibPath, Runtime, RuntimeBuilder};

/// Parses the command line, runs, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match args::parse(std::env::args_os().skip(1)) {
        Ok(cli) => cli,
        Err(message) => {
            // A subcommand's mistake points at that subcommand's help.
            let help = message
                .split_once(": ")
                .and_then(|(name, _)| spec::find(name))
                .map_or_else(
                    || "assay --help".to_owned(),
                    |sub| format!("assay {} --help", sub.name),
                );
            eprintln!("assay: {message}\nRun '{help}' for usage.");
            return ExitCode::from(2);
        }
    };
    if cli.help {
        print!("{}", args::help());
        return ExitCode::SUCCESS;
    }
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Failure { message, code }) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

/// A failure to report and its exit code.
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: format!("assay: {}", message.into()),
            code: 2,
        }
    }
}

impl From<crate::RunError> for Failure {
    fn from(e: crate::RunError) -> Self {
        let message = match &e {
            crate::RunError::Script(_)
            | crate::RunError::Syntax(_)
            | crate::RunError::Unobserved(_) => e.report(),
            _ => format!("assay: {}", e.report()),
        };
        Self {
            message,
            code: e.exit_code(),
        }
    }
}

fn dispatch(cli: args::Options) -> Result<u8, Failure> {
    export_lib_path(&cli);
    if cli.version {
        version::print();
        return Ok(0);
    }
    if let Some(command) = &cli.command {
        return subcommand(&cli, command);
    }
    let runtime = build_runtime(&cli)?;
    if let Some(deadline) = crate::vm::deadline::of(runtime.lua()) {
        watchdog(deadline.watch(), deadline.message());
    }
    let outcome = execute(&cli, &runtime);
    // Like `lua`: report the error first, then close the state (running `__gc` finalizers).
    let code = match outcome {
        Ok(()) => 0,
        Err(Failure { message, code }) => {
            report(runtime.lua(), &message);
            code
        }
    };
    drop(runtime);
    Ok(code)
}

/// Runs a subcommand; its `--help` first.
fn subcommand(cli: &args::Options, command: &args::Command) -> Result<u8, Failure> {
    let args::Command { sub, matches } = command;
    if matches.has("help") {
        print!("{}", spec::help(sub));
        return Ok(0);
    }
    match sub.name {
        "plugins" => {
            let roots = roots_for(std::path::Path::new("."));
            plugins::list(&roots, matches.has("json"));
            Ok(0)
        }
        "packages" => {
            let roots = roots_for(std::path::Path::new("."));
            let runtime = Runtime::builder()
                .lib_path(roots.clone())
                .sandbox(matches.has("sandbox"))
                .build()
                .map_err(|e| Failure::usage(e.to_string()))?;
            packages::list(&runtime, &roots, matches.has("json"));
            Ok(0)
        }
        "package" => {
            let dir = matches.positionals.first().map_or("", String::as_str);
            package::run(std::path::Path::new(dir), matches.value("out"))?;
            Ok(0)
        }
        "completions" => {
            let shell = matches.positionals.first().map_or("", String::as_str);
            print!("{}", completions::script(shell).map_err(Failure::usage)?);
            Ok(0)
        }
        "help" => match matches.positionals.first() {
            None => {
                print!("{}", args::help());
                Ok(0)
            }
            Some(name) => match spec::find(name) {
                Some(sub) => {
                    print!("{}", spec::help(sub));
                    Ok(0)
                }
                None => Err(Failure::usage(format!(
                    "help: no subcommand '{name}' (there are: {})",
                    spec::SUBCOMMANDS
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
        },
        "install" => install::run(matches),
        "update" => update::run(matches),
        "remove" => remove::run(matches),
        "search" => search::run(matches),
        "publish" => publish::run(matches),
        "init" => init::run(matches),
        "types" => types::run(matches),
        "check" => check::run(cli, matches),
        "test" => test::run(cli, matches),
        other => Err(Failure::usage(format!("{other}: not built yet"))),
    }
}

/// The error that ends a run, in the log format: as it is in text; in JSON, one object whose
/// `msg` is the first line and whose `traceback` is the rest.
fn report(lua: &mlua::Lua, message: &str) {
    use crate::builtins::log::{self, Format, Level};
    match log::format(lua) {
        Format::Text => eprintln!("{message}"),
        Format::Json => {
            let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
            let first = first.strip_prefix("assay: ").unwrap_or(first);
            log::runtime_failure(lua, Level::Error, first, rest);
        }
    }
}

fn execute(cli: &args::Options, runtime: &Runtime) -> Result<(), Failure> {
    let mut script = cli.script.iter().cloned();
    let path = script.next();
    let args: Vec<String> = script.collect();
    // `arg` as `lua` sets it, before any chunk runs: the script at 0, what follows it at 1...,
    // the program and its options at -1, -2...; with no script, the program at 0.
    let words: Vec<String> = std::env::args_os()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let script_index = (!cli.script.is_empty()).then(|| words.len() - cli.script.len());
    runtime.set_command_line(&words, script_index)?;
    for code in &cli.execute {
        // Like `lua -e`: `arg` is there, `...` is empty.
        runtime.run_chunk(code, "=(command line)")?;
    }
    match path.as_deref() {
        Some("-") => run::stdin(runtime, &args)?,
        Some(path) => run::file(runtime, path, &args)?,
        None if !cli.execute.is_empty() => {}
        None if std::io::stdin().is_terminal() => repl::run(runtime)?,
        None => run::stdin(runtime, &args)?,
    }
    Ok(())
}

/// A `--lib-path` given (the subcommand's, else the global one) becomes `ASSAY_LIB_PATH` in
/// the process's environment, as if it had been set: a child assay (a test running a script in
/// a child process, `process.run{"assay", ...}`) finds the same packages and plugins.
fn export_lib_path(cli: &args::Options) {
    let given = cli
        .command
        .as_ref()
        .and_then(|c| c.matches.value("lib-path"))
        .or(cli.lib_path.as_deref());
    if let Some(list) = given {
        // SAFETY: called first thing in `dispatch`, before any thread (a runtime, a plugin's)
        // exists to read the environment concurrently.
        unsafe { std::env::set_var("ASSAY_LIB_PATH", list) };
    }
}

/// The roots to search for a run starting in `start` (a script or test file, or a folder):
/// `--lib-path` (exported as `ASSAY_LIB_PATH` by [`export_lib_path`]), else `ASSAY_LIB_PATH`,
/// else the defaults; with the project's own `lua_modules/` first when `start` is inside a
/// project.
pub(crate) fn roots_for(start: &std::path::Path) -> LibPath {
    let folder = if start.is_dir() {
        start
    } else {
        start
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
    };
    LibPath::from_env().with_project(folder)
}

/// The roots for the script being run (its folder), or for the current folder when there is
/// no script file (`-e`, standard input, the REPL).
fn lib_path(cli: &args::Options) -> LibPath {
    match cli.script.first().map(String::as_str) {
        Some(path) if path != "-" => roots_for(std::path::Path::new(path)),
        _ => roots_for(std::path::Path::new(".")),
    }
}

fn build_runtime(cli: &args::Options) -> Result<Runtime, Failure> {
    let memory = parse_limit(&cli.memory_limit)
        .map_err(|e| Failure::usage(format!("--memory-limit: {e}")))?;
    let mut log = LogConfig::from_env().map_err(Failure::usage)?;
    if cli.verbose {
        log.level = Level::Debug;
    }
    if cli.quiet {
        log.level = Level::Error;
    }
    let mut builder = RuntimeBuilder::default()
        .sandbox(cli.sandbox)
        .memory_limit(memory);
    if let Some(text) = &cli.timeout {
        builder = builder.timeout(parse_timeout(text).map_err(Failure::usage)?);
    }
    builder
        .lib_path(lib_path(cli))
        .log(log)
        .build()
        .map_err(Failure::from)
}

/// `--timeout SECONDS`: a non-negative number of seconds; 0 turns the deadline off (a positive
/// number too small to count is the smallest deadline, not none).
fn parse_timeout(text: &str) -> Result<Option<std::time::Duration>, String> {
    let seconds: f64 =
        text.trim().trim_end_matches('s').parse().map_err(|_| {
            format!("--timeout: '{text}' is not a number of seconds (like 30 or 0.5)")
        })?;
    if !(0.0..=1e9).contains(&seconds) {
        return Err(format!(
            "--timeout: '{text}' is out of range (0 to 1e9 seconds; 0 for none)"
        ));
    }
    if seconds == 0.0 {
        return Ok(None);
    }
    let timeout = std::time::Duration::from_secs_f64(seconds);
    Ok(Some(timeout.max(std::time::Duration::from_nanos(1))))
}

/// Ends the process when a run stays past its deadline by [`GRACE`]: the run is stuck where no
/// Lua hook runs (a `__gc` finalizer that loops), so the VM cannot stop it itself.
///
/// [`GRACE`]: crate::vm::deadline::GRACE
fn watchdog(watch: crate::vm::deadline::Watch, message: String) {
    use crate::vm::deadline::GRACE;
    let spawned = std::thread::Builder::new()
        .name("assay-deadline".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_millis(100));
                let at = *watch
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if at.is_some_and(|at| std::time::Instant::now() > at + GRACE) {
                    eprintln!(
                        "assay: {message} (the script was stuck where it could not be \
                         interrupted, such as a __gc finalizer that never returns)"
                    );
                    std::process::exit(1);
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("assay: warning: no deadline watchdog ({e})");
    }
}
