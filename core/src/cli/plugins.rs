//! `assay plugins [--json]`: every plugin on the lib path, whether it can be used, and why not.
//! Unlike a script run, this opens every usable plugin's library, so a broken or mismatched
//! library shows up here rather than at a script's first use.

use serde::Serialize;

use crate::LibPath;
use crate::plugin::{CORE_GLOBALS, Found, Status, discover, load};

#[derive(Serialize)]
struct Listing {
    core: String,
    abi: u32,
    roots: Vec<String>,
    plugins: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    version: Option<String>,
    description: Option<String>,
    root: String,
    dir: String,
    library: Option<String>,
    provides: Vec<String>,
    /// `compatible`, `refused` or `shadowed`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shadowed_by: Option<String>,
}

fn entry(found: &Found) -> Entry {
    let manifest = found.manifest();
    let (status, reason, shadowed_by) = match &found.status {
        Status::Usable => match manifest.map(|m| load::load(&found.dir, m)) {
            Some(Ok(_)) => ("compatible", None, None),
            Some(Err(why)) => ("refused", Some(why), None),
            None => ("refused", Some("no manifest".to_owned()), None),
        },
        Status::Refused(why) => ("refused", Some(why.clone()), None),
        Status::Shadowed { by } => ("shadowed", None, Some(by.display().to_string())),
    };
    Entry {
        name: found.name.clone(),
        version: manifest.map(|m| m.version.to_string()),
        description: manifest.map(|m| m.description.clone()),
        root: found.root.display().to_string(),
        dir: found.dir.display().to_string(),
        library: found.library().map(|p| p.display().to_string()),
        provides: manifest.map(|m| m.provides.clone()).unwrap_or_default(),
        status,
        reason,
        shadowed_by,
    }
}

pub fn list(lib_path: &LibPath, json: bool) {
    let listing = Listing {
        core: crate::core_version().to_string(),
        abi: assay_sdk::ABI_VERSION,
        roots: lib_path
            .roots()
            .iter()
            .map(|r| r.display().to_string())
            .collect(),
        plugins: discover(lib_path, CORE_GLOBALS).iter().map(entry).collect(),
    };
    if json {
        match serde_json::to_string_pretty(&listing) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("assay: plugins: {e}"),
        }
        return;
    }
    if listing.plugins.is_empty() {
        println!("no plugins found; lib path: {}", listing.roots.join(":"));
        return;
    }
    for p in &listing.plugins {
        let version = p.version.as_deref().unwrap_or("?");
        let verdict = match (p.status, &p.reason, &p.shadowed_by) {
            (_, Some(reason), _) => format!("refused: {reason}"),
            (_, _, Some(by)) => format!("shadowed by {by}"),
            _ => "compatible".to_owned(),
        };
        println!(
            "{:<12} {:<8} provides {:<20} {verdict}\n             in {}",
            p.name,
            version,
            p.provides.join(", "),
            p.dir
        );
    }
}
