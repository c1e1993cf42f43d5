//! `assay packages [--json]`: every Lua package on the lib path, its version, and whether a
//! script can `require` it here (its manifest's core range, `requires_builtins` and `depends`,
//! checked as `require` checks them), or why not. A package shadowed by one of the same name
//! in an earlier root is listed as such: `require` never reaches it.

use std::path::{Path, PathBuf};

use assay_manifest::{MANIFEST_FILE, PackageManifest};
use serde::Serialize;

use crate::{LibPath, Runtime};

#[derive(Serialize)]
struct Listing {
    core: String,
    roots: Vec<String>,
    packages: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    version: Option<String>,
    description: Option<String>,
    root: String,
    dir: String,
    /// `usable`, `refused` or `shadowed`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shadowed_by: Option<String>,
}

/// The package folders of `root`: folders with an `init.lua` or a manifest, by name (the
/// `plugins` folder holds plugins, not packages).
fn package_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.ends_with("plugins"))
        .filter(|p| p.join("init.lua").is_file() || p.join(MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    dirs
}

fn entry(runtime: &Runtime, lib_path: &LibPath, root: &Path, dir: &Path) -> Entry {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = PackageManifest::read(&dir.join(MANIFEST_FILE)).ok();
    let shadowed_by = lib_path
        .roots()
        .iter()
        .take_while(|r| r.as_path() != root)
        .map(|r| r.join(&name))
        .find(|d| d.is_dir());
    let (status, reason) = match &shadowed_by {
        Some(_) => ("shadowed", None),
        None => match crate::resolve::check_requirements(runtime.lua(), dir, lib_path) {
            Ok(()) => ("usable", None),
            Err(why) => ("refused", Some(why)),
        },
    };
    Entry {
        name,
        version: manifest.as_ref().map(|m| m.version.to_string()),
        description: manifest.as_ref().map(|m| m.description.clone()),
        root: root.display().to_string(),
        dir: dir.display().to_string(),
        status,
        reason,
        shadowed_by: shadowed_by.map(|d| d.display().to_string()),
    }
}

/// Lists the packages; `runtime` is a VM like a script's (its globals are what
/// `requires_builtins` is checked against).
pub fn list(runtime: &Runtime, lib_path: &LibPath, json: bool) {
    let packages = lib_path
        .roots()
        .iter()
        .flat_map(|root| {
            package_dirs(root)
                .into_iter()
                .map(move |dir| (root.clone(), dir))
        })
        .map(|(root, dir)| entry(runtime, lib_path, &root, &dir))
        .collect();
    let listing = Listing {
        core: crate::core_version().to_string(),
        roots: lib_path
            .roots()
            .iter()
            .map(|r| r.display().to_string())
            .collect(),
        packages,
    };
    if json {
        match serde_json::to_string_pretty(&listing) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("assay: packages: {e}"),
        }
        return;
    }
    if listing.packages.is_empty() {
        println!("no packages found; lib path: {}", listing.roots.join(":"));
        return;
    }
    for p in &listing.packages {
        let version = p.version.as_deref().unwrap_or("?");
        let verdict = match (&p.reason, &p.shadowed_by) {
            (Some(reason), _) => format!("refused: {reason}"),
            (_, Some(by)) => format!("shadowed by {by}"),
            _ => "usable".to_owned(),
        };
        println!(
            "{:<14} {:<8} {verdict}\n               in {}",
            p.name, version, p.dir
        );
    }
}
