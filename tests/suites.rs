//! Runs every `tests/lua/**/*.lua` file with the real `assay` binary, one test each, plus the
//! command-line cases in `cli.rs` and check mode's in `check.rs`.
//!
//! A suite file states what it expects in `-- test:` lines at its top (defaults: exit 0,
//! anything on stdout and stderr):
//!
//! ```lua
//! -- test: flags --sandbox            extra command-line flags, before the script
//! -- test: args a "b c"               arguments after the script
//! -- test: env ASSAY_LIB_PATH={dir}/lib    an environment variable ({dir}: the file's folder;
//!                                    {plugins}: the plugins cargo built, ASSAY_LIB_PATH's
//!                                    default)
//! -- test: exit 1                     the expected exit code
//! -- test: stdout <regex>             must match stdout (may repeat)
//! -- test: stderr <regex>             must match stderr (may repeat)
//! -- test: no-stderr <regex>          must not match stderr
//! ```
//!
//! A file with no `-- test:` line is a plain test file: it runs through `assay test` (the
//! runner dogfooding the repo's own tests), whose JSON report must show every case passed.
//! The stdlib packages' tests (`stdlib/<name>/tests/*_test.lua`) run the same way (`stdlib.rs`).

mod check;
mod cli;
mod conformance;
mod install;
mod install_edges;
mod install_network;
mod k8s_examples;
mod lua_testes;
mod plugins;
mod safety;
mod stdlib;
mod test_runner;
mod types;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assay_tests::{assay, built_plugins, run, tests_dir};
use libtest_mimic::{Arguments, Failed, Trial};
use regex::Regex;

const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Expect {
    flags: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    exit: i32,
    stdout: Vec<String>,
    stderr: Vec<String>,
    no_stderr: Vec<String>,
    /// Whether the file has no `-- test:` line (run by `assay test`).
    plain: bool,
}

/// Splits on spaces, keeping "quoted words" together.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn parse_expect(source: &str, dir: &Path) -> Result<Expect, String> {
    let mut e = Expect {
        plain: !source.lines().any(|l| l.starts_with("-- test:")),
        ..Expect::default()
    };
    let dir_text = dir.display().to_string();
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("-- test:") else {
            if line.starts_with("--") || line.starts_with("#!") || line.trim().is_empty() {
                continue;
            }
            break;
        };
        let rest = rest
            .trim()
            .replace("{dir}", &dir_text)
            .replace("{plugins}", &built_plugins().display().to_string());
        let (key, value) = rest.split_once(' ').unwrap_or((rest.as_str(), ""));
        let value = value.trim().to_owned();
        match key {
            "flags" => e.flags.extend(words(&value)),
            "args" => e.args.extend(words(&value)),
            "env" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or(format!("bad env directive: {value}"))?;
                e.env.push((k.to_owned(), v.to_owned()));
            }
            "exit" => {
                e.exit = value
                    .parse()
                    .map_err(|_| format!("bad exit directive: {value}"))?
            }
            "stdout" => e.stdout.push(value),
            "stderr" => e.stderr.push(value),
            "no-stderr" => e.no_stderr.push(value),
            other => return Err(format!("unknown directive '{other}'")),
        }
    }
    Ok(e)
}

fn check_matches(what: &str, text: &str, patterns: &[String], want: bool) -> Result<(), String> {
    for pattern in patterns {
        let re = Regex::new(pattern).map_err(|e| format!("bad {what} pattern {pattern:?}: {e}"))?;
        if re.is_match(text) != want {
            let verb = if want { "does not match" } else { "matches" };
            return Err(format!("{what} {verb} /{pattern}/"));
        }
    }
    Ok(())
}

fn run_suite(path: &Path) -> Result<(), Failed> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let expect = parse_expect(&source, dir)?;
    // Run as a user would, from the script's folder, so messages read `name.lua:line:`.
    let file_name = path.file_name().ok_or("suite without a file name")?;
    if expect.plain {
        return run_plain(file_name, dir);
    }
    let mut cmd = assay();
    cmd.args(&expect.flags)
        .arg(file_name)
        .args(&expect.args)
        .current_dir(dir)
        // Every plugin the workspace built (crypto, the probe, ...), unless the file says else.
        .env("ASSAY_LIB_PATH", built_plugins());
    for (k, v) in &expect.env {
        cmd.env(k, v);
    }
    let result = run(cmd, None, TIMEOUT)?;
    let checks = (|| {
        if result.code != Some(expect.exit) {
            return Err(format!("expected exit code {}", expect.exit));
        }
        check_matches("stdout", &result.stdout, &expect.stdout, true)?;
        check_matches("stderr", &result.stderr, &expect.stderr, true)?;
        check_matches("stderr", &result.stderr, &expect.no_stderr, false)
    })();
    checks.map_err(|why| format!("{why}\n{}", result.describe()).into())
}

/// A plain test file, through `assay test`: exit 0 and every case in the report passed.
fn run_plain(file_name: &std::ffi::OsStr, dir: &Path) -> Result<(), Failed> {
    run_test_file(
        file_name.as_ref(),
        dir,
        &built_plugins().display().to_string(),
    )
}

/// `assay test <file>` run from `dir` with `lib_path`: exit 0 and every case passed.
fn run_test_file(file: &Path, dir: &Path, lib_path: &str) -> Result<(), Failed> {
    let mut cmd = assay();
    cmd.args(["test", "--format", "json"])
        .arg(file)
        .current_dir(dir)
        .env("ASSAY_LIB_PATH", lib_path);
    let result = run(cmd, None, TIMEOUT)?;
    let report: serde_json::Value = serde_json::from_str(&result.stdout)
        .map_err(|e| format!("the report is not JSON ({e})\n{}", result.describe()))?;
    let cases = report["tests"].as_array().map_or(0, Vec::len);
    if result.code != Some(0) || report["passed"] != true || cases == 0 {
        return Err(format!("expected every case to pass\n{}", result.describe()).into());
    }
    Ok(())
}

fn lua_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() && name != "fixtures" {
            lua_files(&path, out);
        } else if name.ends_with(".lua") {
            out.push(path);
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let root = tests_dir().join("lua");
    let mut files = Vec::new();
    lua_files(&root, &mut files);
    let mut trials: Vec<Trial> = files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .with_extension("")
                .display()
                .to_string()
                .replace('/', "::");
            Trial::test(format!("lua::{name}"), move || run_suite(&path))
        })
        .collect();
    trials.extend(check::trials());
    trials.extend(cli::trials());
    trials.extend(install::trials());
    trials.extend(install_edges::trials());
    trials.extend(install_network::trials());
    trials.extend(k8s_examples::trials());
    trials.extend(conformance::trials());
    trials.extend(lua_testes::trials());
    trials.extend(plugins::trials());
    trials.extend(safety::trials());
    trials.extend(stdlib::trials());
    trials.extend(test_runner::trials());
    trials.extend(types::trials());
    libtest_mimic::run(&args, trials).exit();
}
