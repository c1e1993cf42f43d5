use std::collections::BTreeMap;
use std::path::Path;

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::{Incompatible, ManifestError, parse_requirement, satisfies};

/// What a package or plugin needs from its surroundings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requires {
    /// The core versions it works with; `None` means any.
    pub assay: Option<VersionReq>,
}

/// A pure-Lua package's `manifest.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageManifest {
    pub name: String,
    pub version: Version,
    pub description: String,
    pub requires: Requires,
    /// Other packages this one loads, with the versions it accepts.
    pub depends: BTreeMap<String, VersionReq>,
    /// Globals or plugin functions it calls (`http.client`, `json`).
    pub requires_builtins: Vec<String>,
}

/// The manifest as written; validated into [`PackageManifest`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    requires: RawRequires,
    #[serde(default)]
    depends: BTreeMap<String, String>,
    #[serde(default)]
    requires_builtins: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRequires {
    assay: Option<String>,
}

impl PackageManifest {
    /// Parses manifest text; errors name the text as `<manifest>`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        Self::parse_from(text, "<manifest>")
    }

    /// Reads and parses `path`; errors name the file.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_from(&text, &path.display().to_string())
    }

    fn parse_from(text: &str, origin: &str) -> Result<Self, ManifestError> {
        let raw: RawPackage = serde_saphyr::from_str(text).map_err(|e| ManifestError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        let field = |field: &str, message: String| ManifestError::Field {
            origin: origin.to_owned(),
            field: field.to_owned(),
            message,
        };
        if !is_package_name(&raw.name) {
            return Err(field(
                "name",
                format!(
                    "'{}' is not a package name (lower-case letters, digits, '-' and '_', starting with a letter)",
                    raw.name
                ),
            ));
        }
        let version = Version::parse(raw.version.trim()).map_err(|e| {
            field(
                "version",
                format!("'{}' is not a semver version ({e})", raw.version),
            )
        })?;
        let assay = raw
            .requires
            .assay
            .as_deref()
            .map(parse_requirement)
            .transpose()
            .map_err(|e| field("requires.assay", e))?;
        let depends = raw
            .depends
            .into_iter()
            .map(|(name, req)| {
                let parsed =
                    parse_requirement(&req).map_err(|e| field(&format!("depends.{name}"), e))?;
                Ok((name, parsed))
            })
            .collect::<Result<_, ManifestError>>()?;
        Ok(Self {
            name: raw.name,
            version,
            description: raw.description,
            requires: Requires { assay },
            depends,
            requires_builtins: raw.requires_builtins,
        })
    }

    /// Checks `requires.assay` against the running core's version.
    pub fn check_core(&self, core: &Version) -> Result<(), Incompatible> {
        match &self.requires.assay {
            Some(req) if !satisfies(req, core) => Err(Incompatible {
                kind: "package",
                name: self.name.clone(),
                version: self.version.to_string(),
                requirement: req.to_string(),
                core: core.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// Package names double as `require("assay.<name>")` path segments, so they stay simple.
pub(crate) fn is_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "name: crossplane\nversion: 0.3.1\ndescription: Crossplane helpers\nrequires:\n  assay: '>=0.1, <0.3'\ndepends:\n  k8s: '^0.2'\nrequires_builtins: [http.client, json]\n";

    #[test]
    fn parses_every_field() {
        let m = PackageManifest::parse(FULL).expect("valid");
        assert_eq!(m.name, "crossplane");
        assert_eq!(m.version, Version::new(0, 3, 1));
        assert_eq!(m.description, "Crossplane helpers");
        assert_eq!(m.depends["k8s"].to_string(), "^0.2");
        assert_eq!(m.requires_builtins, ["http.client", "json"]);
    }

    #[test]
    fn core_check_names_everything() {
        let m = PackageManifest::parse("name: big\nversion: 1.0.0\nrequires: {assay: '>=99'}\n")
            .expect("valid");
        let err = m
            .check_core(&Version::new(0, 1, 0))
            .expect_err("incompatible");
        assert_eq!(
            err.to_string(),
            "package 'big' 1.0.0 requires assay >=99, but this is assay 0.1.0"
        );
        assert!(
            PackageManifest::parse("name: any\nversion: 1.0.0\n")
                .expect("valid")
                .check_core(&Version::new(0, 1, 0))
                .is_ok()
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            ("name: Bad Name\nversion: 1.0.0\n", "field `name`"),
            ("name: ok\nversion: one\n", "field `version`"),
            (
                "name: ok\nversion: 1.0.0\nrequires: {assay: '>= x'}\n",
                "field `requires.assay`",
            ),
            (
                "name: ok\nversion: 1.0.0\ndepends: {k8s: 'nope'}\n",
                "field `depends.k8s`",
            ),
            (
                "name: ok\nversion: 1.0.0\nsurprise: 1\n",
                "not a valid manifest",
            ),
            ("version: 1.0.0\n", "not a valid manifest"),
            ("name: [unclosed\n", "not a valid manifest"),
        ];
        for (text, expected) in cases {
            let err = PackageManifest::parse(text).expect_err(text).to_string();
            assert!(err.contains(expected), "{text:?} gave {err:?}");
        }
    }
}
