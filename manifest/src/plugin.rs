use std::path::Path;

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::common::{self, Fields};
use crate::flat::{self, Node};
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

#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
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

impl RawPlugin {
    /// The manifest from the flat reader, or `None` (then the full YAML reader decides) when it is not
    /// flat, has a field this struct lacks, or a value whose type is in doubt.
    fn from_flat(text: &str) -> Option<Self> {
        let mut raw = RawPlugin {
            name: String::new(),
            version: String::new(),
            description: String::new(),
            library: String::new(),
            provides: Vec::new(),
            abi: 0,
            requires: RawPluginRequires::default(),
        };
        let mut seen = 0u8;
        for (key, node) in flat::parse(text)? {
            match (key.as_str(), node) {
                ("name", Node::Scalar(s)) => raw.name = s.as_text()?.to_owned(),
                ("version", Node::Scalar(s)) => raw.version = s.as_text()?.to_owned(),
                ("description", Node::Scalar(s)) => raw.description = s.as_text()?.to_owned(),
                ("library", Node::Scalar(s)) => raw.library = s.as_text()?.to_owned(),
                ("provides", Node::List(items)) => {
                    raw.provides = items
                        .iter()
                        .map(|s| s.as_text().map(str::to_owned))
                        .collect::<Option<_>>()?;
                }
                ("abi", Node::Scalar(s)) if s.plain => raw.abi = s.text.parse().ok()?,
                ("requires", Node::Map(entries)) => match entries.as_slice() {
                    [(k, s)] if k == "assay" => raw.requires.assay = Some(s.as_text()?.to_owned()),
                    _ => return None,
                },
                _ => return None,
            }
            seen |= match key.as_str() {
                "name" => 1,
                "version" => 2,
                "library" => 4,
                "provides" => 8,
                "abi" => 16,
                _ => 0,
            };
        }
        (seen == 31).then_some(raw)
    }
}

#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(deny_unknown_fields)]
struct RawPluginRequires {
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
        let text = common::read_text(path)?;
        Self::parse_from(&text, &path.display().to_string())
    }

    /// Parses text read from `origin` (named in errors). The flat reader goes first (start-up
    /// reads every manifest; see `flat.rs`), the full YAML parser takes anything else.
    pub fn parse_from(text: &str, origin: &str) -> Result<Self, ManifestError> {
        let raw = match RawPlugin::from_flat(text) {
            Some(raw) => raw,
            None => common::from_yaml(text, origin)?,
        };
        Self::validate(raw, origin)
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

    /// The manifest as YAML, as the build writes it: every string double-quoted, one line per
    /// field, which is the flat form start-up reads fastest (see `flat.rs`).
    pub fn to_yaml(&self) -> String {
        let provides: Vec<String> = self.provides.iter().map(|p| quote(p)).collect();
        let mut text = format!(
            "name: {}\nversion: {}\ndescription: {}\nlibrary: {}\nprovides: [{}]\nabi: {}\n",
            quote(&self.name),
            quote(&self.version.to_string()),
            quote(&self.description),
            quote(&self.library),
            provides.join(", "),
            self.abi,
        );
        if let Some(req) = &self.requires.assay {
            text.push_str(&format!(
                "requires:\n  assay: {}\n",
                quote(&req.to_string())
            ));
        }
        text
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
/// release line (`>=0.1.0-0, <0.2.0` for SDK 0.1.x, release candidates included), the
/// range semver promises compatibility over.
pub fn default_core_requirement(sdk: &Version) -> VersionReq {
    let upper = if sdk.major == 0 {
        format!("<0.{}.0", sdk.minor + 1)
    } else {
        format!("<{}.0.0", sdk.major + 1)
    };
    // `-0`: the lowest pre-release, so a release candidate of the line (0.2.0-rc.1) is in.
    let text = format!(">={}.{}.0-0, {upper}", sdk.major, sdk.minor);
    VersionReq::parse(&text).unwrap_or(VersionReq::STAR)
}

/// A YAML double-quoted scalar.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `name` can be a Lua global's name (an identifier).
pub fn is_lua_name(name: &str) -> bool {
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
    fn written_text_survives_quoting() {
        let mut m = PluginManifest::parse(CRYPTO).expect("valid");
        m.description = "say \"hi\"\\ with: colons, # hashes and a\nnew line\t\u{1}".to_owned();
        let text = m.to_yaml();
        assert_eq!(PluginManifest::parse(&text).expect("re-read"), m);
        let full: RawPlugin = common::from_yaml(&text, "t").expect("YAML agrees");
        assert_eq!(full.description, m.description);
    }

    #[test]
    fn flat_and_full_readers_agree() {
        let written = PluginManifest::parse(CRYPTO).expect("valid").to_yaml();
        let variants = [
            CRYPTO.to_owned(),
            written.clone(),
            "# generated\nname: \"crypto\"\nversion: '0.1.0'\nlibrary: libc.so\nprovides: [crypto, \"jwt\"]\nabi: 1\n".to_owned(),
            "name: crypto\nversion: 1.0\nlibrary: libc.so\nprovides: [crypto]\nabi: 1\n".to_owned(),
        ];
        for text in variants {
            let flat = RawPlugin::from_flat(&text);
            let full: Result<RawPlugin, _> = common::from_yaml(&text, "t");
            match (flat, full) {
                (Some(flat), Ok(full)) => assert_eq!(flat, full, "{text}"),
                (None, _) => {}
                (Some(_), Err(e)) => panic!("flat reader took what YAML refuses: {e}\n{text}"),
            }
        }
        assert!(
            RawPlugin::from_flat(&written).is_some(),
            "the build's own output is flat"
        );
    }

    #[test]
    fn default_requirement_follows_semver() {
        let req = default_core_requirement(&Version::new(0, 1, 3));
        assert!(satisfies(&req, &Version::new(0, 1, 0)));
        assert!(!satisfies(&req, &Version::new(0, 2, 0)));
        let rc = Version::parse("0.1.0-rc.1").expect("version");
        assert!(satisfies(&default_core_requirement(&rc), &rc));
        let req = default_core_requirement(&Version::new(1, 2, 0));
        assert!(satisfies(&req, &Version::new(1, 9, 0)));
        assert!(!satisfies(&req, &Version::new(1, 1, 0)));
    }

    #[test]
    fn reading_refuses_devices_fifos_and_huge_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.yaml");
        std::fs::write(&good, CRYPTO).expect("write");
        assert_eq!(
            PluginManifest::read(&good).expect("readable").name,
            "crypto"
        );
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let err = PluginManifest::read(&zero).expect_err("a device");
        assert!(
            err.to_string()
                .ends_with("zero.yaml: it is a character device, not a regular file"),
            "{err}"
        );
        let huge = dir.path().join("huge.yaml");
        let file = std::fs::File::create(&huge).expect("create");
        file.set_len(crate::MAX_MANIFEST_BYTES + 1)
            .expect("a sparse file");
        let err = crate::PackageManifest::read(&huge).expect_err("too large");
        assert!(
            err.to_string().ends_with("huge.yaml: larger than 1 MiB"),
            "{err}"
        );
    }
}
