//! A registry's index: what `scripts/registry.lua` (and `assay package`'s entries) write as
//! `index.json`, format 1:
//!
//! ```json
//! {"format": 1, "packages": {"k8s": [{"name": "k8s", "version": "0.1.0", "description": "...",
//!   "requires": {"assay": ">=0.1, <0.2"}, "depends": {"apiclient": ">=0.1, <0.2"},
//!   "sha256": "...", "size": 52472, "file": "k8s-0.1.0.tar.gz"}]}}
//! ```
//!
//! `file` is relative to the index. Every field is checked when the index is read: a version
//! or a requirement that does not parse, a sha256 that is not 64 hex digits, a file name with a
//! folder in it, or an entry filed under another package's name is an error naming the package
//! and version, so a broken index is refused whole rather than half used.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};
use serde::Deserialize;

/// A registry's index, checked.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Each package's versions, newest first.
    pub packages: BTreeMap<String, Vec<Entry>>,
}

/// One version of a package in an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub version: Version,
    pub description: String,
    /// The core versions it works with; `None`: any.
    pub requires_assay: Option<VersionReq>,
    pub depends: BTreeMap<String, VersionReq>,
    /// Lower-case hex sha256 of the archive.
    pub sha256: String,
    pub size: u64,
    /// The archive's file name, relative to the index.
    pub file: String,
}

/// Why an index was refused.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("not a registry index: {0}")]
    Json(String),
    #[error("index format {0} is not one this assay reads (format 1)")]
    Format(u64),
    #[error("{package} {version}: {message}")]
    Entry {
        package: String,
        version: String,
        message: String,
    },
}

#[derive(Deserialize)]
struct RawIndex {
    format: u64,
    #[serde(default)]
    packages: BTreeMap<String, Vec<RawEntry>>,
}

#[derive(Deserialize)]
struct RawEntry {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    requires: RawRequires,
    #[serde(default)]
    depends: BTreeMap<String, String>,
    sha256: String,
    size: u64,
    file: String,
}

#[derive(Deserialize, Default)]
struct RawRequires {
    assay: Option<String>,
}

impl Index {
    /// Reads and checks an index's JSON text.
    pub fn parse(text: &str) -> Result<Index, IndexError> {
        let raw: RawIndex =
            serde_json::from_str(text).map_err(|e| IndexError::Json(e.to_string()))?;
        if raw.format != 1 {
            return Err(IndexError::Format(raw.format));
        }
        let mut packages = BTreeMap::new();
        for (name, raws) in raw.packages {
            let mut versions = Vec::with_capacity(raws.len());
            for r in raws {
                versions.push(entry(&name, r)?);
            }
            versions.sort_by(|a: &Entry, b: &Entry| b.version.cmp(&a.version));
            packages.insert(name, versions);
        }
        Ok(Index { packages })
    }

    /// One entry's JSON (an OCI package's config), checked as an index entry listed under
    /// `name`.
    pub fn parse_entry(name: &str, text: &str) -> Result<Entry, IndexError> {
        let raw: RawEntry =
            serde_json::from_str(text).map_err(|e| IndexError::Json(e.to_string()))?;
        entry(name, raw)
    }

    /// The versions of `name`, newest first (empty when it is not listed).
    pub fn versions(&self, name: &str) -> &[Entry] {
        self.packages.get(name).map_or(&[], Vec::as_slice)
    }
}

impl Entry {
    /// The entry as an index lists it (and `assay package` prints it).
    pub fn to_json(&self) -> serde_json::Value {
        let depends: serde_json::Map<String, serde_json::Value> = self
            .depends
            .iter()
            .map(|(name, req)| (name.clone(), serde_json::Value::String(req.to_string())))
            .collect();
        serde_json::json!({
            "name": self.name,
            "version": self.version.to_string(),
            "description": self.description,
            "requires": {"assay": self.requires_assay.as_ref().map(ToString::to_string)},
            "depends": depends,
            "sha256": self.sha256,
            "size": self.size,
            "file": self.file,
        })
    }
}

fn entry(listed_as: &str, r: RawEntry) -> Result<Entry, IndexError> {
    let bad = |message: String| IndexError::Entry {
        package: listed_as.to_owned(),
        version: r.version.clone(),
        message,
    };
    if r.name != listed_as {
        return Err(bad(format!("the entry is for package '{}'", r.name)));
    }
    if !assay_manifest::is_package_name(&r.name) {
        return Err(bad(format!("'{}' is not a package name", r.name)));
    }
    let version = Version::parse(&r.version).map_err(|e| bad(format!("version: {e}")))?;
    let requires_assay = r
        .requires
        .assay
        .as_deref()
        .map(|t| VersionReq::parse(t).map_err(|e| bad(format!("requires.assay '{t}': {e}"))))
        .transpose()?;
    let mut depends = BTreeMap::new();
    for (dep, req) in &r.depends {
        if !assay_manifest::is_package_name(dep) {
            return Err(bad(format!("depends: '{dep}' is not a package name")));
        }
        let parsed =
            VersionReq::parse(req).map_err(|e| bad(format!("depends.{dep} '{req}': {e}")))?;
        depends.insert(dep.clone(), parsed);
    }
    let sha = r.sha256.to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!("sha256 '{}' is not 64 hex digits", r.sha256)));
    }
    if r.file.is_empty() || r.file.contains('/') || r.file.starts_with('.') {
        return Err(bad(format!(
            "file '{}' must be a plain file name beside the index",
            r.file
        )));
    }
    Ok(Entry {
        name: r.name,
        version,
        description: r.description,
        requires_assay,
        depends,
        sha256: sha,
        size: r.size,
        file: r.file,
    })
}
