//! `assay test`: Lua test files, each run in a fresh VM (not sandboxed: tests use files and
//! processes), reported like check mode (`crate::report`).
//!
//! Files are `*_test.lua` and `test_*.lua` under the paths given (folders searched whole,
//! in sorted order; hidden folders and `lua_modules` skipped), or named directly. In a file,
//! `test(name, fn)` defines a case, `describe(name, fn)` a group (its name prefixes its
//! cases': `group › case`), and `before_each(fn)` / `after_each(fn)` run around every case
//! of their group, outer ones first before and last after. Cases run in order after the
//! file's top level; they may wait (`sleep`, http, processes). A file without cases is one
//! case that passes unless it raises. As with `assay FILE`, `arg[0]` is the file and relative
//! `require`s start from its folder (helpers kept next to the tests). `--filter TEXT` runs the cases whose full name
//! contains TEXT. A failure's message is what was raised: an `assert.eq` gives its
//! `file:line` and its diff.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mlua::{MultiValue, Table, Value};

use crate::report::{Attempt, Case, Outcome, Run};
use crate::{LibPath, RuntimeBuilder};

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

/// Folders never searched for test files.
const SKIPPED_FOLDERS: &[&str] = &["lua_modules", "node_modules", "target"];

/// The test files under `paths`, sorted; a path that does not exist is an error.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
        } else if path.is_dir() {
            walk(path, &mut files);
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn is_test_file(name: &str) -> bool {
    name.ends_with(".lua") && (name.ends_with("_test.lua") || name.starts_with("test_"))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_FOLDERS.contains(&name.as_str()) {
                walk(&path, files);
            }
        } else if is_test_file(&name) {
            files.push(path);
        }
    }
}

/// Runs `files`, up to `options.parallel` at once, each on a thread with a VM of its own.
pub fn run(files: &[PathBuf], options: &Options) -> Run {
    let started = Instant::now();
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<(usize, Vec<Case>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.parallel.clamp(1, files.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut next = next.lock().unwrap_or_else(|p| p.into_inner());
                        let i = *next;
                        *next += 1;
                        i
                    };
                    let Some(file) = files.get(i) else { break };
                    let cases = run_file(file, options);
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, cases));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    Run {
        name: "assay test".into(),
        noun: "tests",
        cases: results.into_iter().flat_map(|(_, cases)| cases).collect(),
        duration: started.elapsed(),
    }
}

fn case(file: &str, name: String, outcome: Outcome, message: String, duration: Duration) -> Case {
    Case {
        name,
        group: file.to_owned(),
        outcome,
        attempts: vec![Attempt {
            passed: outcome == Outcome::Passed,
            message: message.clone(),
            duration,
        }],
        message,
        duration,
        captures: Vec::new(),
    }
}

/// One file's cases; a file that cannot run at all is one errored case.
fn run_file(path: &Path, options: &Options) -> Vec<Case> {
    let file = path.display().to_string();
    let started = Instant::now();
    let errored = |message: String| {
        vec![case(
            &file,
            file.clone(),
            Outcome::Error,
            message,
            started.elapsed(),
        )]
    };
    let runtime = match RuntimeBuilder::default()
        .memory_limit(options.memory_limit)
        .timeout(options.timeout)
        .lib_path(options.lib_path.clone())
        .log(options.log)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return errored(format!("cannot make a VM: {}", e.report())),
    };
    if let Err(e) = runtime.set_script_file(path) {
        return errored(e.report());
    }
    let source = match assay_files::read_capped(path, 16 << 20) {
        Ok(source) => crate::vm::script::source(source),
        Err(e) => return errored(e.to_string()),
    };
    let lua = runtime.lua();
    let chunk = match lua
        .load(&source[..])
        .set_name(format!("@{file}"))
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
    {
        Ok(chunk) => chunk,
        Err(e) => return errored(e.to_string()),
    };
    let filter = options.filter.clone();
    let args = || -> mlua::Result<MultiValue> {
        Ok(MultiValue::from_iter([
            Value::Function(chunk.clone()),
            match &filter {
                Some(f) => Value::String(lua.create_string(f)?),
                None => Value::Nil,
            },
            Value::String(lua.create_string(&file)?),
        ]))
    };
    let args = match args() {
        Ok(args) => args,
        Err(e) => return errored(e.to_string()),
    };
    let values = match runtime.eval_chunk(include_bytes!("runner.lua"), "=[assay test]", args) {
        Ok(values) => values,
        Err(e) => return errored(e.report()),
    };
    let Some(Value::Table(list)) = values.into_iter().next() else {
        return errored("the test runner returned nothing".into());
    };
    list.sequence_values::<Table>()
        .map(|entry| {
            let entry = entry.map_err(|e| e.to_string())?;
            let name: String = entry.get("name").map_err(|e| e.to_string())?;
            let passed: bool = entry.get("passed").map_err(|e| e.to_string())?;
            let message: String = entry.get("message").unwrap_or_default();
            let ms: f64 = entry.get("ms").unwrap_or_default();
            let outcome = if passed {
                Outcome::Passed
            } else {
                Outcome::Failed
            };
            Ok(case(
                &file,
                name,
                outcome,
                message,
                Duration::from_secs_f64(ms.max(0.0) / 1000.0),
            ))
        })
        .collect::<Result<Vec<_>, String>>()
        .unwrap_or_else(errored)
}

#[cfg(test)]
mod tests {
    use super::is_test_file;

    #[test]
    fn test_file_names() {
        assert!(is_test_file("json_test.lua"));
        assert!(is_test_file("test_json.lua"));
        assert!(!is_test_file("json.lua"));
        assert!(!is_test_file("test_json.lua.bak"));
    }
}
