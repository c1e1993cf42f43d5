//! What both manifest kinds share: reading, YAML, and the checks of common fields, each error
//! naming the manifest and the field.

use std::path::Path;

use semver::{Version, VersionReq};
use serde::de::DeserializeOwned;

use crate::{MAX_MANIFEST_BYTES, ManifestError, parse_requirement};

/// Reads `path` and parses it as `T`; errors name the file.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<(T, String), ManifestError> {
    let text = read_text(path)?;
    let origin = path.display().to_string();
    Ok((from_yaml(&text, &origin)?, origin))
}

/// The text of the manifest at `path`: a regular file (symlinks followed) of at most
/// [`MAX_MANIFEST_BYTES`], so a path to a device or a FIFO is an error, not a hang.
pub fn read_text(path: &Path) -> Result<String, ManifestError> {
    Ok(assay_files::read_regular_text(path, MAX_MANIFEST_BYTES)?)
}

pub fn from_yaml<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, ManifestError> {
    crate::yaml::from_str(text).map_err(|e| ManifestError::Syntax {
        origin: origin.to_owned(),
        message: e.to_string(),
    })
}

/// Names a lib-path root uses for itself: a package called `plugins` would be installed over
/// the root's native plugins (and its files loaded as plugins).
pub const RESERVED_NAMES: &[&str] = &["plugins", "lua_modules"];

/// Whether `name` can name a package (or project): lower-case letters, digits, `-` and `_`,
/// starting with a letter, and not one of [`RESERVED_NAMES`]. Package names become folder
/// names under a root and `require("assay.<name>")` segments, so nothing else (no `/`, no
/// `..`) is ever one.
pub fn is_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !RESERVED_NAMES.contains(&name)
}

/// Field checks for one manifest.
pub struct Fields<'a> {
    pub origin: &'a str,
}

impl Fields<'_> {
    pub fn error(&self, field: &str, message: String) -> ManifestError {
        ManifestError::Field {
            origin: self.origin.to_owned(),
            field: field.to_owned(),
            message,
        }
    }

    /// Names double as `require("assay.<name>")` path segments and folder names.
    pub fn name(&self, kind: &str, name: &str) -> Result<(), ManifestError> {
        if is_package_name(name) {
            Ok(())
        } else {
            Err(self.error(
                "name",
                format!(
                    "'{name}' is not a {kind} name (lower-case letters, digits, '-' and '_', starting with a letter; not {})",
                    RESERVED_NAMES.join(" or ")
                ),
            ))
        }
    }

    pub fn version(&self, text: &str) -> Result<Version, ManifestError> {
        Version::parse(text.trim())
            .map_err(|e| self.error("version", format!("'{text}' is not a semver version ({e})")))
    }

    pub fn requirement(
        &self,
        field: &str,
        text: Option<&str>,
    ) -> Result<Option<VersionReq>, ManifestError> {
        text.map(parse_requirement)
            .transpose()
            .map_err(|e| self.error(field, e))
    }
}
