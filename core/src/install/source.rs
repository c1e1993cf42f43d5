//! Where packages come from: registries, given as `--registry`, `ASSAY_REGISTRY` (several
//! separated by spaces or commas) or the project file's `registries`, tried in order.
//!
//! - a folder, as a path or `file:///path`: `index.json` and the archives beside it (what
//!   `scripts/registry.lua` writes);
//! - `http://` or `https://` URL of such a folder (or of its `index.json`), fetched with the
//!   http plugin. Credentials: `https://user:password@host/...`, or `ASSAY_REGISTRY_TOKEN` (a
//!   bearer token); neither is ever written to the lock file or printed.
//! - `oci://host[:port]/path` (`oci+http://` for a registry without TLS, e.g. on loopback),
//!   fetched with the http plugin's `oci` global; see `oci.rs`.
//!
//! A package comes whole from the first registry that has it, as pip's and cargo's
//! alternate-registry rules do: a later registry cannot slip in a newer version of a name an
//! earlier one serves (dependency confusion).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::index::{Entry, Index};
use super::oci::{self, OciRegistry};
use super::remote::{Auth, Remote};
use crate::resolve::LibPath;

/// The largest index read.
const MAX_INDEX: u64 = 32 << 20;

/// One registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    Dir(PathBuf),
    Http {
        /// The folder's URL, ending in `/`, without credentials.
        base: String,
        auth: Option<Auth>,
    },
    Oci(OciRegistry),
}

/// Why a registry failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("registry '{0}': {1}")]
    Bad(String, String),
    #[error("{registry}: {message}")]
    Fetch { registry: String, message: String },
}

impl Registry {
    /// A registry as written; a relative folder is taken from `base`.
    ///
    /// Parsing reads no environment: credentials from variables are for the registries the
    /// user configured only ([`Registry::with_credentials_from_env`]), never for a source a
    /// lock file names (a lock edited in a pull request must not send CI's token elsewhere).
    pub fn parse(text: &str, base: &Path) -> Result<Self, SourceError> {
        let shown = without_userinfo(text);
        let bad = |m: &str| SourceError::Bad(shown.clone(), m.to_owned());
        let text = text.trim();
        if let Some(rest) = text
            .strip_prefix("oci://")
            .map(|r| (r, false))
            .or_else(|| text.strip_prefix("oci+http://").map(|r| (r, true)))
        {
            return OciRegistry::parse(rest.0, rest.1)
                .map(Registry::Oci)
                .map_err(|m| bad(&m));
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
            let (host_part, path) = rest.split_once('/').unwrap_or((rest, ""));
            let (auth, host) = match host_part.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                    let user = percent_decode(user);
                    let password = percent_decode(password);
                    (Some(Auth::Basic { user, password }), host)
                }
                None => (None, host_part),
            };
            if host.is_empty() {
                return Err(bad("no host"));
            }
            let folder = if path == "index.json" {
                ""
            } else {
                path.strip_suffix("/index.json").unwrap_or(path)
            }
            .trim_end_matches('/');
            let base = if folder.is_empty() {
                format!("{scheme}://{host}/")
            } else {
                format!("{scheme}://{host}/{folder}/")
            };
            return Ok(Registry::Http { base, auth });
        }
        if let Some(scheme) = text.split_once("://").map(|(s, _)| s)
            && scheme != "file"
        {
            return Err(bad(
                "not a registry (a folder, file://, http(s)://, oci:// or oci+http://)",
            ));
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        if path.is_empty() {
            return Err(bad("empty"));
        }
        let path = Path::new(path);
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            base.join(path)
        };
        let path = std::path::absolute(&path).map_err(|e| bad(&e.to_string()))?;
        Ok(Registry::Dir(path))
    }

    /// This registry, configured by the user, with the credentials the environment holds for
    /// it: `ASSAY_REGISTRY_TOKEN` (bearer) for an HTTP registry without credentials in its
    /// URL; `ASSAY_REGISTRY_USER` and `ASSAY_REGISTRY_PASSWORD` for an OCI registry.
    pub fn with_credentials_from_env(self) -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match self {
            Registry::Http { base, auth: None } => Registry::Http {
                base,
                auth: env("ASSAY_REGISTRY_TOKEN").map(Auth::Bearer),
            },
            Registry::Oci(mut r) => {
                if let Some(user) = env("ASSAY_REGISTRY_USER") {
                    r.credentials =
                        Some((user, env("ASSAY_REGISTRY_PASSWORD").unwrap_or_default()));
                }
                Registry::Oci(r)
            }
            other => other,
        }
    }

    /// How the registry is locked in a project at `project`: a folder inside the project as
    /// a path relative to it (`./registry`), so the lock reads the same on every checkout;
    /// anything else as [`Registry::display`].
    pub fn locked_as(&self, project: Option<&Path>) -> String {
        if let (Registry::Dir(path), Some(project)) = (self, project)
            && let Ok(inside) = path.strip_prefix(project)
        {
            return format!("./{}", inside.display());
        }
        self.display()
    }

    /// How the registry is shown: without credentials.
    pub fn display(&self) -> String {
        match self {
            Registry::Dir(path) => format!("file://{}", path.display()),
            Registry::Http { base, .. } => base.clone(),
            Registry::Oci(r) => r.display(),
        }
    }
}

/// `text` without the `user:password@` of a URL, to show it in a message.
fn without_userinfo(text: &str) -> String {
    match text.split_once("://") {
        Some((scheme, rest)) => {
            let (host_part, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host_part.rsplit_once('@').map_or(host_part, |(_, h)| h);
            let slash = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{host}{slash}{path}")
        }
        None => text.to_owned(),
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The registries of one command, with the network VM made on first use.
pub struct Sources {
    pub registries: Vec<Registry>,
    lib_path: LibPath,
    remote: Option<Remote>,
    /// Static indexes, read once.
    indexes: BTreeMap<usize, Index>,
}

/// Where each package of an index came from.
pub type Origins = BTreeMap<String, usize>;

impl Sources {
    pub fn new(registries: Vec<Registry>, lib_path: LibPath) -> Self {
        Self {
            registries,
            lib_path,
            remote: None,
            indexes: BTreeMap::new(),
        }
    }

    fn remote(&mut self) -> Result<&Remote, String> {
        if self.remote.is_none() {
            self.remote = Some(Remote::new(self.lib_path.clone())?);
        }
        self.remote
            .as_ref()
            .ok_or_else(|| "the network VM is missing".to_owned())
    }

    /// The versions of `names` and of everything they may depend on, each package from the
    /// first registry that has it.
    pub fn index_for(&mut self, names: &[String]) -> Result<(Index, Origins), SourceError> {
        let mut index = Index::default();
        let mut origins = Origins::new();
        let mut queue: Vec<String> = names.to_vec();
        while let Some(name) = queue.pop() {
            if origins.contains_key(&name) || index.packages.contains_key(&name) {
                continue;
            }
            for i in 0..self.registries.len() {
                let Some(versions) = self.versions(i, &name)? else {
                    continue;
                };
                for entry in &versions {
                    queue.extend(entry.depends.keys().cloned());
                }
                index.packages.insert(name.clone(), versions);
                origins.insert(name.clone(), i);
                break;
            }
            // Not found anywhere: left out; the resolver names who wanted it.
            index.packages.entry(name).or_default();
        }
        index.packages.retain(|_, v| !v.is_empty());
        Ok((index, origins))
    }

    /// Every package of every registry, for `assay search`: each name from the first
    /// registry that has it.
    pub fn everything(&mut self) -> Result<(Index, Origins), SourceError> {
        let mut names = Vec::new();
        for i in 0..self.registries.len() {
            match &self.registries[i] {
                Registry::Oci(r) => {
                    let r = r.clone();
                    let fail = self.fail(i);
                    let remote = self.remote().map_err(&fail)?;
                    names.extend(oci::catalog(remote, &r).map_err(&fail)?);
                }
                _ => names.extend(self.static_index(i)?.packages.keys().cloned()),
            }
        }
        let (mut index, origins) = self.index_for(&names)?;
        // Search shows what was asked for, not the dependencies' closure only.
        index.packages.retain(|name, _| names.contains(name));
        Ok((index, origins))
    }

    fn fail(&self, i: usize) -> impl Fn(String) -> SourceError + use<> {
        let registry = self.registries[i].display();
        move |message| SourceError::Fetch {
            registry: registry.clone(),
            message,
        }
    }

    fn versions(&mut self, i: usize, name: &str) -> Result<Option<Vec<Entry>>, SourceError> {
        match &self.registries[i] {
            Registry::Oci(r) => {
                let r = r.clone();
                let fail = self.fail(i);
                let remote = self.remote().map_err(&fail)?;
                oci::versions(remote, &r, name).map_err(fail)
            }
            _ => Ok(self.static_index(i)?.packages.get(name).cloned()),
        }
    }

    fn static_index(&mut self, i: usize) -> Result<&Index, SourceError> {
        if !self.indexes.contains_key(&i) {
            let fail = self.fail(i);
            let text = match self.registries[i].clone() {
                Registry::Dir(dir) => {
                    let path = dir.join("index.json");
                    assay_files::read_capped(&path, MAX_INDEX)
                        .map_err(|e| fail(format!("{}: {e}", path.display())))?
                }
                Registry::Http { base, auth } => {
                    let url = format!("{base}index.json");
                    let remote = self.remote().map_err(&fail)?;
                    remote
                        .get(&url, auth.as_ref(), MAX_INDEX)
                        .map_err(&fail)?
                        .ok_or_else(|| fail(format!("{url}: no index there (404)")))?
                }
                Registry::Oci(_) => return Err(fail("an OCI registry has no static index".into())),
            };
            let text =
                String::from_utf8(text).map_err(|_| fail("index.json is not UTF-8".into()))?;
            let index = Index::parse(&text).map_err(|e| fail(e.to_string()))?;
            self.indexes.insert(i, index);
        }
        self.indexes
            .get(&i)
            .ok_or_else(|| self.fail(i)("the index went missing".into()))
    }

    /// Downloads `entry`'s archive from `registry` into `dest` (a new file), calling
    /// `progress` with each piece's size. At most `entry.size` bytes are accepted.
    pub fn download(
        &mut self,
        registry: &Registry,
        entry: &Entry,
        dest: &Path,
        progress: impl Fn(u64) + 'static,
    ) -> Result<(), String> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dest)
            .map_err(|e| format!("{}: {e}", dest.display()))?;
        match registry {
            Registry::Dir(dir) => {
                let path = dir.join(&entry.file);
                let bytes = assay_files::read_capped(&path, entry.size)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                progress(bytes.len() as u64);
                file.write_all(&bytes)
                    .map_err(|e| format!("{}: {e}", dest.display()))
            }
            Registry::Http { base, auth } => {
                let url = format!("{base}{}", entry.file);
                let limit = entry.size;
                let mut written = 0u64;
                let shown = dest.display().to_string();
                let sink = move |chunk: &[u8]| {
                    written += chunk.len() as u64;
                    if written > limit {
                        return Err(format!(
                            "the archive is larger than the {limit} bytes the registry says"
                        ));
                    }
                    file.write_all(chunk).map_err(|e| format!("{shown}: {e}"))?;
                    progress(chunk.len() as u64);
                    Ok(())
                };
                let auth = auth.clone();
                let remote = self.remote()?;
                remote.download(&url, auth.as_ref(), sink)
            }
            Registry::Oci(r) => {
                let r = r.clone();
                let remote = self.remote()?;
                drop(file);
                std::fs::remove_file(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
                oci::download(remote, &r, entry, dest, progress)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use super::*;

    #[test]
    fn parses_each_kind_without_keeping_credentials_in_sight() {
        let base = Path::new("/proj");
        assert_eq!(
            Registry::parse("reg", base).unwrap(),
            Registry::Dir(PathBuf::from("/proj/reg"))
        );
        assert_eq!(
            Registry::parse("file:///srv/reg", base).unwrap().display(),
            "file:///srv/reg"
        );
        let r = Registry::parse("https://me:p%40ss@example.org/assay/index.json", base).unwrap();
        assert_eq!(r.display(), "https://example.org/assay/");
        assert!(
            matches!(r, Registry::Http { auth: Some(Auth::Basic { ref password, .. }), .. } if password == "p@ss")
        );
        assert_eq!(
            Registry::parse("http://127.0.0.1:8080", base)
                .unwrap()
                .display(),
            "http://127.0.0.1:8080/"
        );
        // A folder in the project is locked relative to it.
        let inside = Registry::parse("registry", base).unwrap();
        assert_eq!(inside.locked_as(Some(base)), "./registry");
        assert_eq!(inside.locked_as(None), "file:///proj/registry");
        assert_eq!(Registry::parse("./registry", base).unwrap(), inside);
        let e = Registry::parse("https://u:s3cret@/x", base)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no host") && !e.contains("s3cret"), "{e}");
        let e = Registry::parse("ftp://x/", base).unwrap_err().to_string();
        assert!(e.contains("not a registry"), "{e}");
    }
}
