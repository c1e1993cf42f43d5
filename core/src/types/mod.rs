//! `assay types`: LuaCATS definitions of everything a script can reach, for editors and type
//! checkers (lua-language-server, EmmyLua and its `emmylua_check`).
//!
//! [`write`] lays out `DIR/.assay/types/` (generated whole each time: what is not installed
//! any more disappears; the same installation gives the same bytes):
//!
//! ```text
//! .assay/types/core/<area>.lua        the core globals (json, fs, time, assert, test, ...),
//!                                     written once as `---@meta` files embedded in the binary
//! .assay/types/plugins/<name>.lua     each usable plugin's own definitions: the `types.lua`
//!                                     beside its manifest (`assay_sdk::build` puts it there)
//! .assay/types/assay/<pkg>/...        each package's Lua sources, as they are installed, so
//!                                     that `require("assay.<pkg>")` and `require("assay.<pkg>.sub")`
//!                                     resolve to its annotated code (`?.lua` and `?/init.lua`
//!                                     under a library folder: both checkers' defaults); a
//!                                     one-file package (`<root>/<pkg>.lua`) as `assay/<pkg>.lua`
//! ```
//!
//! and writes or updates `DIR/.luarc.json` (see [`luarc`]): `runtime.version = "Lua 5.5"`
//! (EmmyLua reads it as `Lua5.5`; lua-language-server's releases since Lua 5.5 came out know
//! it under that name), `.assay/types` in `workspace.library` and `lua_modules` in
//! `workspace.ignoreDir`. Both checkers read `.luarc.json`; a library folder inside the
//! workspace is read as a library, so its files are not diagnosed.
//!
//! Packages come from every lib-path root, the project's `lua_modules/` first (the one beside
//! the nearest `assay.yaml` at or above DIR), first root winning per name, as `require`
//! resolves them. A package's `tests/` folder and dot files are left out. Plugins come from
//! [`crate::plugin::discovery`]: only those a script could use (not refused, not shadowed);
//! a usable plugin without definitions is named in the [`Summary`].
//!
//! Copies rather than links: the folder stays valid in a container image or on another
//! machine, and a checker never follows a link out of the project. After `assay install` or
//! `assay update`, run `assay types` again (both call [`write`] in a project).

mod copy;
pub mod luarc;

use std::io;
use std::path::{Path, PathBuf};

use crate::LibPath;
use crate::plugin::discovery::{self, Status};

/// Where the definitions go, relative to the project folder (and as `.luarc.json` names it).
pub const TYPES_DIR: &str = ".assay/types";

/// The definitions of the core globals, one file per area, in the binary.
const CORE: &[(&str, &str)] = &[
    ("assert.lua", include_str!("defs/assert.lua")),
    ("codecs.lua", include_str!("defs/codecs.lua")),
    ("encodings.lua", include_str!("defs/encodings.lua")),
    ("regex.lua", include_str!("defs/regex.lua")),
    ("system.lua", include_str!("defs/system.lua")),
    ("testing.lua", include_str!("defs/testing.lua")),
    ("time.lua", include_str!("defs/time.lua")),
];

/// The name of a plugin's definitions file, beside its manifest.
pub const PLUGIN_TYPES_FILE: &str = "types.lua";

/// What [`write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `DIR/.assay/types`.
    pub types_dir: PathBuf,
    /// `DIR/.luarc.json`.
    pub luarc: PathBuf,
    /// Whether `.luarc.json` was made (not there before).
    pub luarc_created: bool,
    /// The core's files, by name.
    pub core: Vec<String>,
    /// Plugins whose definitions were copied, by name.
    pub plugins: Vec<String>,
    /// Usable plugins that ship no definitions (their globals stay unknown to a checker).
    pub plugins_without_types: Vec<String>,
    /// Packages copied, by name.
    pub packages: Vec<String>,
    /// Every file written under `types_dir`.
    pub files: usize,
}

/// Why the definitions could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TypesError {
    #[error("{}: not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {reason}", path.display())]
    Luarc { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    Source { path: PathBuf, reason: String },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> TypesError + '_ {
    move |source| TypesError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `dir/.assay/types/` and `dir/.luarc.json` for the plugins and packages found on
/// `lib_path` (the project's `lua_modules/` searched first; see the module docs).
pub fn write(dir: &Path, lib_path: &LibPath) -> Result<Summary, TypesError> {
    if !dir.is_dir() {
        return Err(TypesError::NotAFolder(dir.to_owned()));
    }
    let roots = with_project_root(dir, lib_path);
    // Read first: a `.luarc.json` that cannot be merged stops the run before anything changes.
    let luarc_path = dir.join(luarc::FILE);
    let (luarc_text, luarc_created) = luarc::prepare(&luarc_path)?;
    let assay_dir = dir.join(".assay");
    std::fs::create_dir_all(&assay_dir).map_err(io_error(&assay_dir))?;
    let types_dir = dir.join(TYPES_DIR);
    remove_leftovers(&assay_dir)?;
    // Built beside the old folder and swapped in: a failure leaves the old definitions.
    let staging = assay_dir.join(format!("{STAGING_PREFIX}new-{}", std::process::id()));
    let built = build(&staging, &roots);
    let (mut summary, files) = match built {
        Ok(built) => built,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let old = assay_dir.join(format!("{STAGING_PREFIX}old-{}", std::process::id()));
    remove_if_present(&old)?;
    if types_dir.exists() {
        std::fs::rename(&types_dir, &old).map_err(io_error(&types_dir))?;
    }
    std::fs::rename(&staging, &types_dir).map_err(io_error(&types_dir))?;
    remove_if_present(&old)?;
    luarc::write(&luarc_path, &luarc_text)?;
    summary.luarc_created = luarc_created;
    summary.types_dir = types_dir;
    summary.luarc = luarc_path;
    summary.files = files;
    Ok(summary)
}

/// The folders a run works in beside `.assay/types` start with this.
const STAGING_PREFIX: &str = ".types.";

/// Removes what an interrupted run left in `.assay/` (a checker would read those files as the
/// project's own, every definition twice).
fn remove_leftovers(assay_dir: &Path) -> Result<(), TypesError> {
    let entries = std::fs::read_dir(assay_dir).map_err(io_error(assay_dir))?;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), TypesError> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

/// `lib_path` with the project's `lua_modules/` first (when `dir` is in a project and that
/// root is not already on it), as `require` searches them.
pub fn with_project_root(dir: &Path, lib_path: &LibPath) -> LibPath {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let project = absolute
        .ancestors()
        .find(|d| d.join("assay.yaml").is_file())
        .map(|d| d.join("lua_modules"));
    match project {
        Some(modules) if !lib_path.roots().contains(&modules) => {
            LibPath::from_roots(std::iter::once(modules).chain(lib_path.roots().iter().cloned()))
        }
        _ => lib_path.clone(),
    }
}

/// Fills `staging`; the summary without its paths, and the number of files written.
fn build(staging: &Path, roots: &LibPath) -> Result<(Summary, usize), TypesError> {
    let mut files = 0;
    let core_dir = staging.join("core");
    std::fs::create_dir_all(&core_dir).map_err(io_error(&core_dir))?;
    for (name, text) in CORE {
        let path = core_dir.join(name);
        std::fs::write(&path, text).map_err(io_error(&path))?;
        files += 1;
    }
    let mut plugins = Vec::new();
    let mut without = Vec::new();
    let found = discovery::discover(roots, crate::plugin::CORE_GLOBALS);
    for plugin in found.iter().filter(|p| p.status == Status::Usable) {
        let source = plugin.dir.join(PLUGIN_TYPES_FILE);
        if !source.exists() {
            without.push(plugin.name.clone());
            continue;
        }
        let text = copy::read_source(&source)?;
        if !text.trim_start().starts_with("---@meta") {
            return Err(TypesError::Source {
                path: source,
                reason: "a plugin's definitions must be a LuaCATS meta file (start with ---@meta)"
                    .into(),
            });
        }
        let target = staging.join("plugins").join(format!("{}.lua", plugin.name));
        copy::write_file(&target, text.as_bytes())?;
        plugins.push(plugin.name.clone());
        files += 1;
    }
    let mut packages = Vec::new();
    for (name, package) in copy::packages(roots) {
        // A folder with no Lua in it is no package (`require` finds nothing there).
        let copied = copy::package(&package, &staging.join("assay").join(&name))?;
        if copied > 0 {
            files += copied;
            packages.push(name);
        }
    }
    plugins.sort();
    without.sort();
    let summary = Summary {
        types_dir: PathBuf::new(),
        luarc: PathBuf::new(),
        luarc_created: false,
        core: CORE.iter().map(|(name, _)| (*name).to_owned()).collect(),
        plugins,
        plugins_without_types: without,
        packages,
        files,
    };
    Ok((summary, files))
}

#[cfg(test)]
mod tests;
