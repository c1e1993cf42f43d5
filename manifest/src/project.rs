//! A project's `assay.yaml`: what `assay init` writes and `assay install` reads.
//!
//! ```yaml
//! name: my-job
//! version: 0.1.0
//! requires:
//!   assay: ">=0.1"
//! dependencies:
//!   k8s: "^0.2"
//! registries:
//!   - https://packages.example.org/assay/
//! ```
//!
//! `dependencies` names packages with Cargo-style requirements; `registries` (optional) lists
//! where to find them, in order. `assay install PKG` and `assay remove PKG` rewrite only the
//! `dependencies` block ([`with_dependencies`]): the rest of the file stays as written.

use std::collections::BTreeMap;
use std::path::Path;

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::common::{self, Fields};
use crate::package::RawRequires;
use crate::{ManifestError, Requires, parse_requirement};

/// The project file's name, looked for in the script's folder and its parents.
pub const PROJECT_FILE: &str = "assay.yaml";

/// A project's `assay.yaml`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectManifest {
    pub name: String,
    pub version: Version,
    pub description: String,
    pub requires: Requires,
    /// The packages the project uses, with the versions it accepts.
    pub dependencies: BTreeMap<String, VersionReq>,
    /// Registries to install from, in order.
    pub registries: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    requires: RawRequires,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default)]
    registries: Vec<String>,
}

impl ProjectManifest {
    /// Parses project file text; errors name it as `origin`.
    pub fn parse_from(text: &str, origin: &str) -> Result<Self, ManifestError> {
        Self::validate(common::from_yaml(text, origin)?, origin)
    }

    /// Reads and parses `path`; errors name the file.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let (raw, origin) = common::read(path)?;
        Self::validate(raw, &origin)
    }

    fn validate(raw: RawProject, origin: &str) -> Result<Self, ManifestError> {
        let fields = Fields { origin };
        fields.name("project", &raw.name)?;
        let version = fields.version(&raw.version)?;
        let assay = fields.requirement("requires.assay", raw.requires.assay.as_deref())?;
        let mut dependencies = BTreeMap::new();
        for (name, req) in raw.dependencies {
            let field = format!("dependencies.{name}");
            fields
                .name("package", &name)
                .map_err(|e| fields.error(&field, e.to_string()))?;
            let parsed = parse_requirement(&req).map_err(|e| fields.error(&field, e))?;
            dependencies.insert(name, parsed);
        }
        for (i, registry) in raw.registries.iter().enumerate() {
            if registry.trim().is_empty() {
                return Err(fields.error(&format!("registries[{}]", i + 1), "is empty".into()));
            }
        }
        Ok(Self {
            name: raw.name,
            version,
            description: raw.description,
            requires: Requires { assay },
            dependencies,
            registries: raw.registries,
        })
    }
}

/// `text` (a project file) with its top-level `dependencies` block replaced by `dependencies`,
/// in block style, sorted; every other line kept as it was. Comments inside the old block go
/// with it. A file without the block gets it appended.
pub fn with_dependencies(text: &str, dependencies: &BTreeMap<String, VersionReq>) -> String {
    let mut block = String::from("dependencies:");
    if dependencies.is_empty() {
        block.push_str(" {}\n");
    } else {
        block.push('\n');
        for (name, req) in dependencies {
            block.push_str(&format!("  {name}: \"{req}\"\n"));
        }
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.iter().position(|l| {
        l.strip_prefix("dependencies")
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    });
    let Some(start) = start else {
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&block);
        return out;
    };
    // The block goes on while lines are indented, blank or comments; a flow mapping on the
    // key's own line ends it there.
    let mut end = start + 1;
    while end < lines.len() {
        let line = lines[end];
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if indented || line.trim().is_empty() {
            end += 1;
        } else {
            break;
        }
    }
    // Blank lines at the end of the block belong to what follows.
    while end > start + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    let mut out: String = lines[..start].concat();
    out.push_str(&block);
    out.push_str(&lines[end..].concat());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use super::*;

    const FULL: &str = "name: my-job\nversion: 0.1.0\nrequires:\n  assay: '>=0.1'\ndependencies:\n  k8s: '^0.2'\n  vault: '0.1'\nregistries: [file:///srv/reg]\n";

    #[test]
    fn parses_every_field() {
        let p = ProjectManifest::parse_from(FULL, "assay.yaml").unwrap();
        assert_eq!(p.name, "my-job");
        assert_eq!(p.dependencies["k8s"].to_string(), "^0.2");
        assert_eq!(p.dependencies["vault"].to_string(), "^0.1");
        assert_eq!(p.registries, ["file:///srv/reg"]);
    }

    #[test]
    fn refuses_bad_fields_naming_them() {
        for (text, expected) in [
            (
                "name: p\nversion: 1.0.0\ndependencies: {k8s: 'nope'}\n",
                "field `dependencies.k8s`",
            ),
            (
                "name: p\nversion: 1.0.0\ndependencies: {K8S: '1'}\n",
                "field `dependencies.K8S`",
            ),
            ("name: p\nversion: 1.0.0\ndepends: {k8s: '1'}\n", "depends"),
            ("name: p\nversion: one\n", "field `version`"),
        ] {
            let Err(e) = ProjectManifest::parse_from(text, "assay.yaml") else {
                panic!("accepted: {text}")
            };
            assert!(e.to_string().contains(expected), "{e}");
        }
    }

    #[test]
    fn rewrites_only_the_dependencies_block() {
        let text = "# my project\nname: p\nversion: 1.0.0\ndependencies:\n  # pinned\n  k8s: '^0.1'\n\nregistries: [x] # where\n";
        let deps = BTreeMap::from([
            ("k8s".to_owned(), VersionReq::parse("^0.2").unwrap()),
            ("apiclient".to_owned(), VersionReq::parse("^0.1").unwrap()),
        ]);
        let out = with_dependencies(text, &deps);
        assert_eq!(
            out,
            "# my project\nname: p\nversion: 1.0.0\ndependencies:\n  apiclient: \"^0.1\"\n  k8s: \"^0.2\"\n\nregistries: [x] # where\n"
        );
        let parsed = ProjectManifest::parse_from(&out, "x").unwrap();
        assert_eq!(parsed.dependencies, deps);
        // flow style, then none, then a file without the key
        let flow = with_dependencies("name: p\nversion: 1.0.0\ndependencies: {k8s: '1'}\n", &deps);
        assert_eq!(
            ProjectManifest::parse_from(&flow, "x")
                .unwrap()
                .dependencies,
            deps
        );
        let none = with_dependencies(&flow, &BTreeMap::new());
        assert!(none.ends_with("dependencies: {}\n"), "{none}");
        let added = with_dependencies("name: p\nversion: 1.0.0", &deps);
        assert_eq!(
            ProjectManifest::parse_from(&added, "x")
                .unwrap()
                .dependencies,
            deps
        );
    }
}
