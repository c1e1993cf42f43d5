use std::collections::BTreeMap;
use std::path::Path;

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::common::{self, Fields};
use crate::{Incompatible, ManifestError, parse_requirement, satisfies};

/// What a package or plugin needs from its surroundings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requires {
    /// The core versions it works with; `None` means any.
    pub assay: Option<VersionReq>,
}

impl Requires {
    /// Checks `assay` against the running core's version, for a `kind` ("package", "plugin").
    pub fn check(
        &self,
        kind: &'static str,
        name: &str,
        version: &Version,
        core: &Version,
    ) -> Result<(), Incompatible> {
        match &self.assay {
            Some(req) if !satisfies(req, core) => Err(Incompatible {
                kind,
                name: name.to_owned(),
                version: version.to_string(),
                requirement: req.to_string(),
                core: core.to_string(),
            }),
            _ => Ok(()),
        }
    }
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

/// `requires` as written (packages and projects).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequires {
    pub(crate) assay: Option<String>,
}

impl PackageManifest {
    /// Parses manifest text; errors name the text as `<manifest>`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        Self::parse_from(text, "<manifest>")
    }

    /// Reads and parses `path`; errors name the file.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let (raw, origin) = common::read(path)?;
        Self::validate(raw, &origin)
    }

    fn parse_from(text: &str, origin: &str) -> Result<Self, ManifestError> {
        Self::validate(common::from_yaml(text, origin)?, origin)
    }

    fn validate(raw: RawPackage, origin: &str) -> Result<Self, ManifestError> {
        let fields = Fields { origin };
        fields.name("package", &raw.name)?;
        let version = fields.version(&raw.version)?;
        let assay = fields.requirement("requires.assay", raw.requires.assay.as_deref())?;
        let depends = raw
            .depends
            .into_iter()
            .map(|(name, req)| {
                let parsed = parse_requirement(&req)
                    .map_err(|e| fields.error(&format!("depends.{name}"), e))?;
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
        self.requires
            .check("package", &self.name, &self.version, core)
    }
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
