//! What `assay install`, `update` and `remove` do to a root: decide the packages (from the lock
//! when it still holds, else by resolving), then fetch, check and swap them in together, then
//! write the lock and the project file.
//!
//! - **In a project** (an `assay.yaml` in the current folder or above): the wanted packages
//!   are its `dependencies` plus those named on the command line (which are added to it);
//!   they go into `lua_modules/` beside it, or `--root`; `assay.lock` is read and written.
//!   - A lock that still satisfies the dependencies is installed as it is, byte for byte
//!     (its sources and sha256, no index asked). Otherwise resolution keeps every locked
//!     version that still fits and chooses only what must change (cargo's rule); `update`
//!     lets go of the named packages' locks (all, without names).
//!   - `--locked`: the lock must satisfy the project as it is; anything that would change it
//!     is an error instead.
//!   - Packages the plan no longer has are removed from the project's root.
//! - **Outside a project**: the named packages (and their dependencies) go into `--root`, else
//!   the user's data folder (the first default root); nothing is removed, no lock written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use semver::VersionReq;

use super::index::Entry;
use super::lock::{LOCK_FILE, Lock, Locked};
use super::resolve;
use super::source::{Registry, Sources};
use super::store::Root;

/// A project: its folder, its file's text and what it says.
pub struct Project {
    pub dir: PathBuf,
    pub text: String,
    pub manifest: assay_manifest::ProjectManifest,
}

impl Project {
    /// The project `start` is in, if any.
    pub fn find(start: &Path) -> Result<Option<Self>, String> {
        let Some(dir) = crate::resolve::find_project(start) else {
            return Ok(None);
        };
        let path = dir.join(assay_manifest::PROJECT_FILE);
        let text = assay_files::read_regular_text(&path, 1 << 20).map_err(|e| e.to_string())?;
        let manifest =
            assay_manifest::ProjectManifest::parse_from(&text, &path.display().to_string())
                .map_err(|e| e.to_string())?;
        Ok(Some(Self {
            dir,
            text,
            manifest,
        }))
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    pub fn modules(&self) -> PathBuf {
        self.dir.join(crate::resolve::MODULES_DIR)
    }
}

/// What the command asks.
pub enum Mode {
    /// Install (adding these packages to the project); a package named without a
    /// requirement is added with `^` the version chosen, as `cargo add` does.
    Install(Vec<(String, Option<VersionReq>)>),
    /// Move within the requirements: these packages, or every one.
    Update(Vec<String>),
    /// Take these packages out of the project.
    Remove(Vec<String>),
}

pub struct Request {
    pub project: Option<Project>,
    pub root: PathBuf,
    pub registries: Vec<Registry>,
    pub mode: Mode,
    pub locked: bool,
    pub dry_run: bool,
    pub force: bool,
    pub sources: Sources,
}

/// One change to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Install {
        entry: Entry,
        source: String,
    },
    Replace {
        old: String,
        entry: Entry,
        source: String,
    },
    Remove {
        name: String,
        version: String,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Install { entry, source } => {
                write!(f, "install {} {} ({source})", entry.name, entry.version)
            }
            Change::Replace { old, entry, source } => write!(
                f,
                "update {} {old} -> {} ({source})",
                entry.name, entry.version
            ),
            Change::Remove { name, version } => write!(f, "remove {name} {version}"),
        }
    }
}

/// What was done (or, with `dry_run`, would be).
#[derive(Debug, Default)]
pub struct Outcome {
    pub changes: Vec<Change>,
    /// Packages already installed at the planned version.
    pub kept: usize,
    pub lock_written: bool,
}

/// Runs the request; `progress` is told about downloads as they go.
pub fn run(mut req: Request, progress: &dyn Progress) -> Result<Outcome, String> {
    // One command at a time per root, taken before the project and its lock are read: a
    // second install waits, then sees what the first wrote. A dry run holds nothing.
    let root = if req.dry_run {
        None
    } else {
        Some(Root::open(&req.root).map_err(|e| e.to_string())?)
    };
    if let Some(project) = &req.project {
        req.project = Project::find(&project.dir)?;
    }
    let wanted = wanted(&req)?;
    let lock = match &req.project {
        Some(p) => Lock::read(&p.lock_path()).map_err(|e| e.to_string())?,
        None => None,
    };
    let planned = choose(&mut req, &wanted, lock.as_ref())?;
    let project_text = project_text(&req, &wanted, &planned)?;
    if let Mode::Remove(names) = &req.mode {
        still_needed(names, &planned, req.force)?;
    }
    let installed = match &root {
        Some(r) => r.installed(),
        None => super::store::installed(&req.root),
    };
    let mut outcome = Outcome::default();
    let work = compare(
        &planned,
        &installed,
        req.project.as_ref().and(lock.as_ref()),
        &mut outcome,
    );
    let new_lock = Lock { packages: planned };
    let lock_changes =
        req.project.is_some() && lock.as_ref().map(Lock::render) != Some(new_lock.render());
    let Some(root) = root else {
        outcome.lock_written = lock_changes;
        return Ok(outcome);
    };
    let staging = fetch(&mut req, &root, &work.fetch, progress)?;
    // The files written after the swap must be writable, or the root would change without
    // them: found out before anything moves.
    if let Some(project) = &req.project
        && (lock_changes || project_text.is_some())
    {
        writable(&project.dir)?;
    }
    staging.commit(&root).map_err(|e| e.to_string())?;
    for name in &work.remove {
        root.remove(name).map_err(|e| e.to_string())?;
    }
    if let Some(project) = &req.project {
        if lock_changes {
            let path = project.lock_path();
            crate::builtins::fs::write_atomic(&path, new_lock.render().as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            outcome.lock_written = true;
        }
        if let Some(text) = project_text {
            let path = project.dir.join(assay_manifest::PROJECT_FILE);
            crate::builtins::fs::write_atomic(&path, text.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(outcome)
}

/// The packages to have: the lock's when it still fits (and always with `--locked`, which
/// refuses any change to it), else a resolution.
fn choose(
    req: &mut Request,
    wanted: &BTreeMap<String, VersionReq>,
    lock: Option<&Lock>,
) -> Result<BTreeMap<String, Locked>, String> {
    if let Mode::Update(names) = &req.mode {
        for name in names {
            if !wanted.contains_key(name) && !lock.is_some_and(|l| l.packages.contains_key(name)) {
                return Err(format!("{name} is not a package of this project"));
            }
        }
    }
    let rerun = "run assay install without --locked to update it";
    match lock {
        Some(lock) if req.locked => {
            if !lock.satisfies(wanted) || *wanted != project_dependencies(req) {
                return Err(format!(
                    "{LOCK_FILE} does not match the project's dependencies ({}): {rerun}",
                    describe(wanted)
                ));
            }
            let planned = closure(wanted, &lock.packages);
            let unneeded: Vec<&str> = lock
                .packages
                .keys()
                .filter(|n| !planned.contains_key(*n))
                .map(String::as_str)
                .collect();
            if !unneeded.is_empty() {
                return Err(format!(
                    "{LOCK_FILE} lists packages the project no longer needs ({}): {rerun}",
                    unneeded.join(", ")
                ));
            }
            Ok(planned)
        }
        // What the lock has still fits: installed as it is (remove needs no registry).
        Some(lock)
            if matches!(req.mode, Mode::Install(_) | Mode::Remove(_)) && lock.satisfies(wanted) =>
        {
            Ok(closure(wanted, &lock.packages))
        }
        None if req.locked => Err(match &req.project {
            Some(p) => format!(
                "--locked: {} has no {LOCK_FILE} yet: run assay install once without --locked and commit the lock",
                p.dir.display()
            ),
            None => "--locked needs a project (an assay.yaml here or above)".into(),
        }),
        _ => resolve_plan(req, wanted, lock, &crate::core_version()),
    }
}

/// Refuses to take out of the dependencies a package another planned one still needs.
fn still_needed(
    names: &[String],
    planned: &BTreeMap<String, Locked>,
    force: bool,
) -> Result<(), String> {
    for name in names {
        let needed_by: Vec<String> = planned
            .values()
            .filter(|l| l.entry.depends.contains_key(name))
            .map(|l| format!("{} {}", l.entry.name, l.entry.version))
            .collect();
        if !needed_by.is_empty() && !force {
            return Err(format!(
                "{name} is still needed by {}: remove that too, or pass --force to take {name} out of the dependencies anyway (it stays installed while they need it)",
                needed_by.join(", ")
            ));
        }
    }
    Ok(())
}

/// What must change in the root.
struct Work {
    fetch: Vec<Locked>,
    remove: Vec<String>,
}

/// The plan against what the root has, each change noted in `outcome`. With `old_lock` (a
/// project's), what it had installed and the plan no longer has leaves the root; a package
/// copied in by hand stays.
fn compare(
    planned: &BTreeMap<String, Locked>,
    installed: &BTreeMap<String, assay_manifest::PackageManifest>,
    old_lock: Option<&Lock>,
    outcome: &mut Outcome,
) -> Work {
    let mut work = Work {
        fetch: Vec::new(),
        remove: Vec::new(),
    };
    for locked in planned.values() {
        let (entry, source) = (locked.entry.clone(), locked.source.clone());
        let change = match installed.get(&entry.name) {
            Some(m) if m.version == entry.version => {
                outcome.kept += 1;
                continue;
            }
            Some(m) => Change::Replace {
                old: m.version.to_string(),
                entry,
                source,
            },
            None => Change::Install { entry, source },
        };
        outcome.changes.push(change);
        work.fetch.push(locked.clone());
    }
    for name in old_lock.map(|l| l.packages.keys()).into_iter().flatten() {
        if !planned.contains_key(name)
            && let Some(m) = installed.get(name)
        {
            work.remove.push(name.clone());
            outcome.changes.push(Change::Remove {
                name: name.clone(),
                version: m.version.to_string(),
            });
        }
    }
    work
}

/// Downloads, checks and unpacks each package into a staging folder of `root`.
fn fetch(
    req: &mut Request,
    root: &Root,
    packages: &[Locked],
    progress: &dyn Progress,
) -> Result<super::store::Staging, String> {
    let mut staging = root.stage().map_err(|e| e.to_string())?;
    let limit = super::archive::Limits::default().bytes;
    if let Some(big) = packages.iter().find(|l| l.entry.size > limit) {
        return Err(format!(
            "{} {}: the registry lists an archive of {} bytes; archives over {limit} bytes are refused",
            big.entry.name, big.entry.version, big.entry.size
        ));
    }
    progress.start(packages.iter().map(|l| l.entry.size).sum(), packages.len());
    for locked in packages {
        let entry = &locked.entry;
        let registry = registry_of(req, &locked.source)?;
        let dest = staging.download_path(entry);
        req.sources
            .download(&registry, entry, &dest, progress.ticker())
            .map_err(|e| format!("{} {}: {e}", entry.name, entry.version))?;
        staging.add(entry).map_err(|e| e.to_string())?;
    }
    progress.finish();
    Ok(staging)
}

/// Whether a file can be made in `dir` (made and removed again).
fn writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".assay-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| format!("{}: {e}: nothing was installed", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Told about downloads (a progress bar, or nothing).
pub trait Progress {
    fn start(&self, total_bytes: u64, archives: usize);
    /// A function called with each piece's size.
    fn ticker(&self) -> Box<dyn Fn(u64)>;
    fn finish(&self);
}

/// The requirements to satisfy: the project's dependencies as the command changes them, or
/// outside a project the packages named.
fn wanted(req: &Request) -> Result<BTreeMap<String, VersionReq>, String> {
    let Some(project) = &req.project else {
        return match &req.mode {
            Mode::Install(add) if !add.is_empty() => Ok(add
                .iter()
                .map(|(n, r)| (n.clone(), r.clone().unwrap_or(VersionReq::STAR)))
                .collect()),
            Mode::Install(_) => Err(
                "nothing to install: name packages (assay install k8s@^0.2), or run it in a project (assay init)".into(),
            ),
            Mode::Update(_) | Mode::Remove(_) => {
                Err("update and remove work on a project (an assay.yaml here or above)".into())
            }
        };
    };
    let mut deps = project.manifest.dependencies.clone();
    match &req.mode {
        Mode::Install(add) => {
            for (name, req) in add {
                match req {
                    Some(req) => {
                        deps.insert(name.clone(), req.clone());
                    }
                    // A dependency already there keeps its requirement; a new one resolves
                    // with `*`, then gets `^chosen` (see `project_text`).
                    None => {
                        deps.entry(name.clone()).or_insert(VersionReq::STAR);
                    }
                }
            }
        }
        Mode::Remove(names) => {
            for name in names {
                if deps.remove(name).is_none() {
                    return Err(format!(
                        "{name} is not a dependency of the project ({})",
                        project.dir.join(assay_manifest::PROJECT_FILE).display()
                    ));
                }
            }
        }
        Mode::Update(_) => {}
    }
    Ok(deps)
}

/// The project file's new text, when the command changed its dependencies: packages added
/// without a requirement get `^` the version chosen. The new text is read back before
/// anything is installed: an edit that would not say what was meant is refused.
fn project_text(
    req: &Request,
    wanted: &BTreeMap<String, VersionReq>,
    planned: &BTreeMap<String, Locked>,
) -> Result<Option<String>, String> {
    let Some(project) = req.project.as_ref() else {
        return Ok(None);
    };
    let mut deps = wanted.clone();
    if let Mode::Install(add) = &req.mode {
        for (name, given) in add {
            let new = !project.manifest.dependencies.contains_key(name);
            if let (None, true, Some(chosen)) = (given, new, planned.get(name))
                && let Ok(caret) = VersionReq::parse(&format!("^{}", chosen.entry.version))
            {
                deps.insert(name.clone(), caret);
            }
        }
    }
    if deps == project.manifest.dependencies {
        return Ok(None);
    }
    let text = assay_manifest::with_dependencies(&project.text, &deps);
    let path = project.dir.join(assay_manifest::PROJECT_FILE);
    let reread = assay_manifest::ProjectManifest::parse_from(&text, &path.display().to_string());
    match reread {
        Ok(m) if m.dependencies == deps => Ok(Some(text)),
        _ => Err(format!(
            "cannot edit the dependencies of {}: write them as a block at the top level (dependencies: then one 'name: requirement' line each)",
            path.display()
        )),
    }
}

fn project_dependencies(req: &Request) -> BTreeMap<String, VersionReq> {
    req.project
        .as_ref()
        .map(|p| p.manifest.dependencies.clone())
        .unwrap_or_default()
}

fn describe(wanted: &BTreeMap<String, VersionReq>) -> String {
    wanted
        .iter()
        .map(|(n, r)| format!("{n} {r}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The locked packages `wanted` reaches through their dependencies.
fn closure(
    wanted: &BTreeMap<String, VersionReq>,
    packages: &BTreeMap<String, Locked>,
) -> BTreeMap<String, Locked> {
    let mut out = BTreeMap::new();
    let mut queue: Vec<&String> = wanted.keys().collect();
    while let Some(name) = queue.pop() {
        if out.contains_key(name) {
            continue;
        }
        if let Some(l) = packages.get(name) {
            queue.extend(l.entry.depends.keys());
            out.insert(name.clone(), l.clone());
        }
    }
    out
}

fn resolve_plan(
    req: &mut Request,
    wanted: &BTreeMap<String, VersionReq>,
    lock: Option<&Lock>,
    core: &semver::Version,
) -> Result<BTreeMap<String, Locked>, String> {
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    if req.registries.is_empty() {
        return Err("no registry to install from: pass --registry URL, set ASSAY_REGISTRY, or list registries in assay.yaml".into());
    }
    let names: Vec<String> = wanted.keys().cloned().collect();
    let (index, origins) = req.sources.index_for(&names).map_err(|e| e.to_string())?;
    // Locked versions are held where they still fit, as cargo holds them: only the packages
    // the project still reaches, less those an update lets go. A pin that makes resolution
    // fail is let go too, one package at a time (the conflict names it); a conflict on a
    // package that was not pinned is the user's to settle.
    let released: BTreeSet<&String> = match &req.mode {
        Mode::Update(names) if names.is_empty() => lock.map(|l| l.packages.keys().collect()),
        Mode::Update(names) => Some(names.iter().collect()),
        _ => None,
    }
    .unwrap_or_default();
    let mut pins: BTreeMap<String, VersionReq> = lock
        .map(|l| closure(wanted, &l.packages))
        .unwrap_or_default()
        .into_values()
        .filter(|l| !released.contains(&l.entry.name))
        .filter_map(|l| {
            VersionReq::parse(&format!("={}", l.entry.version))
                .ok()
                .map(|r| (l.entry.name.clone(), r))
        })
        .collect();
    let plan = loop {
        let requirements: Vec<(String, VersionReq)> = wanted
            .iter()
            .chain(pins.iter())
            .map(|(n, r)| (n.clone(), r.clone()))
            .collect();
        match resolve::resolve(&index, &requirements, core) {
            Ok(plan) => break plan,
            Err(resolve::ResolveError::Conflict { package, .. })
                if pins.remove(&package).is_some() => {}
            Err(e) => return Err(e.to_string()),
        }
    };
    let packages = plan
        .into_iter()
        .map(|(name, entry)| {
            let source = origins
                .get(&name)
                .map(|i| req.registries[*i].locked_as(project_dir(req)))
                .unwrap_or_default();
            (name, Locked { entry, source })
        })
        .collect();
    Ok(closure(wanted, &packages))
}

fn project_dir(req: &Request) -> Option<&Path> {
    req.project.as_ref().map(|p| p.dir.as_path())
}

/// The registry a locked source names: one of the command's when it is the same, else the
/// source itself (a lock installs from where it was made).
fn registry_of(req: &Request, source: &str) -> Result<Registry, String> {
    let project = project_dir(req);
    if let Some(r) = req
        .registries
        .iter()
        .find(|r| r.locked_as(project) == source)
    {
        return Ok(r.clone());
    }
    let base = req
        .project
        .as_ref()
        .map_or_else(|| PathBuf::from("."), |p| p.dir.clone());
    Registry::parse(source, &base).map_err(|e| e.to_string())
}
