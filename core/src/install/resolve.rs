//! Which versions to install: the requested packages and their dependencies, together.
//!
//! Every requirement on a package (the user's, and each chosen package's `depends`) must hold
//! at once; the newest version that satisfies all of them and whose `requires.assay` accepts
//! this core is chosen. The resolution runs to a fixed point: when a later requirement rules
//! out a version chosen earlier, that package is chosen again under all its requirements (and
//! the dependencies of a replaced version no longer count). When no version fits, the error
//! says who wants what and which versions exist, as cargo's does:
//!
//! ```text
//! no version of k8s satisfies every requirement:
//!   ^0.2 (you asked)
//!   >=0.1, <0.2 (crossplane 0.1.0)
//! versions in the registry: 0.2.1, 0.1.3 (0.3.0 needs assay >=0.3)
//! ```
//!
//! It does not backtrack into other versions of the packages that made the requirements (pip's
//! resolver does): a conflict between two chosen packages is reported for the user to settle
//! with an explicit version. Bounded: a package is re-chosen at most 64 times.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};

use super::index::{Entry, Index};

/// Who made a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    User,
    Package(String, Version),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::User => write!(f, "you asked"),
            Origin::Package(name, version) => write!(f, "{name} {version}"),
        }
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("package '{name}' is in no registry ({wanted_by})")]
    Unknown { name: String, wanted_by: String },
    /// No version of `package` fits every requirement.
    #[error("{text}")]
    Conflict { package: String, text: String },
}

/// The chosen versions, by name.
pub type Plan = BTreeMap<String, Entry>;

/// Chooses a version of each package `wanted` names, and of their dependencies, for core
/// version `core`.
pub fn resolve(
    index: &Index,
    wanted: &[(String, VersionReq)],
    core: &Version,
) -> Result<Plan, ResolveError> {
    let mut requirements: BTreeMap<String, Vec<(VersionReq, Origin)>> = BTreeMap::new();
    for (name, req) in wanted {
        requirements
            .entry(name.clone())
            .or_default()
            .push((req.clone(), Origin::User));
    }
    let mut plan = Plan::new();
    let mut rounds: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        // The first package whose choice is missing or no longer fits.
        drop_unrequired(&mut plan, &mut requirements);
        let stale = requirements.iter().find(|(name, reqs)| {
            !reqs.is_empty()
                && plan
                    .get(*name)
                    .is_none_or(|chosen| !reqs.iter().all(|(r, _)| r.matches(&chosen.version)))
        });
        let Some((name, reqs)) = stale else { break };
        let name = name.clone();
        let round = rounds.entry(name.clone()).or_default();
        *round += 1;
        if *round > 64 {
            return Err(ResolveError::Conflict {
                text: format!(
                    "the requirements on {name} keep changing: settle its version explicitly"
                ),
                package: name,
            });
        }
        let chosen = choose(index, &name, reqs, core)?.clone();
        // A replaced version's own requirements go with it.
        if let Some(old) = plan.remove(&name) {
            let origin = Origin::Package(old.name.clone(), old.version.clone());
            for list in requirements.values_mut() {
                list.retain(|(_, o)| *o != origin);
            }
        }
        let origin = Origin::Package(chosen.name.clone(), chosen.version.clone());
        for (dep, req) in &chosen.depends {
            requirements
                .entry(dep.clone())
                .or_default()
                .push((req.clone(), origin.clone()));
        }
        plan.insert(name, chosen);
    }
    Ok(plan)
}

/// Takes out of the plan the packages nothing requires any more (their requirer was
/// replaced), and their own requirements with them, until none is left.
fn drop_unrequired(
    plan: &mut Plan,
    requirements: &mut BTreeMap<String, Vec<(VersionReq, Origin)>>,
) {
    loop {
        let orphan = plan
            .keys()
            .find(|name| requirements.get(*name).is_none_or(Vec::is_empty))
            .cloned();
        let Some(name) = orphan else { return };
        if let Some(gone) = plan.remove(&name) {
            let origin = Origin::Package(gone.name, gone.version);
            for list in requirements.values_mut() {
                list.retain(|(_, o)| *o != origin);
            }
        }
    }
}

/// The newest version of `name` meeting every requirement and this core.
fn choose<'a>(
    index: &'a Index,
    name: &str,
    reqs: &[(VersionReq, Origin)],
    core: &Version,
) -> Result<&'a Entry, ResolveError> {
    let versions = index.versions(name);
    if versions.is_empty() {
        let wanted_by = reqs
            .iter()
            .map(|(_, o)| match o {
                Origin::User => "you asked for it".to_owned(),
                package => format!("{package} depends on it"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ResolveError::Unknown {
            name: name.to_owned(),
            wanted_by,
        });
    }
    let fits = |e: &Entry| e.requires_assay.as_ref().is_none_or(|r| r.matches(core));
    if let Some(found) = versions
        .iter()
        .find(|e| fits(e) && reqs.iter().all(|(r, _)| r.matches(&e.version)))
    {
        return Ok(found);
    }
    let mut text = format!("no version of {name} satisfies every requirement:");
    for (req, origin) in reqs {
        text.push_str(&format!("\n  {req} ({origin})"));
    }
    let listed: Vec<String> = versions
        .iter()
        .map(|e| match (&e.requires_assay, fits(e)) {
            (Some(r), false) => format!("{} (needs assay {r})", e.version),
            _ => e.version.to_string(),
        })
        .collect();
    text.push_str(&format!(
        "\nversions in the registry: {} (this is assay {core})",
        listed.join(", ")
    ));
    Err(ResolveError::Conflict {
        package: name.to_owned(),
        text,
    })
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
