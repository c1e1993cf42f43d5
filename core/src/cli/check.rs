//! `assay check FILE... [--format F] [--output FILE] [--parallel N] [--only NAME] [--var K=V]`
//! and `assay FILE.yaml`: check mode (see `crate::check`). The report goes to standard
//! output (or `--output`), log lines to standard error. Exit 0 when every check passed, 1 when
//! one failed, 2 for a bad file or usage.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::console::Console;
use super::spec::Matches;
use super::{Failure, args, report_out};
use crate::check::config::{Check, Config};
use crate::check::run::{self, Options};
use crate::check::secrets;
use crate::report::{self, Style};
use crate::vm::memory::parse_limit;

pub fn run(cli: &args::Options, matches: &Matches) -> Result<u8, Failure> {
    let files: Vec<PathBuf> = matches.positionals.iter().map(PathBuf::from).collect();
    let vars = matches
        .values("var")
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(Failure::usage(format!(
                "check: --var '{pair}' is not NAME=VALUE"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let format = report_out::format(matches, "check")?;
    let parallel = report_out::parallel(matches, "check")?;
    let memory = matches.value("memory-limit").unwrap_or(&cli.memory_limit);
    let memory_limit =
        parse_limit(memory).map_err(|e| Failure::usage(format!("check: --memory-limit: {e}")))?;
    let lib_path = super::roots_for(
        files
            .first()
            .map_or(std::path::Path::new("."), |p| p.as_path()),
    );
    let config = Config::load(&files, &vars).map_err(|e| Failure {
        message: format!("assay: {e}"),
        code: 2,
    })?;
    let inputs = files.iter().map(PathBuf::as_path);
    report_out::output_is_not_an_input(
        matches,
        "check",
        inputs.chain(config.checks.iter().map(|c| c.file.as_path())),
    )?;
    let options = Options {
        parallel,
        only: matches.values("only").map(str::to_owned).collect(),
        lib_path,
        memory_limit,
        log: report_out::log_config(cli, matches)?,
    };
    let verbose = matches.has("verbose") || cli.verbose;
    let quiet = matches.has("quiet") || cli.quiet;
    // One mask for the live output and the report, grown by captures named as secrets.
    let mask = Arc::new(Mutex::new(secrets::mask(&config, [])));
    let console = Console::divert(mask.clone())
        .map_err(|e| Failure::usage(format!("check: cannot divert the checks' output: {e}")))?;
    let secret_names: Vec<String> = config.secrets.iter().map(|s| s.name.clone()).collect();
    let live_mask = mask.clone();
    let progress = move |check: &Check, n: usize, attempt: &report::Attempt, captures: &[_]| {
        let learned = captures
            .iter()
            .filter(|(name, _): &&(String, String)| secret_names.contains(name))
            .map(|(_, value)| value.clone());
        live_mask
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(learned);
        if quiet || (!verbose && attempt.passed) {
            return;
        }
        // The console masks this line on its way out; a closed stderr loses it, nothing else.
        let how = if attempt.passed {
            "passed"
        } else {
            &attempt.message
        };
        let _ = writeln!(
            std::io::stderr(),
            "check '{}' attempt {n}: {how}",
            check.name
        );
    };
    let result = run::run(&config, &options, Arc::new(progress));
    let stdout = console.restore();
    let result = result.map_err(|e| Failure::usage(format!("check: {e}")))?;
    let style = Style {
        colour: report_out::colour(matches, format),
        verbose,
        mask: mask.lock().unwrap_or_else(|p| p.into_inner()).clone(),
    };
    report_out::emit(&result, format, &style, matches, "check", stdout)?;
    Ok(if result.passed() { 0 } else { 1 })
}
