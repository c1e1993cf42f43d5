//! The `require` searcher for `assay.*` packages and the script's own folder.
//!
//! `require("assay.X")` loads `X/init.lua`, then `X.lua`, from the first lib-path root that has
//! package `X` (a later root never fills in for an earlier one: no mixing of versions);
//! `require("assay.X.Y")` loads `X/Y.lua` (or `X/Y/init.lua`). A package folder with a
//! `manifest.yaml` is checked before any of its code runs: the core's version, the builtins it
//! needs, the packages it depends on (`requirements.rs`).
//! Other names are looked up in the script's folder (`a.b` -> `a/b.lua`, `a/b/init.lua`), then
//! by Lua's own searchers (`package.path`). A missing module's error lists every path tried,
//! after saying so when the name is a plugin's global (`require("crypto")`; see
//! `plugin::absent`); outside the sandbox, a script run from its own folder leaves the lines
//! for that folder to Lua's `./?.lua` and `./?/init.lua`, so the message reads as `lua`'s.
//!
//! No name leaves its root: an absolute name (`/etc/x`) or a `..` segment finds nothing in
//! the script's folder. Module files must be regular files no larger than the memory the VM
//! has left. In the sandbox, names are dotted words (letters, digits, `_`, `-`) everywhere, and
//! modules load as text only (a binary chunk is refused); see `vm::sandbox`.

use std::path::PathBuf;

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table};

use super::LibPath;
use crate::builtins::args::Args;
use crate::builtins::function::{BuiltinResult, Raise, function};

/// The folder of the running script (the current folder for `-e` and the REPL).
#[derive(Debug, Clone)]
pub struct ScriptDir(pub PathBuf);

/// Puts the searcher in `package.searchers`, right after `package.preload`.
pub fn install(lua: &Lua, lib_path: LibPath) -> mlua::Result<()> {
    let searcher = function(lua, "require", move |lua, args| {
        search(lua, &args, &lib_path)
    })?;
    let package: Table = lua.globals().raw_get("package")?;
    let searchers: Table = package.raw_get("searchers")?;
    let insert: Function = lua.globals().raw_get::<Table>("table")?.raw_get("insert")?;
    insert.call::<()>((searchers, 2, searcher))
}

enum Found {
    File(PathBuf),
    Missing(Vec<PathBuf>),
}

fn first_existing(candidates: Vec<PathBuf>) -> Found {
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Found::File(p.clone()),
        None => Found::Missing(candidates),
    }
}

/// The largest module source read when the VM has no memory limit.
const MAX_SOURCE: usize = 256 << 20;

pub(super) fn sandboxed(lua: &Lua) -> bool {
    lua.app_data_ref::<crate::builtins::BuiltinOptions>()
        .is_some_and(|o| o.sandbox)
}

fn search(lua: &Lua, args: &Args, lib_path: &LibPath) -> BuiltinResult<MultiValue> {
    let name = args.string(1, "name")?;
    let sandbox = sandboxed(lua);
    let found = match name.strip_prefix("assay.") {
        Some(rest) => search_packages(lua, rest, lib_path)?,
        None if sandbox => {
            segments(&name, "")?;
            search_script_dir(lua, &name)
        }
        // Run from its own folder, the script's miss goes unsaid: Lua's `./?.lua` and
        // `./?/init.lua` lines name those files, and the message reads as `lua`'s.
        None if script_dir_is_current(lua) => match search_script_dir(lua, &name) {
            Found::Missing(_) => Found::Missing(Vec::new()),
            found => found,
        },
        None => search_script_dir(lua, &name),
    };
    match found {
        Found::File(path) => {
            let source =
                crate::vm::memory::with_reclaim(lua, assay_files::ReadError::is_too_large, || {
                    let cap = crate::vm::memory::available(lua)
                        .unwrap_or(MAX_SOURCE)
                        .min(MAX_SOURCE);
                    assay_files::read_regular(&path, cap as u64)
                })
                .map_err(|e| Raise::Message(format!("error loading module '{name}': {e}")))?;
            let mode = if sandbox {
                mlua::chunk::ChunkMode::Text
            } else {
                // Outside the sandbox, like Lua's own searchers: text or a precompiled chunk.
                match source.first() {
                    Some(0x1b) => mlua::chunk::ChunkMode::Binary,
                    _ => mlua::chunk::ChunkMode::Text,
                }
            };
            let loader = lua
                .load(source)
                .set_name(format!("@{}", path.display()))
                .set_mode(mode)
                .into_function()
                .map_err(|e| {
                    Raise::Message(format!(
                        "error loading module '{name}' from file '{}':\n\t{}",
                        path.display(),
                        crate::builtins::function::error_message(&e)
                    ))
                })?;
            Ok((loader, path.to_string_lossy().into_owned()).into_lua_multi(lua)?)
        }
        Found::Missing(paths) => {
            // `require("crypto")`, as in Node: say first what `crypto` is.
            let hint = crate::plugin::absent::require_hint(lua, &name);
            let lines: Vec<String> = hint
                .into_iter()
                .chain(paths.iter().map(|p| format!("no file '{}'", p.display())))
                .collect();
            if lines.is_empty() {
                // Nothing to say: no line in the message (as a searcher of Lua's returns
                // nothing).
                return Ok(MultiValue::new());
            }
            Ok(lines.join("\n\t").into_lua_multi(lua)?)
        }
    }
}

/// `X.Y.Z` -> the path segments, refusing anything that could leave the root; `prefix` is
/// what the user wrote before `rest` (`assay.`), for the message.
fn segments<'a>(rest: &'a str, prefix: &str) -> BuiltinResult<Vec<&'a str>> {
    let kind = if prefix.is_empty() {
        "module"
    } else {
        "package"
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !parts.iter().all(valid) {
        return Err(Raise::Message(format!(
            "'{prefix}{rest}' is not a {kind} name (letters, digits, '-', '_', separated by dots)"
        )));
    }
    Ok(parts)
}

fn search_packages(lua: &Lua, rest: &str, lib_path: &LibPath) -> BuiltinResult<Found> {
    let parts = segments(rest, "assay.")?;
    let Some((package, sub)) = parts.split_first() else {
        return Ok(Found::Missing(Vec::new()));
    };
    let mut tried = Vec::new();
    for root in lib_path.roots() {
        let dir = root.join(package);
        if dir.is_dir() {
            super::requirements::check(lua, &dir, lib_path).map_err(Raise::Message)?;
            let candidates = if sub.is_empty() {
                vec![dir.join("init.lua")]
            } else {
                let base = sub.iter().fold(dir.clone(), |p, s| p.join(s));
                vec![base.with_extension("lua"), base.join("init.lua")]
            };
            return Ok(match first_existing(candidates) {
                Found::Missing(mut paths) => {
                    tried.append(&mut paths);
                    Found::Missing(tried)
                }
                found => found,
            });
        }
        tried.push(dir.join("init.lua"));
        if sub.is_empty() {
            let file = root.join(format!("{package}.lua"));
            if file.is_file() {
                return Ok(Found::File(file));
            }
            tried.push(file);
        }
    }
    Ok(Found::Missing(tried))
}

/// Whether the running script's folder is the current folder.
fn script_dir_is_current(lua: &Lua) -> bool {
    let Some(dir) = lua.app_data_ref::<ScriptDir>().map(|d| d.0.clone()) else {
        return false;
    };
    match (std::fs::canonicalize(dir), std::env::current_dir()) {
        (Ok(dir), Ok(cwd)) => std::fs::canonicalize(cwd).is_ok_and(|cwd| cwd == dir),
        _ => false,
    }
}

fn search_script_dir(lua: &Lua, name: &str) -> Found {
    let Some(dir) = lua.app_data_ref::<ScriptDir>().map(|d| d.0.clone()) else {
        return Found::Missing(Vec::new());
    };
    // Outside the sandbox a name may hold `/` (`require("sub/mod")`, as with Lua's
    // `./?.lua`), but never leave the folder.
    let leaves = |p: &str| p.is_empty() || p.split('/').any(|s| s.is_empty() || s == "..");
    if name.is_empty() || name.contains('\0') || name.split('.').any(leaves) {
        return Found::Missing(Vec::new());
    }
    let base = name.split('.').fold(dir, |p, s| p.join(s));
    first_existing(vec![base.with_extension("lua"), base.join("init.lua")])
}
