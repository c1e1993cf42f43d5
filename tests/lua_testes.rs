//! Lua 5.5's own test files (the `testes/` folder of the Lua distribution) run under `assay` and
//! under the reference `lua` built from the same Lua sources (`conformance/fetch-lua-tests`
//! fetches the files and builds it, once, under `~/.cache/assay-lua-tests`).
//!
//! Each file runs on its own as `lua -e "_U=true" FILE` runs it, from the `testes` folder with
//! standard input a pipe (`files.lua` checks that it cannot seek it), and must pass under both;
//! `all.lua` runs the whole "basic" suite the same way (`_U` makes it skip the slow and
//! non-portable parts, `main.lua` among them). `big.lua` runs as `all.lua` runs it outside `_U`:
//! inside a coroutine, since it yields at its top level. A file the reference itself fails
//! makes the test fail too: the list below must stay honest.
//!
//! `assay` runs with its defaults: `errors.lua` and `coroutine.lua` (and so `all.lua`) overflow
//! Lua's stack on purpose, up to its million slots, which takes 70 to 90 MB, within the default
//! memory limit of 128 MiB (at the former 64 MiB, "not enough memory" came before "stack
//! overflow").
//!
//! The files that do not run under `assay`, and why:
//! - `main.lua` tests the stand-alone interpreter `lua` itself: its options (`-i`, `-l`, `-W`,
//!   `-E`, `-v`), `LUA_INIT`, the interactive prompt and its messages, by running `arg[-1]`
//!   through `os.execute`. Assay's command line is its own (README), not `lua.c`'s.
//! - `attrib.lua` loads C modules built from `testes/libs` (`require` through `package.cpath`
//!   and `package.loadlib`); C modules cannot be loaded by assay (its binary does not export
//!   Lua's C API; README), and the reference fails it too unless those libraries are built.
//! - `heavy.lua` is not part of the suite (`all.lua` never runs it): it allocates until memory
//!   runs out, on purpose.
//! - `bwcoercion.lua` and `tracegc.lua` are modules other files load, not tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use assay_tests::{Run, assay, run, tests_dir};
use libtest_mimic::{Failed, Trial};

/// The test files of Lua 5.5, each run on its own.
const FILES: &[&str] = &[
    "api.lua",
    "big.lua",
    "bitwise.lua",
    "calls.lua",
    "closure.lua",
    "code.lua",
    "constructs.lua",
    "coroutine.lua",
    "cstack.lua",
    "db.lua",
    "errors.lua",
    "events.lua",
    "files.lua",
    "gc.lua",
    "gengc.lua",
    "goto.lua",
    "literals.lua",
    "locals.lua",
    "math.lua",
    "memerr.lua",
    "nextvar.lua",
    "pm.lua",
    "sort.lua",
    "strings.lua",
    "tpack.lua",
    "utf8.lua",
    "vararg.lua",
    "verybig.lua",
    "all.lua",
];

/// The files that do not run, with the reason (see the module's docs).
const NOT_RUN: &[(&str, &str)] = &[
    ("main.lua", "tests the stand-alone interpreter `lua` itself"),
    ("attrib.lua", "loads C modules built from testes/libs"),
    (
        "heavy.lua",
        "not part of the suite: exhausts memory on purpose",
    ),
    ("bwcoercion.lua", "a module, not a test"),
    ("tracegc.lua", "a module, not a test"),
];

const TIMEOUT: Duration = Duration::from_secs(300);

/// The fetched tests and the reference `lua`, fetched and built once per test binary.
fn fetched() -> Result<&'static Path, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        let dir = cache.join("assay-lua-tests");
        let script = tests_dir().join("conformance/fetch-lua-tests");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).arg(&dir);
        let out = run(cmd, None, Duration::from_secs(900))?;
        if out.code != Some(0) {
            return Err(format!(
                "{} could not provide Lua's test files:\n{}",
                script.display(),
                out.describe()
            ));
        }
        Ok(dir)
    })
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(Clone::clone)
}

/// The `-e` chunks and the file, as `lua` and `assay` are given them.
fn arguments(file: &str) -> Vec<String> {
    let mut args = vec!["-e".to_owned(), "_U = true".to_owned()];
    if file == "big.lua" {
        // As all.lua runs it when not in `_U` mode.
        args.extend([
            "-e".to_owned(),
            "local f = coroutine.wrap(assert(loadfile('big.lua'))) \
             assert(f() == 'b') assert(f() == 'a') print('big.lua OK')"
                .to_owned(),
        ]);
    } else {
        args.push(file.to_owned());
    }
    args
}

fn run_under(mut cmd: Command, testes: &Path, file: &str) -> Result<Run, String> {
    cmd.args(arguments(file)).current_dir(testes);
    // A pipe, not /dev/null: files.lua checks that standard input cannot seek.
    run(cmd, Some(""), TIMEOUT)
}

fn lua_test_file(file: &str) -> Result<(), Failed> {
    let dir = fetched()?;
    let testes = dir.join("testes");
    let reference = run_under(Command::new(dir.join("lua")), &testes, file)?;
    if reference.code != Some(0) {
        return Err(format!(
            "the reference lua fails {file} (list it in NOT_RUN, saying why):\n{}",
            reference.describe()
        )
        .into());
    }
    let assay = assay();
    let ours = run_under(assay, &testes, file)?;
    if ours.code != Some(0) {
        return Err(format!(
            "{file} passes under the reference lua but fails under assay:\n{}",
            ours.describe()
        )
        .into());
    }
    Ok(())
}

/// Every `.lua` file of the fetched `testes/` is run or listed with the reason it is not.
fn every_file_accounted_for() -> Result<(), Failed> {
    let testes = fetched()?.join("testes");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&testes)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let known = FILES.contains(&name.as_str()) || NOT_RUN.iter().any(|(n, _)| *n == name);
        if name.ends_with(".lua") && !known {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("test files neither run nor listed as not run: {missing:?}").into())
    }
}

pub fn trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = FILES
        .iter()
        .map(|file| {
            let name = format!("lua_testes::{}", file.trim_end_matches(".lua"));
            Trial::test(name, move || lua_test_file(file))
        })
        .collect();
    trials.push(Trial::test(
        "lua_testes::every_file_accounted_for",
        every_file_accounted_for,
    ));
    trials
}
