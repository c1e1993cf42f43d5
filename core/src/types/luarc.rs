//! `.luarc.json`, the settings file lua-language-server and EmmyLua both read: made when
//! missing, else merged into, keeping every key the user put there.
//!
//! Two settings are ours:
//! - `runtime.version = "Lua 5.5"`: the spelling lua-language-server uses (its releases since
//!   Lua 5.5 came out know it), which EmmyLua accepts as an alias of its `Lua5.5`. An existing
//!   version is replaced: Assay runs Lua 5.5, and a checker told otherwise flags 5.5 code.
//! - `workspace.library` gains `.assay/types` (kept where it is when already listed; the
//!   user's other entries stay, in their order).
//! - `workspace.ignoreDir` gains `lua_modules`: installed packages are libraries, read through
//!   their copies under `.assay/types/assay/` (where `require("assay.<pkg>")` finds them), not
//!   the project's own code; checked there as well, each of their classes would be declared
//!   twice.
//!
//! Either may be written nested (`{"runtime": {"version": ...}}`) or flat
//! (`{"runtime.version": ...}`, which lua-language-server also reads): a flat key that is there
//! is updated in place, so the file never holds the same setting twice (a section written only
//! in flat keys gets its new settings flat too). The result is written
//! as indented JSON (keys in sorted order) through a temporary file and a rename. A file that
//! is not a JSON object, or a setting of the wrong shape (`"workspace": 3`), is an error naming
//! it, and the file is left as it was.

use std::path::Path;

use serde_json::{Map, Value};

use super::{TYPES_DIR, TypesError, io_error};

/// The file's name, in the project folder.
pub const FILE: &str = ".luarc.json";

/// A project's installed packages, beside `assay.yaml`.
pub const MODULES_DIR: &str = "lua_modules";

/// The Lua version as `.luarc.json` says it.
pub const LUA_VERSION: &str = "Lua 5.5";

/// The largest `.luarc.json` read (settings files are small).
const MAX_SIZE: u64 = 1 << 20;

/// The new text of the file at `path` (made or merged) and whether the file is new; nothing
/// is written yet, so a broken file stops [`super::write`] before it changes anything.
pub fn prepare(path: &Path) -> Result<(String, bool), TypesError> {
    let existing = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(wrong(path, "not a regular file")),
        Ok(meta) if meta.len() > MAX_SIZE => return Err(wrong(path, "larger than 1 MiB")),
        Ok(_) => Some(std::fs::read_to_string(path).map_err(io_error(path))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error(path)(e)),
    };
    let text = merged(existing.as_deref()).map_err(|reason| wrong(path, &reason))?;
    Ok((text, existing.is_none()))
}

/// Writes the prepared text (through a temporary file and a rename).
pub fn write(path: &Path, text: &str) -> Result<(), TypesError> {
    crate::builtins::fs::write_atomic(path, text.as_bytes()).map_err(io_error(path))
}

fn wrong(path: &Path, reason: &str) -> TypesError {
    TypesError::Luarc {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The file's new text from its old one (`None`: no file yet).
pub fn merged(existing: Option<&str>) -> Result<String, String> {
    let mut root = match existing {
        None => Map::new(),
        Some(text) if text.trim().is_empty() => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(format!(
                    "the settings must be a JSON object, not {}",
                    kind(&other)
                ));
            }
            Err(e) => return Err(format!("not valid JSON ({e}); fix it or remove it")),
        },
    };
    *setting(&mut root, "runtime", "version")? = Value::String(LUA_VERSION.to_owned());
    add_folder(
        setting(&mut root, "workspace", "library")?,
        "library",
        TYPES_DIR,
    )?;
    add_folder(
        setting(&mut root, "workspace", "ignoreDir")?,
        "ignoreDir",
        MODULES_DIR,
    )?;
    let mut text = serde_json::to_string_pretty(&Value::Object(root)).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Adds `folder` to the list `value` (made when unset) unless it is there already.
fn add_folder(value: &mut Value, name: &str, folder: &str) -> Result<(), String> {
    if value.is_null() {
        *value = Value::Array(Vec::new());
    }
    let Value::Array(entries) = value else {
        return Err(format!(
            "workspace.{name} must be a list of folders, not {}",
            kind(value)
        ));
    };
    let listed = entries.iter().any(|entry| {
        let path = entry
            .as_str()
            .or_else(|| entry.get("path").and_then(Value::as_str));
        path.is_some_and(|p| same_folder(p, folder))
    });
    if !listed {
        entries.push(Value::String(folder.to_owned()));
    }
    Ok(())
}

/// `.assay/types`, `./.assay/types` and `.assay/types/` are one folder.
fn same_folder(a: &str, b: &str) -> bool {
    let clean = |p: &str| p.trim_start_matches("./").trim_end_matches('/').to_owned();
    clean(a) == clean(b)
}

/// The value of setting `section.key`: the flat key when the file writes it (or its section)
/// that way, else the nested one (its section made when missing). Null when unset.
fn setting<'a>(
    root: &'a mut Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<&'a mut Value, String> {
    let flat = format!("{section}.{key}");
    // Flat when the file says this setting flat, or writes its section only in flat keys.
    let prefix = format!("{section}.");
    let flat_style = root.contains_key(&flat)
        || (!root.contains_key(section) && root.keys().any(|k| k.starts_with(&prefix)));
    if flat_style {
        return Ok(root.entry(flat).or_insert(Value::Null));
    }
    let table = root
        .entry(section.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    match table {
        Value::Object(map) => Ok(map.entry(key.to_owned()).or_insert(Value::Null)),
        other => Err(format!(
            "\"{section}\" must be an object of settings, not {}",
            kind(other)
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
