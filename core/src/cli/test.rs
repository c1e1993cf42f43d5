//! `assay test [PATH...] [--format F] [--output FILE] [--parallel N] [--filter TEXT]`: the test
//! runner (see `crate::testing`), reported as check mode reports. Exit 0 when every case
//! passed, 1 when one failed, 2 for usage, when no test file is found, or when `--filter`
//! matches no test (a typo must not pass as a green run).

use std::path::PathBuf;

use super::console::Console;
use super::spec::Matches;
use super::{Failure, args, report_out};
use crate::report::{self, Style};
use crate::testing::{self, Options};
use crate::vm::memory::parse_limit;

/// A test file's time limit unless `--timeout` says otherwise.
const DEFAULT_FILE_TIMEOUT: f64 = 60.0;

pub fn run(cli: &args::Options, matches: &Matches) -> Result<u8, Failure> {
    let paths: Vec<PathBuf> = if matches.positionals.is_empty() {
        vec![PathBuf::from("tests")]
    } else {
        matches.positionals.iter().map(PathBuf::from).collect()
    };
    let format = report_out::format(matches, "test")?;
    let parallel = report_out::parallel(matches, "test")?.unwrap_or(1);
    let timeout = match matches.value("timeout") {
        None => Some(std::time::Duration::from_secs_f64(DEFAULT_FILE_TIMEOUT)),
        Some(text) => {
            super::parse_timeout(text).map_err(|e| Failure::usage(format!("test: {e}")))?
        }
    };
    let memory = matches.value("memory-limit").unwrap_or(&cli.memory_limit);
    let memory_limit =
        parse_limit(memory).map_err(|e| Failure::usage(format!("test: --memory-limit: {e}")))?;
    let lib_path = super::roots_for(
        paths
            .first()
            .map_or(std::path::Path::new("."), |p| p.as_path()),
    );
    let files = testing::discover(&paths).map_err(|e| Failure::usage(format!("test: {e}")))?;
    report_out::output_is_not_an_input(matches, "test", files.iter().map(PathBuf::as_path))?;
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Failure::usage(format!(
            "test: no test files (*_test.lua, test_*.lua) under {}",
            shown.join(", ")
        )));
    }
    let log = report_out::log_config(cli, matches)?;
    let options = Options {
        log,
        filter: matches.value("filter").map(str::to_owned),
        parallel,
        lib_path,
        memory_limit,
        timeout,
    };
    // What the tests print goes to standard error; standard output is the report's.
    let console = Console::divert(Default::default())
        .map_err(|e| Failure::usage(format!("test: cannot divert the tests' output: {e}")))?;
    let result = testing::run(&files, &options);
    let stdout = console.restore();
    if let Some(filter) = &options.filter
        && result.cases.is_empty()
    {
        return Err(Failure::usage(format!(
            "test: --filter '{filter}' matches no test in {} file(s)",
            files.len()
        )));
    }
    let style = Style {
        colour: report_out::colour(matches, format),
        verbose: matches.has("verbose") || cli.verbose,
        mask: report::Mask::default(),
    };
    report_out::emit(&result, format, &style, matches, "test", stdout)?;
    Ok(if result.passed() { 0 } else { 1 })
}
