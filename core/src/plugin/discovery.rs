//! Finding plugins: `<root>/plugins/<name>/manifest.yaml` in every lib-path root, read at
//! start-up (manifests only; no library is opened until a script uses the plugin).

use std::path::{Path, PathBuf};

use assay_manifest::{MANIFEST_FILE, MAX_MANIFEST_BYTES, PluginManifest};

use crate::LibPath;

/// A plugin folder found on the lib path.
#[derive(Debug, Clone)]
pub struct Found {
    pub root: PathBuf,
    pub dir: PathBuf,
    /// The manifest's name, or the folder's when the manifest is unreadable.
    pub name: String,
    pub manifest: Result<PluginManifest, String>,
    pub status: Status,
}

/// Whether a found plugin will be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Its manifest checks out; it loads on first use (where the library itself is checked).
    Usable,
    /// Refused, with the one line that says why.
    Refused(String),
    /// A plugin of the same name in an earlier root wins.
    Shadowed { by: PathBuf },
}

impl Found {
    pub fn manifest(&self) -> Option<&PluginManifest> {
        self.manifest.as_ref().ok()
    }

    /// The shared library's path.
    pub fn library(&self) -> Option<PathBuf> {
        self.manifest().map(|m| self.dir.join(&m.library))
    }
}

/// Every plugin folder of every root, in lib-path order, with its status decided: first root
/// wins per name; a global already taken by a core builtin or an earlier plugin is refused.
pub fn discover(lib_path: &LibPath, core_globals: &[&str]) -> Vec<Found> {
    let core = crate::core_version();
    let mut found: Vec<Found> = Vec::new();
    for root in lib_path.roots() {
        for dir in plugin_dirs(root) {
            let folder_name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(manifest) = read_manifest(&dir.join(MANIFEST_FILE)) else {
                continue;
            };
            let name = manifest.as_ref().map_or(folder_name, |m| m.name.clone());
            let status = match &manifest {
                Err(e) => Status::Refused(format!("plugin '{name}': {e}")),
                Ok(m) => match found.iter().find(|f| f.name == name) {
                    Some(first) => Status::Shadowed {
                        by: first.dir.clone(),
                    },
                    None => check(m, &core, core_globals, &found),
                },
            };
            found.push(Found {
                root: root.clone(),
                dir,
                name,
                manifest,
                status,
            });
        }
    }
    found
}

fn check(
    m: &PluginManifest,
    core: &semver::Version,
    core_globals: &[&str],
    earlier: &[Found],
) -> Status {
    if let Err(e) = m.check_core(core) {
        return Status::Refused(e.to_string());
    }
    if let Err(e) = m.check_abi(core, assay_sdk::ABI_VERSION) {
        return Status::Refused(e.to_string());
    }
    for global in &m.provides {
        if core_globals.contains(&global.as_str()) {
            return Status::Refused(format!(
                "plugin '{}' {} provides '{global}', which is a core global",
                m.name, m.version
            ));
        }
        let taken = earlier.iter().find(|f| {
            f.status == Status::Usable && f.manifest().is_some_and(|o| o.provides.contains(global))
        });
        if let Some(other) = taken {
            return Status::Refused(format!(
                "plugin '{}' {} provides '{global}', which plugin '{}' already provides",
                m.name, m.version, other.name
            ));
        }
    }
    Status::Usable
}

/// The manifest at `path`: `None` when there is none (the folder is not a plugin), else the
/// manifest or why it cannot be read. Every start pays for this, so it makes few system calls:
/// open, fstat (a regular file of at most [`MAX_MANIFEST_BYTES`]: a manifest that is a symlink
/// to `/dev/zero` or a FIFO must not cost every run gigabytes or a hang), read, close.
fn read_manifest(path: &Path) -> Option<Result<PluginManifest, String>> {
    let text = match assay_files::read_regular_text(path, MAX_MANIFEST_BYTES) {
        Ok(text) => text,
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => return None,
        Err(e) => return Some(Err(e.to_string())),
    };
    let origin = path.display().to_string();
    Some(parsed::get(&origin, text))
}

/// Manifests parsed in this process, by path and exact text: a host that builds many VMs
/// (an embedder running thousands of hooks) reads each manifest at every build, which is
/// cheap, but parses it once (three manifests were 64K instructions of every VM). Keyed by
/// the text itself, an edited manifest is parsed afresh; bounded, it starts over when full.
mod parsed {
    use std::sync::Mutex;

    use assay_manifest::PluginManifest;

    type Parsed = Result<PluginManifest, String>;

    const LIMIT: usize = 64;

    static CACHE: Mutex<Vec<(String, String, Parsed)>> = Mutex::new(Vec::new());

    pub fn get(origin: &str, text: String) -> Parsed {
        let found = CACHE.lock().ok().and_then(|cache| {
            cache
                .iter()
                .find(|(o, t, _)| o == origin && *t == text)
                .map(|(_, _, parsed)| parsed.clone())
        });
        if let Some(parsed) = found {
            return parsed;
        }
        let parsed = PluginManifest::parse_from(&text, origin).map_err(|e| e.to_string());
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= LIMIT {
                cache.clear();
            }
            cache.push((origin.to_owned(), text, parsed.clone()));
        }
        parsed
    }
}

/// `<root>/plugins/*/`, sorted by name so the order is stable. Entries that are certainly not
/// folders are skipped by their directory-entry type, without a `stat` each.
fn plugin_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("plugins")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}
