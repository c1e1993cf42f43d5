//! What a package's manifest asks of its surroundings, checked by `require` before any of the
//! package's code runs (DESIGN.md's lib path, STDLIB.md's layout):
//!
//! - `requires.assay`: the core's version (`PackageManifest::check_core`);
//! - `requires_builtins`: every dotted name (`http.client`, `json.parse`, `sleep`) must be
//!   there and usable: a plugin that is not installed or was refused, a name this core does not
//!   have, or one the sandbox refuses, fails with the name and why:
//!   `package 'vault' needs http.client, which no installed plugin provides`;
//! - `depends`: each package must be on the lib path (the first root that has it, as `require`
//!   would find it) with a version in the range, and usable itself (its own manifest checked
//!   the same way, through its dependencies):
//!   `package 'crossplane' needs package 'k8s' ^0.2, but k8s 0.3.1 is installed (/lib/k8s)`;
//!   `package 'certmanager' needs package 'k8s' >=0.1, <0.2, which cannot be used here:
//!   package 'k8s' needs fs.write, which is not available in sandbox`.
//!
//! A package that passed is not checked again in the same VM (its submodules, a second
//! `require` after `package.loaded` was cleared).

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use assay_manifest::{MANIFEST_FILE, PackageManifest};
use mlua::{Lua, Table, Value};

use super::LibPath;

/// The package folders of this VM whose manifests passed.
#[derive(Default)]
struct Checked(RefCell<HashSet<PathBuf>>);

/// Checks the manifest in `dir` (if it has one) against the core, the VM's globals and the
/// lib path; the message says what is missing.
pub fn check(lua: &Lua, dir: &Path, lib_path: &LibPath) -> Result<(), String> {
    check_within(lua, dir, lib_path, &mut Vec::new())
}

/// [`check`], with the packages whose checks are under way (`visiting`): a dependency cycle
/// is not checked twice.
fn check_within(
    lua: &Lua,
    dir: &Path,
    lib_path: &LibPath,
    visiting: &mut Vec<PathBuf>,
) -> Result<(), String> {
    if visiting.iter().any(|d| d == dir) {
        return Ok(());
    }
    if lua
        .app_data_ref::<Checked>()
        .is_some_and(|c| c.0.borrow().contains(dir))
    {
        return Ok(());
    }
    let path = dir.join(MANIFEST_FILE);
    if !path.is_file() {
        return Ok(());
    }
    let manifest = PackageManifest::read(&path).map_err(|e| e.to_string())?;
    manifest
        .check_core(&crate::core_version())
        .map_err(|e| format!("{e} ({})", dir.display()))?;
    for name in &manifest.requires_builtins {
        builtin(lua, name)
            .map_err(|why| format!("package '{}' needs {name}, which {why}", manifest.name))?;
    }
    visiting.push(dir.to_owned());
    for (dependency, requirement) in &manifest.depends {
        let found = package(dependency, requirement, lib_path).and_then(|dependency_dir| {
            check_within(lua, &dependency_dir, lib_path, visiting)
                .map_err(|why| format!("which cannot be used here: {why}"))
        });
        found.map_err(|why| {
            format!(
                "package '{}' needs package '{dependency}' {requirement}, {why}",
                manifest.name
            )
        })?;
    }
    visiting.pop();
    if lua.app_data_ref::<Checked>().is_none() {
        lua.set_app_data(Checked::default());
    }
    if let Some(checked) = lua.app_data_ref::<Checked>() {
        checked.0.borrow_mut().insert(dir.to_owned());
    }
    Ok(())
}

/// Whether the dotted `name` is there and usable; why not.
fn builtin(lua: &Lua, name: &str) -> Result<(), String> {
    let sandbox = crate::resolve::searcher::sandboxed(lua);
    let mut segments = name.split('.');
    let first = segments.next().unwrap_or_default();
    let missing = || -> String {
        let plugin = crate::plugin::absent::KNOWN_PLUGINS
            .iter()
            .find(|(_, globals)| globals.contains(&first));
        match plugin {
            Some((plugin, _)) => format!(
                "no installed plugin provides (the plugin '{plugin}' is not on the lib path)"
            ),
            None => "this core does not provide".to_owned(),
        }
    };
    let globals = lua.globals();
    // A plugin's global loads its plugin on first use: a refused plugin says why here.
    let mut value: Value = globals.get(first).map_err(|e| {
        format!(
            "cannot be loaded: {}",
            crate::builtins::function::error_message(&e)
        )
    })?;
    for segment in segments {
        if sandbox && crate::vm::sandbox::refuses(lua, &value) {
            return Err("is not available in sandbox".to_owned());
        }
        let table: Table = match value {
            Value::Table(t) => t,
            Value::Nil => return Err(missing()),
            _ => return Err(missing()),
        };
        value = table.get(segment).map_err(|e| {
            format!(
                "cannot be loaded: {}",
                crate::builtins::function::error_message(&e)
            )
        })?;
    }
    match value {
        Value::Nil => Err(missing()),
        v if sandbox && crate::vm::sandbox::refuses(lua, &v) => {
            Err("is not available in sandbox".to_owned())
        }
        _ => Ok(()),
    }
}

/// The folder of package `name` when it is installed in a version `requirement` accepts; why
/// not.
fn package(
    name: &str,
    requirement: &semver::VersionReq,
    lib_path: &LibPath,
) -> Result<PathBuf, String> {
    let Some(dir) = lib_path
        .roots()
        .iter()
        .map(|root| root.join(name))
        .find(|dir| dir.is_dir())
    else {
        let roots: Vec<String> = lib_path
            .roots()
            .iter()
            .map(|r| r.display().to_string())
            .collect();
        return Err(format!(
            "which is not installed (lib path: {})",
            roots.join(":")
        ));
    };
    let path = dir.join(MANIFEST_FILE);
    if !path.is_file() {
        return Err(format!(
            "but {} has no {MANIFEST_FILE} to say its version",
            dir.display()
        ));
    }
    let manifest = PackageManifest::read(&path).map_err(|e| format!("but {e}"))?;
    if !assay_manifest::satisfies(requirement, &manifest.version) {
        return Err(format!(
            "but {name} {} is installed ({})",
            manifest.version,
            dir.display()
        ));
    }
    Ok(dir)
}
