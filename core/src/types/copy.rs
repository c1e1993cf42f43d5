//! Finding the packages on the lib path and copying their Lua sources, and the file helpers
//! the definitions are written with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{TypesError, io_error};
use crate::LibPath;

/// The largest source file copied: definitions are text, and a bigger file is a mistake.
const MAX_SOURCE: u64 = 16 << 20;

/// Folders nested deeper than this in a package are not copied (a link cycle ends here).
const MAX_DEPTH: usize = 16;

fn bad(path: &Path, reason: &str) -> TypesError {
    TypesError::Source {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A source file's bytes (a regular file of bounded size: Lua sources are byte strings).
fn read_bounded(path: &Path) -> Result<Vec<u8>, TypesError> {
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(bad(path, "not a regular file"));
    }
    if meta.len() > MAX_SOURCE {
        return Err(bad(path, "larger than 16 MiB"));
    }
    std::fs::read(path).map_err(io_error(path))
}

/// A definitions file as text (regular, bounded, UTF-8).
pub fn read_source(path: &Path) -> Result<String, TypesError> {
    String::from_utf8(read_bounded(path)?).map_err(|_| bad(path, "not UTF-8 text"))
}

pub fn write_file(path: &Path, data: &[u8]) -> Result<(), TypesError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::write(path, data).map_err(io_error(path))
}

/// A name `require("assay.<name>")` can reach: one segment of letters, digits, `_` and `-`.
fn requirable(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A package as `require("assay.<name>")` finds it in a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Package {
    /// `<root>/<name>/`: `init.lua` and its sub-modules.
    Folder(PathBuf),
    /// `<root>/<name>.lua`, a package of one file.
    File(PathBuf),
}

/// The packages `require` would load, by name, as the searcher resolves them: in each root in
/// order, a folder `<name>/` (with or without a manifest), else a file `<name>.lua`; the first
/// root that has either wins (`plugins/` holds plugins).
pub fn packages(roots: &LibPath) -> BTreeMap<String, Package> {
    let mut found = BTreeMap::new();
    for root in roots.roots() {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut in_root = BTreeMap::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if file_name != "plugins" && requirable(&file_name) {
                    in_root.insert(file_name, Package::Folder(path));
                }
            } else if let Some(name) = file_name.strip_suffix(".lua")
                && requirable(name)
                && path.is_file()
            {
                // A folder of the same name in this root wins over the file.
                in_root
                    .entry(name.to_owned())
                    .or_insert(Package::File(path));
            }
        }
        for (name, package) in in_root {
            found.entry(name).or_insert(package);
        }
    }
    found
}

/// Copies `package` as `target` (a folder, or `target` + `.lua`); how many files it wrote.
pub fn package(package: &Package, target: &Path) -> Result<usize, TypesError> {
    match package {
        Package::Folder(dir) => folder(dir, target),
        Package::File(file) => {
            let mut name = target.as_os_str().to_owned();
            name.push(".lua");
            write_file(Path::new(&name), &read_bounded(file)?)?;
            Ok(1)
        }
    }
}

/// Copies the `.lua` files of package folder `dir` into `target`, keeping their paths; leaves
/// out a top-level `tests/` folder and dot files. Returns how many files it wrote.
fn folder(dir: &Path, target: &Path) -> Result<usize, TypesError> {
    let mut written = 0;
    copy_tree(dir, target, 0, &mut written)?;
    Ok(written)
}

fn copy_tree(
    dir: &Path,
    target: &Path,
    depth: usize,
    written: &mut usize,
) -> Result<(), TypesError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_error(dir))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') || (depth == 0 && name == "tests") {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &target.join(name), depth + 1, written)?;
        } else if path.is_file() && name.ends_with(".lua") {
            write_file(&target.join(name), &read_bounded(&path)?)?;
            *written += 1;
        }
    }
    Ok(())
}
