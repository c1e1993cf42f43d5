//! `assay install [PKG[@REQ]...]`, and what `update` and `remove` share with it: the project,
//! the root, the registries, and the report of what changed (`install::plan` does the work).

use std::path::{Path, PathBuf};

use semver::VersionReq;

use super::Failure;
use super::progress::Bar;
use super::spec::Matches;
use crate::install::plan::{self, Mode, Outcome, Project, Request};
use crate::install::source::{Registry, Sources};

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    let add = matches
        .positionals
        .iter()
        .map(|spec| requirement(spec))
        .collect::<Result<Vec<_>, _>>()?;
    execute("install", matches, Mode::Install(add))
}

/// `k8s`, `k8s@^0.2`, `k8s@0.2.1` (which means `^0.2.1`, as in Cargo).
fn requirement(spec: &str) -> Result<(String, Option<VersionReq>), Failure> {
    let (name, req) = match spec.split_once('@') {
        Some((name, req)) => (name, Some(req)),
        None => (spec, None),
    };
    if !assay_manifest::is_package_name(name) {
        return Err(Failure::usage(format!(
            "install: '{name}' is not a package name"
        )));
    }
    let req = req
        .map(assay_manifest::parse_requirement)
        .transpose()
        .map_err(|e| Failure::usage(format!("install: {spec}: {e}")))?;
    Ok((name.to_owned(), req))
}

/// Builds the request for `command` and runs it, printing what changed.
pub(super) fn execute(command: &str, matches: &Matches, mode: Mode) -> Result<u8, Failure> {
    let fail = |message: String| Failure {
        message: format!("assay: {command}: {message}"),
        code: 1,
    };
    let project = Project::find(Path::new(".")).map_err(&fail)?;
    let root = match (matches.value("root"), &project) {
        (Some(dir), _) => std::path::absolute(dir).map_err(|e| fail(format!("--root: {e}")))?,
        (None, Some(p)) => p.modules(),
        (None, None) => user_root()
            .ok_or_else(|| fail("no project here and no home folder: pass --root DIR".into()))?,
    };
    let registries = registries(matches, project.as_ref()).map_err(fail)?;
    let lib_path = super::roots_for(Path::new("."));
    let quiet = matches.has("quiet");
    let dry_run = matches.has("dry-run");
    let project_dir = project.as_ref().map(|p| p.dir.clone());
    let request = Request {
        root: root.clone(),
        sources: Sources::new(registries.clone(), lib_path),
        registries,
        mode,
        locked: matches.has("locked"),
        dry_run,
        force: matches.has("force"),
        project,
    };
    let outcome = plan::run(request, &Bar::new(quiet)).map_err(&fail)?;
    report(&outcome, &root, dry_run, quiet);
    // A project whose editor uses the definitions (`assay types` ran) gets them renewed.
    if let Some(dir) = project_dir
        && !dry_run
        && !outcome.changes.is_empty()
        && dir.join(crate::types::TYPES_DIR).is_dir()
    {
        crate::types::write(&dir, &super::roots_for(&dir))
            .map_err(|e| fail(format!("types: {e}")))?;
    }
    Ok(0)
}

/// `--registry` (each), else `ASSAY_REGISTRY` (spaces or commas between), else the project's.
pub(super) fn registries(
    matches: &Matches,
    project: Option<&Project>,
) -> Result<Vec<Registry>, String> {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let given: Vec<String> = matches.values("registry").map(str::to_owned).collect();
    if !given.is_empty() {
        return given.iter().map(|r| parse(r, &here)).collect();
    }
    if let Ok(list) = std::env::var("ASSAY_REGISTRY") {
        let list: Vec<&str> = list
            .split([' ', ',', '\n', '\t'])
            .filter(|s| !s.is_empty())
            .collect();
        if !list.is_empty() {
            return list.iter().map(|r| parse(r, &here)).collect();
        }
    }
    match project {
        Some(p) => p
            .manifest
            .registries
            .iter()
            .map(|r| parse(r, &p.dir))
            .collect(),
        None => Ok(Vec::new()),
    }
}

/// A registry the user configured: it gets the credentials the environment holds.
fn parse(text: &str, base: &Path) -> Result<Registry, String> {
    Registry::parse(text, base)
        .map(Registry::with_credentials_from_env)
        .map_err(|e| e.to_string())
}

/// The first default root: the user's data folder.
fn user_root() -> Option<PathBuf> {
    crate::LibPath::defaults().roots().first().cloned()
}

fn report(outcome: &Outcome, root: &Path, dry_run: bool, quiet: bool) {
    if dry_run {
        for change in &outcome.changes {
            println!("would {change}");
        }
        if outcome.lock_written {
            println!("would write {}", crate::install::lock::LOCK_FILE);
        }
        if outcome.changes.is_empty() {
            println!("nothing to change ({} up to date)", outcome.kept);
        }
        return;
    }
    if quiet {
        return;
    }
    for change in &outcome.changes {
        eprintln!("{change}");
    }
    let changed = outcome.changes.len();
    eprintln!(
        "{} in {} ({changed} changed, {} up to date{})",
        if changed == 0 {
            "nothing to do"
        } else {
            "done"
        },
        root.display(),
        outcome.kept,
        if outcome.lock_written {
            ", assay.lock written"
        } else {
            ""
        }
    );
}
