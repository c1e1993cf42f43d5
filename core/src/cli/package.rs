//! `assay package DIR [--out DIR]`: the package's reproducible archive (`install::archive`) and
//! its entry for a registry's index, printed as JSON:
//! `{name, version, description, requires: {assay}, depends, sha256, size, file}`.

use std::path::Path;

use serde_json::{Map, Value, json};

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
    let m = &packed.manifest;
    let depends: Map<String, Value> = m
        .depends
        .iter()
        .map(|(name, req)| (name.clone(), Value::String(req.to_string())))
        .collect();
    let entry = json!({
        "name": m.name,
        "version": m.version.to_string(),
        "description": m.description,
        "requires": {"assay": m.requires.assay.as_ref().map(ToString::to_string)},
        "depends": depends,
        "sha256": packed.sha256,
        "size": packed.bytes.len(),
        "file": packed.file_name,
    });
    println!("{entry}");
    Ok(())
}
