//! `assay publish DIR --registry oci://host/path`: the package packed as `assay package` packs
//! it, pushed as an OCI artifact (`install::oci`).

use std::path::Path;

use super::Failure;
use super::spec::Matches;
use crate::install::archive;
use crate::install::oci;
use crate::install::remote::Remote;
use crate::install::source::Registry;

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    let fail = |message: String| Failure {
        message: format!("assay: publish: {message}"),
        code: 1,
    };
    let dir = Path::new(matches.positionals.first().map_or(".", String::as_str));
    let here = std::env::current_dir().map_err(|e| fail(e.to_string()))?;
    let registry = match matches.value("registry") {
        Some(text) => Registry::parse(text, &here)
            .map(Registry::with_credentials_from_env)
            .map_err(|e| fail(e.to_string()))?,
        None => {
            return Err(Failure::usage(
                "publish: --registry oci://host/path is required",
            ));
        }
    };
    let Registry::Oci(registry) = registry else {
        return Err(fail(
            "publish pushes to an OCI registry (oci:// or oci+http://); for a static registry, use assay package and scripts/registry.lua".into(),
        ));
    };
    let packed = archive::pack(dir).map_err(|e| fail(e.to_string()))?;
    let entry = packed.entry();
    if !entry.version.build.is_empty() {
        return Err(fail(format!(
            "{} {}: an OCI tag cannot hold build metadata ('+{}'): publish a version without it",
            entry.name, entry.version, entry.version.build
        )));
    }
    let remote = Remote::new(super::roots_for(Path::new("."))).map_err(fail)?;
    let name = format!("{} {}", entry.name, entry.version);
    // A published version is never replaced by other bytes.
    let existing = oci::versions(&remote, &registry, &entry.name).map_err(fail)?;
    if let Some(old) = existing
        .iter()
        .flatten()
        .find(|e| e.version == entry.version)
    {
        if old.sha256 == entry.sha256 {
            eprintln!("{name} is already in {} (same sha256)", registry.display());
            return Ok(0);
        }
        return Err(fail(format!(
            "{name} is already in {} with other bytes (sha256 {}, this is {}): publish a new version",
            registry.display(),
            old.sha256,
            entry.sha256
        )));
    }
    let digest = oci::push(&remote, &registry, &entry, &packed.bytes).map_err(fail)?;
    eprintln!(
        "published {name} to {}/{}:{} ({digest})",
        registry.display(),
        entry.name,
        entry.version
    );
    Ok(0)
}
