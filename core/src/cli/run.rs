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

pub fn stdin(runtime: &Runtime, args: &[String]) -> Result<(), Failure> {
    let mut source = String::new();
    std::io::stdin()
        .read_to_string(&mut source)
        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    runtime
        .run_chunk_with_args(&source, "=stdin", args)
        .map_err(Failure::from)
}
