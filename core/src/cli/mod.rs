//! The `assay` command line: one file per way of running.

mod repl;
mod run;
mod version;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::builtins::log::{Level, LogConfig};
use crate::vm::memory::parse_size;
use crate::{LibPath, Runtime, RuntimeBuilder};

/// Assay: a Lua 5.5 runtime for platform automation.
///
/// Runs SCRIPT with ARGS (in the global `arg`, and as `...`), or CODE given with -e, or reads
/// a script from standard input; with no arguments on a terminal it starts a prompt.
#[derive(Debug, Parser)]
#[command(
    name = "assay",
    disable_version_flag = true,
    after_help = "Exit codes: 0 success, 1 script error, 2 usage or configuration error."
)]
pub struct Cli {
    /// Run CODE (before SCRIPT, if one is given).
    #[arg(short = 'e', value_name = "CODE")]
    execute: Option<String>,
    /// Run with only the sandboxed globals (no files, processes, C modules or debug).
    #[arg(long)]
    sandbox: bool,
    /// Memory the VM may use (e.g. 64M, 512K, 1G; 0 for no limit).
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    memory_limit: String,
    /// Package roots, `:`-separated (default: $ASSAY_LIB_PATH, then the standard roots).
    #[arg(long, value_name = "PATHS")]
    lib_path: Option<String>,
    /// Log debug lines too (overrides ASSAY_LOG).
    #[arg(short, long, conflicts_with = "quiet")]
    verbose: bool,
    /// Log errors only (overrides ASSAY_LOG).
    #[arg(short, long)]
    quiet: bool,
    /// Print the core and Lua versions.
    #[arg(short = 'V', long)]
    version: bool,
    /// The script (`-` for standard input) and its arguments; everything after SCRIPT is the
    /// script's, flags included.
    #[arg(
        value_name = "SCRIPT [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    script: Vec<String>,
}

/// Parses the command line, runs, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
            | crate::RunError::Unobserved { .. } => e.report(),
            _ => format!("assay: {}", e.report()),
        };
        Self {
            message,
            code: e.exit_code(),
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8, Failure> {
    if cli.version {
        version::print();
        return Ok(0);
    }
    let runtime = build_runtime(&cli)?;
    let mut script = cli.script.into_iter();
    let path = script.next();
    let args: Vec<String> = script.collect();
    if let Some(code) = &cli.execute {
        runtime.run_chunk_with_args(code, "=(command line)", &args)?;
    }
    match path.as_deref() {
        Some("-") => run::stdin(&runtime, &args)?,
        Some(path) => run::file(&runtime, path, &args)?,
        None if cli.execute.is_some() => {}
        None if std::io::stdin().is_terminal() => repl::run(&runtime)?,
        None => run::stdin(&runtime, &args)?,
    }
    Ok(0)
}

fn build_runtime(cli: &Cli) -> Result<Runtime, Failure> {
    let memory = parse_size(&cli.memory_limit)
        .map_err(|e| Failure::usage(format!("--memory-limit: {e}")))?;
    let mut log = LogConfig::from_env().map_err(Failure::usage)?;
    if cli.verbose {
        log.level = Level::Debug;
    }
    if cli.quiet {
        log.level = Level::Error;
    }
    let lib_path = match &cli.lib_path {
        Some(list) => LibPath::parse(list),
        None => LibPath::from_env(),
    };
    RuntimeBuilder::default()
        .sandbox(cli.sandbox)
        .memory_limit(memory)
        .lib_path(lib_path)
        .log(log)
        .build()
        .map_err(Failure::from)
}
