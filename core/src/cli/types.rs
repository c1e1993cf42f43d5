//! `assay types [DIR]`: LuaCATS definitions for editors and type checkers (`crate::types`).

use std::path::Path;

use super::Failure;
use super::spec::Matches;

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    let dir = Path::new(matches.positionals.first().map_or(".", String::as_str));
    let lib_path = super::roots_for(dir);
    let summary = crate::types::write(dir, &lib_path).map_err(|e| Failure {
        message: format!("assay: types: {e}"),
        code: 1,
    })?;
    let listed = |names: &[String]| match names.is_empty() {
        true => "none".to_owned(),
        false => names.join(", "),
    };
    println!(
        "wrote {} files to {}\n  core: {}\n  plugins: {}\n  packages: {}",
        summary.files,
        summary.types_dir.display(),
        summary.core.len(),
        listed(&summary.plugins),
        listed(&summary.packages),
    );
    let verb = if summary.luarc_created {
        "made"
    } else {
        "updated"
    };
    println!("{verb} {}", summary.luarc.display());
    for name in &summary.plugins_without_types {
        eprintln!(
            "assay: types: plugin '{name}' ships no definitions (types.lua beside its manifest); \
             its global stays unknown to the checker"
        );
    }
    Ok(0)
}
