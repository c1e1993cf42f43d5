//! `assay remove PKG...`: out of a project (its dependencies, lock and `lua_modules/`), or,
//! outside a project, out of `--root`.

use std::path::Path;

use super::Failure;
use super::spec::Matches;
use crate::install::plan::{Mode, Project};
use crate::install::store::{self, Root};

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    let names = matches.positionals.clone();
    let fail = |message: String| Failure {
        message: format!("assay: remove: {message}"),
        code: 1,
    };
    let in_project = Project::find(Path::new(".")).map_err(fail)?.is_some();
    if in_project && matches.value("root").is_none() {
        return super::install::execute("remove", matches, Mode::Remove(names));
    }
    let Some(dir) = matches.value("root") else {
        return Err(fail(
            "no project here (assay.yaml): pass --root DIR to remove from a lib-path root".into(),
        ));
    };
    let dir = Path::new(dir);
    let installed = store::installed(dir);
    for name in &names {
        if !installed.contains_key(name) {
            return Err(fail(format!(
                "{name} is not installed in {}",
                dir.display()
            )));
        }
        let needed_by: Vec<String> = installed
            .values()
            .filter(|m| !names.contains(&m.name) && m.depends.contains_key(name))
            .map(|m| format!("{} {}", m.name, m.version))
            .collect();
        if !needed_by.is_empty() && !matches.has("force") {
            return Err(fail(format!(
                "{name} is needed by {} in {}: remove that too, or pass --force",
                needed_by.join(", "),
                dir.display()
            )));
        }
    }
    if matches.has("dry-run") {
        for name in &names {
            println!("would remove {name} {}", installed[name].version);
        }
        return Ok(0);
    }
    let root = Root::open(dir).map_err(|e| fail(e.to_string()))?;
    for name in &names {
        root.remove(name).map_err(|e| fail(e.to_string()))?;
        if !matches.has("quiet") {
            eprintln!("remove {name} {}", installed[name].version);
        }
    }
    Ok(0)
}
