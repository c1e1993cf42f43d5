//! Finding the test files: `*_test.lua` and `test_*.lua` under the paths given (folders
//! searched whole, in sorted order; hidden folders, `lua_modules`, `node_modules` and `target`
//! skipped), or files named directly.

use std::path::{Path, PathBuf};

/// Folders never searched for test files.
const SKIPPED_FOLDERS: &[&str] = &["lua_modules", "node_modules", "target"];

/// The test files under `paths`, sorted; a path that does not exist is an error. Only
/// regular files count (a FIFO named like a test would block its reader forever).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
        } else if path.is_dir() {
            walk(path, &mut files);
        } else if path.exists() {
            return Err(format!("{}: not a file or folder", path.display()));
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
        } else if is_test_file(&name) && (kind.is_file() || path.is_file()) {
            files.push(path);
        }
    }
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
