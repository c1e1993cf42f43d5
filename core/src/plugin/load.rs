//! Opening a plugin library, once per process, with every check the ABI allows: the library
//! is an abi_stable library, its root module's layout matches ours, its ABI version and name
//! match its manifest. Libraries are never unloaded (plugin threads and thread-locals make
//! `dlclose` unsafe).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use abi_stable::library::{LibraryError, lib_header_from_path};
use assay_manifest::PluginManifest;
use assay_sdk::abi::{PluginModuleRef, Registration};

/// A loaded plugin: what it registered.
pub struct Loaded {
    pub name: String,
    pub registration: Registration,
}

/// A load's outcome: the plugin, or the one-line refusal.
type Outcome = Result<Arc<Loaded>, String>;

/// Outcomes so far, by library path; a failure is remembered too (it would fail again).
static LOADED: Mutex<Vec<(PathBuf, Outcome)>> = Mutex::new(Vec::new());

/// The first plugin library this process opened, refused or not: once `dlopen` and the
/// plugin's registration have run, the process may run threads the core does not control.
static FIRST_OPENED: OnceLock<String> = OnceLock::new();

/// The name of the first plugin whose library this process opened, if any.
pub fn first_loaded() -> Option<String> {
    FIRST_OPENED.get().cloned()
}

/// Loads the plugin of `manifest` in `dir`, or says in one line why it cannot be used.
pub fn load(dir: &Path, manifest: &PluginManifest) -> Outcome {
    let path = std::path::absolute(dir.join(&manifest.library))
        .unwrap_or_else(|_| dir.join(&manifest.library));
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, outcome)) = loaded.iter().find(|(p, _)| *p == path) {
        return outcome.clone();
    }
    let outcome = open(&path, manifest)
        .map(Arc::new)
        .map_err(|why| format!("plugin '{}' {}: {why}", manifest.name, manifest.version));
    loaded.push((path, outcome.clone()));
    outcome
}

fn open(path: &Path, manifest: &PluginManifest) -> Result<Loaded, String> {
    if !path.is_file() {
        return Err(format!("library {} is missing", path.display()));
    }
    #[cfg(target_os = "linux")]
    super::elf::check(path)
        .map_err(|why| format!("{} is not a loadable plugin: {why}", path.display()))?;
    // An absolute path, so `dlopen` never searches the system's library path.
    let header = lib_header_from_path(path).map_err(|e| describe(path, &e))?;
    let _ = FIRST_OPENED.set(manifest.name.clone());
    let module = header
        .init_root_module::<PluginModuleRef>()
        .map_err(|e| describe(path, &e))?;
    let abi = module.abi_version();
    if abi != assay_sdk::ABI_VERSION {
        return Err(format!(
            "{} was built for plugin ABI {abi}, but this is assay {} with plugin ABI {}",
            path.display(),
            crate::core_version(),
            assay_sdk::ABI_VERSION
        ));
    }
    let name = module.name().as_str();
    if name != manifest.name {
        return Err(format!(
            "{} is plugin '{name}', not the '{}' its manifest names",
            path.display(),
            manifest.name
        ));
    }
    let registration = module.register()()
        .into_result()
        .map_err(|e| format!("registration failed: {e}"))?;
    super::host::offer(module);
    super::reactor::offer(module);
    for global in &manifest.provides {
        if !registration
            .globals
            .iter()
            .any(|g| g.name.as_str() == global)
        {
            return Err(format!(
                "{} does not provide the global '{global}' its manifest lists",
                path.display()
            ));
        }
    }
    Ok(Loaded {
        name: manifest.name.clone(),
        registration,
    })
}

/// One line for a loading failure. abi_stable's layout errors run to thousands of lines; the
/// lines starting with `Error:` say what differs.
fn describe(path: &Path, e: &LibraryError) -> String {
    match e {
        LibraryError::OpenError { err, .. } => {
            // dlerror() starts with the path: "<path>: libssl.so.3: cannot open shared ...".
            let text = err.to_string();
            let prefix = format!("{}: ", path.display());
            let reason = text.strip_prefix(&prefix).unwrap_or(&text);
            format!(
                "{} is not a loadable library ({})",
                path.display(),
                short(reason)
            )
        }
        LibraryError::GetSymbolError { .. } => {
            format!(
                "{} is not an Assay plugin (it has no plugin header)",
                path.display()
            )
        }
        LibraryError::AbiInstability(_) => format!(
            "{} was built with an incompatible Assay SDK (layout mismatch: {})",
            path.display(),
            layout_reasons(&e.to_string())
        ),
        other => format!(
            "{} cannot be loaded ({})",
            path.display(),
            short(&other.to_string())
        ),
    }
}

/// The gist of abi_stable's layout report: each `Error:` line with the first line of its
/// `Expected:` and `Found:` blocks, at most two of them.
fn layout_reasons(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let first_after = |from: usize, label: &str| {
        lines[from..]
            .iter()
            .position(|l| *l == label)
            .and_then(|i| lines[from + i + 1..].iter().find(|l| !l.is_empty()))
            .map(|l| short(l))
    };
    let reasons: Vec<String> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.strip_prefix("Error:").map(|what| (i, what.trim())))
        .take(2)
        .map(
            |(i, what)| match (first_after(i, "Expected:"), first_after(i, "Found:")) {
                (Some(expected), Some(found)) => {
                    format!("{what}: expected {expected}, found {found}")
                }
                _ => what.to_owned(),
            },
        )
        .collect();
    if reasons.is_empty() {
        short(report)
    } else {
        reasons.join("; ")
    }
}

/// The first line of a message, at most 200 characters.
fn short(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}
