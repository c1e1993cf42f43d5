//! For a plugin's build script: writes the plugin's `manifest.yaml` from Cargo metadata, so
//! the manifest is never kept by hand.
//!
//! ```toml
//! # Cargo.toml of the plugin
//! [package]
//! name = "assay-plugin-hello"
//! version = "0.1.0"
//! description = "Greetings"
//!
//! [package.metadata.assay]
//! name = "hello"              # default: the package name
//! provides = ["hello"]        # default: [name]
//! requires-assay = ">=0.1"    # default: the SDK's release line, e.g. ">=0.1.0-0, <0.2.0"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [build-dependencies]
//! assay-sdk = { version = "0.1", default-features = false, features = ["build"] }
//! ```
//!
//! ```no_run
//! // build.rs: `fn main() { ... }` around this line
//! assay_sdk::build::write_manifest().expect("plugin manifest");
//! ```
//!
//! **Type definitions.** A plugin describes its API to editors and type checkers in `types.lua`
//! beside its `Cargo.toml`: a LuaCATS meta file (first line `---@meta _`) declaring each global
//! it provides (`hello = {}` with `---@class`, `---@param` and `---@return` on its functions;
//! see `examples/plugin-hello/types.lua` and `plugins/*/types.lua`). The build checks it (it
//! must start with `---@meta`; a provided global it does not declare is a build warning) and
//! places it beside the manifest, where `assay types` finds it on every lib-path root and copies
//! it into a project's `.assay/types/plugins/<name>.lua`. Ship it with the plugin's folder. A
//! plugin without one builds, with a warning: editors then know nothing of its global.
//!
//! The manifest goes to `$OUT_DIR/manifest.yaml` and into a lib-path root that cargo's output
//! folder doubles as: `target/<profile>/assay-lib/plugins/<name>/manifest.yaml`, beside a
//! symbolic link to the library cargo is about to link (`target/<profile>/lib<crate>.so`). So
//! right after `cargo build`, `ASSAY_LIB_PATH=target/debug/assay-lib assay script.lua` uses the
//! plugin, and installing it means copying that folder (links followed) into a lib-path root.
//! The build also sets `ASSAY_PLUGIN_NAME` for [`crate::plugin!`].

use std::path::{Path, PathBuf};

use assay_manifest::{
    PluginManifest, Requires, default_core_requirement, parse_requirement, quote,
};

/// Why the manifest could not be written.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "assay plugin manifest: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

fn env(name: &str) -> Result<String, BuildError> {
    std::env::var(name)
        .map_err(|_| BuildError(format!("${name} is not set (run from a build script)")))
}

/// Writes the manifest; returns its path under `target/`.
pub fn write_manifest() -> Result<PathBuf, BuildError> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let cargo_toml = manifest_dir.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", cargo_toml.display());
    let text = std::fs::read_to_string(&cargo_toml)
        .map_err(|e| BuildError(format!("{}: {e}", cargo_toml.display())))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| BuildError(format!("{}: {e}", cargo_toml.display())))?;
    let manifest = manifest_from(&doc)?;

    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let yaml = manifest.to_yaml();
    write(&out_dir.join("manifest.yaml"), &yaml)?;
    // OUT_DIR is target/<profile>/build/<pkg>-<hash>/out.
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .ok_or_else(|| BuildError(format!("unexpected OUT_DIR {}", out_dir.display())))?;
    let plugin_dir = profile_dir
        .join("assay-lib")
        .join("plugins")
        .join(&manifest.name);
    let installed = plugin_dir.join("manifest.yaml");
    write(&installed, &yaml)?;
    link_library(&plugin_dir, &manifest.library)?;
    place_types(&manifest_dir, &out_dir, &plugin_dir, &manifest.provides)?;
    println!("cargo:rustc-env=ASSAY_PLUGIN_NAME={}", manifest.name);
    Ok(installed)
}

/// The name of a plugin's definitions file, beside its `Cargo.toml` and then its manifest.
pub const TYPES_FILE: &str = "types.lua";

/// Checks the plugin's `types.lua` and puts it beside the manifest (see the module docs); a
/// stale copy goes when the file does.
fn place_types(
    manifest_dir: &Path,
    out_dir: &Path,
    plugin_dir: &Path,
    provides: &[String],
) -> Result<(), BuildError> {
    let source = manifest_dir.join(TYPES_FILE);
    let placed = plugin_dir.join(TYPES_FILE);
    if !source.is_file() {
        // Watch the folder, so a `types.lua` added later is picked up.
        println!("cargo:rerun-if-changed={}", manifest_dir.display());
        println!(
            "cargo:warning=no {TYPES_FILE} beside Cargo.toml: `assay types` cannot tell editors \
             about this plugin's API (see assay_sdk::build)"
        );
        let _ = std::fs::remove_file(&placed);
        return Ok(());
    }
    println!("cargo:rerun-if-changed={}", source.display());
    let text = std::fs::read_to_string(&source)
        .map_err(|e| BuildError(format!("{}: {e}", source.display())))?;
    for global in check_types(&text, provides)
        .map_err(|why| BuildError(format!("{}: {why}", source.display())))?
    {
        println!(
            "cargo:warning={TYPES_FILE} does not declare the global '{global}' this plugin \
             provides (a line `{global} = {{}}`)"
        );
    }
    write(&out_dir.join(TYPES_FILE), &text)?;
    write(&placed, &text)
}

/// Checks a plugin's definitions: an error when they are not a LuaCATS meta file; else the
/// provided globals they do not declare (no line starting with `<global> =`).
pub fn check_types(text: &str, provides: &[String]) -> Result<Vec<String>, String> {
    if !text.trim_start().starts_with("---@meta") {
        return Err("not a LuaCATS meta file: the first line must be `---@meta _`".into());
    }
    let declares = |global: &str| {
        text.lines().any(|line| {
            line.strip_prefix(global)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    };
    Ok(provides.iter().filter(|g| !declares(g)).cloned().collect())
}

/// `<plugin_dir>/<library>` -> `../../../<library>` (the file cargo links into the profile
/// folder). Where links are not available the folder holds the manifest only.
fn link_library(plugin_dir: &Path, library: &str) -> Result<(), BuildError> {
    let link = plugin_dir.join(library);
    let target = Path::new("../../..").join(library);
    #[cfg(unix)]
    {
        if std::fs::read_link(&link).is_ok_and(|existing| existing == target) {
            return Ok(());
        }
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link)
            .map_err(|e| BuildError(format!("{}: {e}", link.display())))?;
    }
    #[cfg(not(unix))]
    let _ = (link, target);
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), BuildError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| BuildError(format!("{}: {e}", dir.display())))?;
    }
    std::fs::write(path, text).map_err(|e| BuildError(format!("{}: {e}", path.display())))
}

fn manifest_from(doc: &toml::Table) -> Result<PluginManifest, BuildError> {
    let package = doc.get("package").and_then(|p| p.as_table());
    let metadata = package
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("assay"))
        .and_then(|a| a.as_table());
    let meta_str = |key: &str| -> Result<Option<String>, BuildError> {
        match metadata.and_then(|m| m.get(key)) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(BuildError(format!(
                "[package.metadata.assay] {key} must be a string"
            ))),
        }
    };
    let package_name = env("CARGO_PKG_NAME")?;
    let name = meta_str("name")?.unwrap_or_else(|| package_name.clone());
    let provides = match metadata.and_then(|m| m.get("provides")) {
        None => vec![name.clone()],
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                BuildError("[package.metadata.assay] provides must list strings".into())
            })?,
        Some(_) => {
            return Err(BuildError(
                "[package.metadata.assay] provides must be a list".into(),
            ));
        }
    };
    let sdk_version = semver::Version::parse(env!("CARGO_PKG_VERSION"))
        .map_err(|e| BuildError(format!("SDK version: {e}")))?;
    let requirement = match meta_str("requires-assay")? {
        Some(text) => parse_requirement(&text).map_err(BuildError)?,
        None => default_core_requirement(&sdk_version),
    };
    let lib_name = doc
        .get("lib")
        .and_then(|l| l.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| package_name.replace('-', "_"));
    let (prefix, suffix) = match env("CARGO_CFG_TARGET_OS")?.as_str() {
        "macos" | "ios" => ("lib", ".dylib"),
        "windows" => ("", ".dll"),
        _ => ("lib", ".so"),
    };
    let text = format!(
        "name: {name}\nversion: {}\ndescription: {}\nlibrary: {prefix}{lib_name}{suffix}\nprovides: [{}]\nabi: {}\n",
        env("CARGO_PKG_VERSION")?,
        quote(&std::env::var("CARGO_PKG_DESCRIPTION").unwrap_or_default()),
        provides
            .iter()
            .map(|p| quote(p))
            .collect::<Vec<_>>()
            .join(", "),
        crate::ABI_VERSION,
    );
    let mut manifest = PluginManifest::parse(&text).map_err(|e| BuildError(e.to_string()))?;
    manifest.requires = Requires {
        assay: Some(requirement),
    };
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::check_types;

    #[test]
    fn definitions_are_meta_files_declaring_each_global() {
        let provides = ["hello".to_owned(), "hi".to_owned()];
        let text = "---@meta _\n---@class hello\nhello = {}\nhi={}\n";
        assert_eq!(check_types(text, &provides), Ok(Vec::new()));
        let partial = "---@meta _\nhello = {}\nlocal hi = 1\nhello_x = 2\n";
        assert_eq!(check_types(partial, &provides), Ok(vec!["hi".to_owned()]));
        let err = check_types("hello = {}\n", &provides).expect_err("no meta line");
        assert!(err.contains("---@meta"), "{err}");
    }
}
