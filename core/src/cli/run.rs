//! `assay SCRIPT [ARGS]` and `assay -` (script on standard input).

use std::io::Read;
use std::path::Path;

use super::Failure;
use crate::Runtime;

pub fn file(runtime: &Runtime, path: &str, args: &[String]) -> Result<(), Failure> {
    runtime
        .run_file(Path::new(path), args)
        .map_err(Failure::from)
}

/// The largest script read from standard input.
const MAX_STDIN_SCRIPT: u64 = 256 << 20;

pub fn stdin(runtime: &Runtime, args: &[String]) -> Result<(), Failure> {
    // Like a script file: no larger than the memory limit.
    let cap = match runtime.memory_limit() {
        0 => MAX_STDIN_SCRIPT,
        limit => (limit as u64).min(MAX_STDIN_SCRIPT),
    };
    // Bytes, as `lua` reads them: a script need not be UTF-8 (or text: a precompiled chunk).
    let mut source = Vec::new();
    std::io::stdin()
        .take(cap + 1)
        .read_to_end(&mut source)
        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    if source.len() as u64 > cap {
        return Err(Failure::usage(format!(
            "the script on standard input is larger than {}",
            assay_files::describe_size(cap)
        )));
    }
    runtime
        .run_script_source(source, "=stdin", args)
        .map_err(Failure::from)
}
