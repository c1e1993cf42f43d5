use std::path::Path;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::common::{self, Fields};
use crate::{Incompatible, ManifestError, Requires};

/// A native plugin's `manifest.yaml`, written by the plugin's build (see `assay_sdk::build`):
///
/// ```yaml
/// name: crypto
/// version: 0.1.0
/// description: Hashes, HMAC, random bytes and JWT
/// library: libassay_plugin_crypto.so
/// provides: [crypto]
/// abi: 1
/// requires:
///   assay: '>=0.1.0, <0.2.0'
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginManifest {
    pub name: String,
    pub version: Version,
    pub description: String,
    /// The shared library's file name, in the manifest's folder.
    pub library: String,
    /// The globals the plugin installs.
    pub provides: Vec<String>,
    /// The SDK ABI version the plugin was built against.
    pub abi: u32,
    pub requires: Requires,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    library: String,
    provides: Vec<String>,
    abi: u32,
    #[serde(default)]
    requires: RawPluginRequires,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPluginRequires {
    #[serde(skip_serializing_if = "Option::is_none")]
    assay: Option<String>,
}

/// Why a plugin built for one ABI cannot load into a core with another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "plugin '{name}' {version} was built for plugin ABI {abi}, but this is assay {core} with plugin ABI {host_abi}"
)]
pub struct AbiMismatch {
    pub name: String,
    pub version: String,
    pub abi: u32,
    pub core: String,
    pub host_abi: u32,
}

impl PluginManifest {
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

    fn validate(raw: RawPlugin, origin: &str) -> Result<Self, ManifestError> {
        let fields = Fields { origin };
        fields.name("plugin", &raw.name)?;
        let version = fields.version(&raw.version)?;
        if raw.library.is_empty() || raw.library.contains('/') || raw.library.starts_with('.') {
            return Err(fields.error(
                "library",
                format!(
                    "'{}' must be a file name in the manifest's folder",
                    raw.library
                ),
            ));
        }
        if raw.provides.is_empty() {
            return Err(fields.error(
                "provides",
                "a plugin must provide at least one global".into(),
            ));
        }
        if let Some(bad) = raw.provides.iter().find(|g| !is_lua_name(g)) {
            return Err(fields.error("provides", format!("'{bad}' is not a Lua global name")));
        }
        let assay = fields.requirement("requires.assay", raw.requires.assay.as_deref())?;
        Ok(Self {
            name: raw.name,
            version,
            description: raw.description,
            library: raw.library,
            provides: raw.provides,
            abi: raw.abi,
            requires: Requires { assay },
        })
    }

    /// The manifest as YAML, as the build writes it.
    pub fn to_yaml(&self) -> String {
        let raw = RawPlugin {
            name: self.name.clone(),
            version: self.version.to_string(),
            description: self.description.clone(),
            library: self.library.clone(),
            provides: self.provides.clone(),
            abi: self.abi,
            requires: RawPluginRequires {
                assay: self.requires.assay.as_ref().map(VersionReq::to_string),
            },
        };
        serde_saphyr::to_string(&raw).unwrap_or_else(|e| format!("# cannot write manifest: {e}\n"))
    }

    /// Checks `requires.assay` against the running core's version.
    pub fn check_core(&self, core: &Version) -> Result<(), Incompatible> {
        self.requires
            .check("plugin", &self.name, &self.version, core)
    }

    /// Checks the plugin's ABI version against the host's.
    pub fn check_abi(&self, core: &Version, host_abi: u32) -> Result<(), AbiMismatch> {
        if self.abi == host_abi {
            return Ok(());
        }
        Err(AbiMismatch {
            name: self.name.clone(),
            version: self.version.to_string(),
            abi: self.abi,
            core: core.to_string(),
            host_abi,
        })
    }
}

/// The `requires.assay` a plugin gets when its author names none: the cores of the SDK's own
/// release line (`>=0.1.0, <0.2.0` for SDK 0.1.x; `>=1.2.0, <2.0.0` for SDK 1.2.x), the
/// range semver promises compatibility over.
pub fn default_core_requirement(sdk: &Version) -> VersionReq {
    let upper = if sdk.major == 0 {
        format!("<0.{}.0", sdk.minor + 1)
    } else {
        format!("<{}.0.0", sdk.major + 1)
    };
    let text = format!(">={}.{}.0, {upper}", sdk.major, sdk.minor);
    VersionReq::parse(&text).unwrap_or(VersionReq::STAR)
}

fn is_lua_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::satisfies;

    const CRYPTO: &str = "name: crypto\nversion: 0.1.0\ndescription: hashes\nlibrary: libassay_plugin_crypto.so\nprovides: [crypto]\nabi: 1\nrequires:\n  assay: '>=0.1.0, <0.2.0'\n";

    #[test]
    fn round_trips_through_yaml() {
        let m = PluginManifest::parse(CRYPTO).expect("valid");
        assert_eq!(m.provides, ["crypto"]);
        assert_eq!(m.abi, 1);
        assert_eq!(PluginManifest::parse(&m.to_yaml()).expect("re-read"), m);
    }

    #[test]
    fn refusals_name_the_requirement() {
        let m = PluginManifest::parse(&CRYPTO.replace(">=0.1.0, <0.2.0", ">=99")).expect("valid");
        let core = Version::new(0, 1, 0);
        assert_eq!(
            m.check_core(&core).expect_err("too old").to_string(),
            "plugin 'crypto' 0.1.0 requires assay >=99, but this is assay 0.1.0"
        );
        assert_eq!(
            m.check_abi(&core, 2).expect_err("abi").to_string(),
            "plugin 'crypto' 0.1.0 was built for plugin ABI 1, but this is assay 0.1.0 with plugin ABI 2"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        for (from, to, expected) in [
            (
                "library: libassay_plugin_crypto.so",
                "library: ../evil.so",
                "field `library`",
            ),
            ("provides: [crypto]", "provides: []", "field `provides`"),
            ("provides: [crypto]", "provides: [a-b]", "field `provides`"),
            ("abi: 1", "abi: one", "not a valid manifest"),
        ] {
            let text = CRYPTO.replace(from, to);
            let err = PluginManifest::parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "{text:?} gave {err:?}");
        }
    }

    #[test]
    fn default_requirement_follows_semver() {
        let req = default_core_requirement(&Version::new(0, 1, 3));
        assert!(satisfies(&req, &Version::new(0, 1, 0)));
        assert!(!satisfies(&req, &Version::new(0, 2, 0)));
        let req = default_core_requirement(&Version::new(1, 2, 0));
        assert!(satisfies(&req, &Version::new(1, 9, 0)));
        assert!(!satisfies(&req, &Version::new(1, 1, 0)));
    }
}
