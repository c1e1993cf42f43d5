//! `assay.lock`: the exact packages a project's install chose, where each came from and its
//! sha256, so that `assay install` on another machine (CI, a Docker build) installs the very
//! same bytes, and `--locked` can refuse to change it.
//!
//! JSON, as npm's lock is: one object per package, sorted by name, fields in a fixed order,
//! so the same plan always gives the same file and a change reads well in a diff:
//!
//! ```json
//! {
//!   "format": 1,
//!   "packages": [
//!     {
//!       "name": "k8s",
//!       "version": "0.2.1",
//!       "source": "https://packages.example.org/assay/",
//!       "file": "k8s-0.2.1.tar.gz",
//!       "sha256": "9f2c...",
//!       "size": 52472,
//!       "depends": {"apiclient": "^0.1"}
//!     }
//!   ]
//! }
//! ```
//!
//! `source` is the registry without credentials (`Registry::locked_as`): a folder inside the
//! project as `./path`, anything else as shown (`file:///abs`, `https://host/path/`,
//! `oci://host/path`); `file` is relative to it (an OCI registry names the archive by its
//! digest). Credentials are never locked: they come from the environment, for configured
//! registries only.

use std::collections::BTreeMap;
use std::path::Path;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use super::index::Entry;

/// The lock file's name, beside `assay.yaml`.
pub const LOCK_FILE: &str = "assay.lock";

/// A lock file larger than this is refused (a lock is a few KB).
const MAX_LOCK_BYTES: u64 = 8 << 20;

/// One locked package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub entry: Entry,
    /// The registry it came from.
    pub source: String,
}

/// The packages of a lock file, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    pub packages: BTreeMap<String, Locked>,
}

/// Why a lock file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: not an assay lock file: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: lock format {format} is not one this assay reads (format 1)")]
    Format { path: String, format: u64 },
    #[error("{path}: {package}: {message}")]
    Entry {
        path: String,
        package: String,
        message: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    format: u64,
    packages: Vec<RawLocked>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocked {
    name: String,
    version: String,
    source: String,
    file: String,
    sha256: String,
    size: u64,
    #[serde(default)]
    depends: BTreeMap<String, String>,
}

impl Lock {
    /// Reads the lock at `path`; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>, LockError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Ok(None);
        }
        let text =
            assay_files::read_regular_text(path, MAX_LOCK_BYTES).map_err(|e| LockError::Read {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        Self::parse(&text, &shown).map(Some)
    }

    /// Parses lock text; errors name `path`.
    pub fn parse(text: &str, path: &str) -> Result<Self, LockError> {
        let raw: RawLock = serde_json::from_str(text).map_err(|e| LockError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if raw.format != 1 {
            return Err(LockError::Format {
                path: path.to_owned(),
                format: raw.format,
            });
        }
        let mut packages = BTreeMap::new();
        for p in raw.packages {
            let fail = |message: String| LockError::Entry {
                path: path.to_owned(),
                package: p.name.clone(),
                message,
            };
            if !assay_manifest::is_package_name(&p.name) {
                return Err(fail(format!("'{}' is not a package name", p.name)));
            }
            let version = Version::parse(&p.version)
                .map_err(|e| fail(format!("version '{}': {e}", p.version)))?;
            let mut depends = BTreeMap::new();
            for (name, req) in &p.depends {
                if !assay_manifest::is_package_name(name) {
                    return Err(fail(format!("depends: '{name}' is not a package name")));
                }
                let req = assay_manifest::parse_requirement(req)
                    .map_err(|e| fail(format!("depends.{name}: {e}")))?;
                depends.insert(name.clone(), req);
            }
            if p.sha256.len() != 64 || !p.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(fail(format!("sha256 '{}' is not 64 hex digits", p.sha256)));
            }
            if p.file.is_empty() || p.file.contains(['/', '\\']) || p.file.starts_with('.') {
                return Err(fail(format!("file '{}' is not a plain file name", p.file)));
            }
            let entry = Entry {
                name: p.name.clone(),
                version,
                description: String::new(),
                requires_assay: None,
                depends,
                sha256: p.sha256.to_ascii_lowercase(),
                size: p.size,
                file: p.file,
            };
            let locked = Locked {
                entry,
                source: p.source,
            };
            if packages.insert(p.name.clone(), locked).is_some() {
                return Err(fail("listed twice".into()));
            }
        }
        Ok(Self { packages })
    }

    /// The lock file's text: sorted, two-space indented, a newline at the end.
    pub fn render(&self) -> String {
        let raw = RawLock {
            format: 1,
            packages: self
                .packages
                .values()
                .map(|l| RawLocked {
                    name: l.entry.name.clone(),
                    version: l.entry.version.to_string(),
                    source: l.source.clone(),
                    file: l.entry.file.clone(),
                    sha256: l.entry.sha256.clone(),
                    size: l.entry.size,
                    depends: l
                        .entry
                        .depends
                        .iter()
                        .map(|(n, r)| (n.clone(), r.to_string()))
                        .collect(),
                })
                .collect(),
        };
        // Serializing plain strings and numbers cannot fail.
        let mut text = serde_json::to_string_pretty(&raw).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Whether the locked packages satisfy `wanted` and each other's `depends`: the lock still
    /// describes a valid install for these requirements.
    pub fn satisfies(&self, wanted: &BTreeMap<String, VersionReq>) -> bool {
        let holds = |name: &String, req: &VersionReq| {
            self.packages
                .get(name)
                .is_some_and(|l| req.matches(&l.entry.version))
        };
        wanted.iter().all(|(n, r)| holds(n, r))
            && self
                .packages
                .values()
                .all(|l| l.entry.depends.iter().all(|(n, r)| holds(n, r)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use super::*;

    fn locked(name: &str, version: &str, depends: &[(&str, &str)]) -> Locked {
        Locked {
            entry: Entry {
                name: name.into(),
                version: Version::parse(version).unwrap(),
                description: String::new(),
                requires_assay: None,
                depends: depends
                    .iter()
                    .map(|(n, r)| ((*n).into(), VersionReq::parse(r).unwrap()))
                    .collect(),
                sha256: "ab".repeat(32),
                size: 10,
                file: format!("{name}-{version}.tar.gz"),
            },
            source: "file:///reg".into(),
        }
    }

    #[test]
    fn renders_and_reads_back_the_same() {
        let mut lock = Lock::default();
        for l in [
            locked("k8s", "0.2.1", &[("apiclient", "^0.1")]),
            locked("apiclient", "0.1.0", &[]),
        ] {
            lock.packages.insert(l.entry.name.clone(), l);
        }
        let text = lock.render();
        assert!(text.find("\"apiclient\"").unwrap() < text.find("\"k8s\"").unwrap());
        assert_eq!(Lock::parse(&text, "assay.lock").unwrap(), lock);
        assert_eq!(Lock::parse(&text, "x").unwrap().render(), text);
    }

    #[test]
    fn satisfies_checks_wanted_and_depends() {
        let mut lock = Lock::default();
        for l in [
            locked("k8s", "0.2.1", &[("apiclient", "^0.1")]),
            locked("apiclient", "0.1.0", &[]),
        ] {
            lock.packages.insert(l.entry.name.clone(), l);
        }
        let want = |r: &str| BTreeMap::from([("k8s".to_owned(), VersionReq::parse(r).unwrap())]);
        assert!(lock.satisfies(&want("^0.2")));
        assert!(!lock.satisfies(&want("^0.3")));
        lock.packages.remove("apiclient");
        assert!(!lock.satisfies(&want("^0.2")));
    }

    #[test]
    fn refuses_what_is_not_a_lock_naming_it() {
        for (text, expected) in [
            ("{}", "missing field"),
            ("{\"format\": 2, \"packages\": []}", "lock format 2"),
            (
                "{\"format\": 1, \"packages\": [{\"name\": \"a\", \"version\": \"1\", \"source\": \"s\", \"file\": \"a.tgz\", \"sha256\": \"00\", \"size\": 1}]}",
                "a: version '1'",
            ),
            (
                "{\"format\": 1, \"packages\": [{\"name\": \"a\", \"version\": \"1.0.0\", \"source\": \"s\", \"file\": \"../a.tgz\", \"sha256\": \"00\", \"size\": 1}]}",
                "sha256 '00'",
            ),
            (
                "{\"format\": 1, \"packages\": [{\"name\": \"../up\", \"version\": \"1.0.0\", \"source\": \"s\", \"file\": \"a.tgz\", \"sha256\": \"00\", \"size\": 1}]}",
                "'../up' is not a package name",
            ),
        ] {
            let e = Lock::parse(text, "assay.lock").unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
    }
}
