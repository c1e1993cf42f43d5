//! `assay test`: Lua test files, each run in a fresh VM (not sandboxed: tests use files and
//! processes), reported like check mode (`crate::report`).
//!
//! Files are `*_test.lua` and `test_*.lua` under the paths given (see [`discover`]). In a
//! file, `test(name, fn)` defines a case, `describe(name, fn)` a group (its name prefixes its
//! cases': `group › case`), and `before_each(fn)` / `after_each(fn)` run around every case of
//! their group, outer ones first before and last after. Cases run in order after the file's
//! top level; they may wait (`sleep`, http, processes). A file without cases is one case that
//! passes unless it (or what it spawned) fails, like `assay FILE`. As with `assay FILE`,
//! `arg[0]` is the file and relative `require`s start from its folder (helpers kept next to
//! the tests). `--filter TEXT` runs the cases whose full name contains TEXT. A failure's
//! message is what was raised: an `assert.eq` gives its `file:line` and its diff. Names and
//! messages that are not UTF-8 are shown with U+FFFD; past 64 KiB they are cut.
//!
//! What a test cannot do to the run (as in Deno's test runner):
//!
//! - **Exit**: `os.exit` in a test file raises "tried to exit with code N" and fails the test
//!   that called it, even if the test catches the error; the run goes on.
//! - **Leave work behind**: an `async.spawn` task, `async.interval` or `process.spawn`
//!   process a test (or its hooks) started and left running when it ended fails that test,
//!   naming the work and the line that started it, and is stopped (cancelled, or the process
//!   terminated); so does a task it started that failed unawaited or an interval stopped by
//!   an error (as Deno's sanitizers do). What the file's top level started (a server its cases
//!   use) is stopped once the file's cases are done, and the file ends then, whatever else
//!   still runs (a plugin's server is not tracked per test: it ends with the file). A file
//!   without cases waits for its work, as a script does.
//! - **Change the runner**: the runner keeps its own copies of the globals it uses; a file
//!   replacing `xpcall` or `string.find` changes nothing about how its cases are judged.
//! - **Run forever**: `--timeout` bounds each file (60 s unless set). A file that runs out of
//!   time keeps the results of its finished cases; the case running then fails with "timed
//!   out after N s" and those after it are skipped. A file stuck where the VM cannot
//!   interrupt it (a `__gc` finalizer that never returns) is reported as errored 2 s past its
//!   time and left behind; the run still ends and writes its report. With `--timeout 0`
//!   nothing bounds a file.

mod discover;
mod file;
mod pool;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use discover::discover;

use crate::LibPath;
use crate::report::{Outcome, Run};

/// How to run the tests.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub filter: Option<String>,
    pub parallel: usize,
    pub lib_path: LibPath,
    pub memory_limit: usize,
    /// Each file's time limit (`None`: none).
    pub timeout: Option<Duration>,
    /// The `log` builtin's level and format in the test VMs (`-v`, `-q`, `ASSAY_LOG`).
    pub log: crate::builtins::log::LogConfig,
}

/// Runs `files`, up to `options.parallel` at once, each on a thread with a VM of its own.
pub fn run(files: &[PathBuf], options: &Options) -> Run {
    let started = Instant::now();
    let slots: Vec<Arc<(PathBuf, file::Shared)>> = files
        .iter()
        .map(|path| {
            let progress = Arc::new(Mutex::new(file::Progress::new(path)));
            Arc::new((path.clone(), progress))
        })
        .collect();
    let job_options = options.clone();
    let results = pool::run(
        slots,
        options.parallel,
        move |_, (path, progress)| file::run(path, &job_options, progress),
        |(_, progress)| file::lock(progress).stuck(),
        |_, (_, progress), why| {
            let message = match why {
                pool::Lost::Stuck => {
                    let limit = options.timeout.unwrap_or_default().as_secs_f64();
                    format!(
                        "timed out after {limit} s and stuck where it could not be \
                         interrupted (such as a __gc finalizer that never returns); its \
                         thread was left behind"
                    )
                }
                pool::Lost::Failed(panic) => {
                    format!("the test runner failed on this file (a bug in Assay): {panic}")
                }
            };
            file::lock(progress).end_with(Outcome::Error, message)
        },
    );
    Run {
        name: "assay test".into(),
        noun: "tests",
        cases: results.into_iter().flatten().collect(),
        duration: started.elapsed(),
    }
}
