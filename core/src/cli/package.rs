//! `assay package DIR [--out DIR]`: the package's reproducible archive (`install::archive`) and
//! its entry for a registry's index, printed as JSON:
//! `{name, version, description, requires: {assay}, depends, sha256, size, file}`.

use std::path::Path;

use super::Failure;
use crate::install::archive;

pub fn run(dir: &Path, out: Option<&str>) -> Result<(), Failure> {
    let fail = |message: String| Failure {
        message: format!("assay: package: {message}"),
        code: 1,
    };
    let packed = archive::pack(dir).map_err(|e| fail(e.to_string()))?;
    let out_dir = Path::new(out.unwrap_or("."));
    let target = out_dir.join(&packed.file_name);
    // through a temporary file and a rename: a reader never sees half an archive
    crate::builtins::fs::write_atomic(&target, &packed.bytes)
        .map_err(|e| fail(format!("{}: {e}", target.display())))?;
    let entry = packed.entry().to_json();
    println!("{entry}");
    Ok(())
}
