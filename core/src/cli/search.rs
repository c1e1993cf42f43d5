//! `assay search [TERM] [--json]`: packages of the registries whose name or description holds
//! TERM.

use std::path::Path;

use super::Failure;
use super::spec::Matches;
use crate::install::plan::Project;
use crate::install::source::Sources;

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    let fail = |message: String| Failure {
        message: format!("assay: search: {message}"),
        code: 1,
    };
    let project = Project::find(Path::new(".")).map_err(fail)?;
    let registries = super::install::registries(matches, project.as_ref()).map_err(fail)?;
    if registries.is_empty() {
        return Err(fail(
            "no registry to search: pass --registry URL, set ASSAY_REGISTRY, or list registries in assay.yaml".into(),
        ));
    }
    let term = matches
        .positionals
        .first()
        .map(|t| t.to_lowercase())
        .unwrap_or_default();
    let mut sources = Sources::new(registries.clone(), super::roots_for(Path::new(".")));
    let (index, origins) = sources.everything().map_err(|e| fail(e.to_string()))?;
    let found: Vec<_> = index
        .packages
        .iter()
        .filter_map(|(name, versions)| Some((name, versions.first()?, versions)))
        .filter(|(name, newest, _)| {
            name.to_lowercase().contains(&term) || newest.description.to_lowercase().contains(&term)
        })
        .collect();
    if matches.has("json") {
        let list: Vec<serde_json::Value> = found
            .iter()
            .map(|(name, newest, versions)| {
                serde_json::json!({
                    "name": name,
                    "version": newest.version.to_string(),
                    "description": newest.description,
                    "versions": versions.iter().map(|e| e.version.to_string()).collect::<Vec<_>>(),
                    "registry": origins.get(*name).map(|i| registries[*i].display()),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(0);
    }
    if found.is_empty() {
        eprintln!("no package matches '{term}'");
        return Ok(1);
    }
    let width = found
        .iter()
        .map(|(n, e, _)| n.len() + e.version.to_string().len())
        .max()
        .unwrap_or(0);
    for (name, newest, _) in &found {
        let head = format!("{name} {}", newest.version);
        println!("{head:<width$}  {}", newest.description, width = width + 1);
    }
    Ok(0)
}
