//! What `assay check` and `assay test` share: the report format a command line asks for, and
//! writing the report to standard output or `--output` (replaced atomically).

use std::io::{IsTerminal, Write};

use super::spec::Matches;
use super::{Failure, args};
use crate::builtins::log::{Level, LogConfig};
use crate::report::{self, Format, Run, Style};

/// `--format`, else text on a terminal and JSON otherwise (a file, a pipe, a CI log).
pub fn format(matches: &Matches, sub: &str) -> Result<Format, Failure> {
    match matches.value("format") {
        Some(name) => {
            Format::parse(name).map_err(|e| Failure::usage(format!("{sub}: --format: {e}")))
        }
        None if matches.value("output").is_none() && std::io::stdout().is_terminal() => {
            Ok(Format::Text)
        }
        None => Ok(Format::Json),
    }
}

/// Whether the text report may use colours: it goes to a terminal.
pub fn colour(matches: &Matches, format: Format) -> bool {
    format == Format::Text && matches.value("output").is_none() && std::io::stdout().is_terminal()
}

/// `--parallel N`, from 1 to 1024.
pub fn parallel(matches: &Matches, sub: &str) -> Result<Option<usize>, Failure> {
    matches
        .value("parallel")
        .map(|n| match n.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Ok(n),
            _ => Err(Failure::usage(format!(
                "{sub}: --parallel '{n}' is not a number from 1 to 1024"
            ))),
        })
        .transpose()
}

/// The `log` builtin's settings for the checks' or tests' VMs: `ASSAY_LOG` and
/// `ASSAY_LOG_FORMAT`, with `-v` lowering the level to debug and `-q` raising it to error.
pub fn log_config(cli: &args::Options, matches: &Matches) -> Result<LogConfig, Failure> {
    let mut log = LogConfig::from_env().map_err(Failure::usage)?;
    if matches.has("verbose") || cli.verbose {
        log.level = Level::Debug;
    }
    if matches.has("quiet") || cli.quiet {
        log.level = Level::Error;
    }
    Ok(log)
}

/// Refuses an `--output` that names one of the run's own files, which the report would
/// replace.
pub fn output_is_not_an_input<'a>(
    matches: &Matches,
    sub: &str,
    inputs: impl IntoIterator<Item = &'a std::path::Path>,
) -> Result<(), Failure> {
    let Some(output) = matches.value("output") else {
        return Ok(());
    };
    let Ok(output) = std::fs::canonicalize(output) else {
        return Ok(()); // not there yet: not an input
    };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|i| i == output) {
            return Err(Failure::usage(format!(
                "{sub}: --output {} is one of the files this run reads",
                input.display()
            )));
        }
    }
    Ok(())
}

/// Writes `run` as `format` where the command line says: `--output`, else `stdout` (the
/// real standard output the console kept, see `console`), else descriptor 1.
pub fn emit(
    run: &Run,
    format: Format,
    style: &Style,
    matches: &Matches,
    sub: &str,
    stdout: Option<std::fs::File>,
) -> Result<(), Failure> {
    let mut text = Vec::new();
    report::write(run, format, style, &mut text)
        .map_err(|e| Failure::usage(format!("{sub}: {e}")))?;
    match matches.value("output") {
        Some(path) => crate::builtins::fs::write_atomic(std::path::Path::new(path), &text)
            .map_err(|e| Failure::usage(format!("{sub}: --output {path}: {e}"))),
        None => {
            let written = match stdout {
                Some(mut file) => file.write_all(&text).and_then(|()| file.flush()),
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(&text).and_then(|()| stdout.flush())
                }
            };
            written.map_err(|e| Failure::usage(format!("{sub}: {e}")))
        }
    }
}
