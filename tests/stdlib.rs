//! The stdlib packages' own tests (`stdlib/<name>/tests/*_test.lua`), one trial per file, run
//! by `assay test` from the repository's root with the lib path `stdlib/` then the built
//! plugins, as STDLIB.md says. The servers they talk to are started once for the run by
//! `scripts/test` (`scripts/obs-servers`, ...), which exports their addresses; a test whose
//! server is missing fails, saying how to start it.

use std::path::{Path, PathBuf};

use assay_tests::{assay, built_plugins, run, tests_dir};
use libtest_mimic::{Failed, Trial};

fn test_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("_test.lua"))
        })
        .collect();
    files.sort();
    files
}

/// `stdlib/bundle.yaml` is what `scripts/stdlib-bundle.lua` makes of the package manifests.
fn bundle_manifest_matches() -> Result<(), Failed> {
    let mut cmd = assay();
    cmd.args(["scripts/stdlib-bundle.lua", "--check"])
        .current_dir(tests_dir().join(".."));
    let result = run(cmd, None, std::time::Duration::from_secs(30))?;
    if result.code != Some(0) {
        return Err(result.describe().into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![Trial::test(
        "stdlib::bundle_manifest_matches",
        bundle_manifest_matches,
    )];
    trials.extend(package_tests());
    trials
}

fn package_tests() -> Vec<Trial> {
    let repo = tests_dir().join("..");
    let stdlib = repo.join("stdlib");
    let lib_path = format!("{}:{}", stdlib.display(), built_plugins().display());
    let Ok(packages) = std::fs::read_dir(&stdlib) else {
        return Vec::new();
    };
    let mut packages: Vec<PathBuf> = packages
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    packages.sort();
    packages
        .iter()
        .flat_map(|package| test_files(&package.join("tests")))
        .map(|file| {
            let package = file
                .parent()
                .and_then(Path::parent)
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = file
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (repo, lib_path) = (repo.clone(), lib_path.clone());
            let relative = file.strip_prefix(&repo).unwrap_or(&file).to_owned();
            Trial::test(format!("stdlib::{package}::{stem}"), move || {
                crate::run_test_file(&relative, &repo, &lib_path)
            })
        })
        .collect()
}
