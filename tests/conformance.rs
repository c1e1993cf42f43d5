//! Conformance against public suites and reference implementations: JSON parsing against
//! JSONTestSuite; YAML scalars against gopkg.in/yaml.v2 (Kubernetes' YAML decoder), whose
//! answers are recorded in `conformance/yaml-reference/` (see its README to regenerate them).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use assay_tests::{assay, run, tests_dir};
use libtest_mimic::{Failed, Trial};

/// Where the suite's cases are kept between runs (fetched once from the npm registry).
fn cases_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("assay-json-test-suite")
}

/// Every `y_` case parses, every `n_` case is refused; `i_` cases may go either way but must
/// not crash the runtime.
fn json_test_suite() -> Result<(), Failed> {
    let dir = cases_dir();
    let fetch = tests_dir().join("conformance/fetch-json-test-suite");
    let mut cmd = Command::new(&fetch);
    cmd.arg(&dir);
    let fetched = run(cmd, None, Duration::from_secs(300))?;
    if fetched.code != Some(0) {
        return Err(format!("fetching JSONTestSuite failed\n{}", fetched.describe()).into());
    }
    let mut cmd = assay();
    cmd.arg(tests_dir().join("conformance/json_test_suite.lua"))
        .arg(&dir);
    let result = run(cmd, None, Duration::from_secs(120))?;
    if result.code != Some(0) {
        return Err(format!("the runner failed\n{}", result.describe()).into());
    }
    let mut wrong = Vec::new();
    let mut counted = 0;
    for line in result.stdout.lines() {
        let Some((name, verdict)) = line.split_once('\t') else {
            continue;
        };
        counted += 1;
        let expected = match &name[..2] {
            "y_" => "accepted",
            "n_" => "refused",
            _ => continue,
        };
        if verdict != expected {
            wrong.push(format!("{name}: {verdict}, expected {expected}"));
        }
    }
    if counted < 250 {
        return Err(format!(
            "only {counted} cases ran; the suite has about 290\n{}",
            result.describe()
        )
        .into());
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {counted} cases wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        )
        .into())
    }
}

/// Every scalar of the corpus means under `yaml.parse` what it means to yaml.v2.
fn yaml_reference() -> Result<(), Failed> {
    let mut cmd = assay();
    cmd.arg(tests_dir().join("conformance/yaml_reference.lua"))
        .arg(tests_dir().join("conformance/yaml-reference/scalars.tsv"));
    let result = run(cmd, None, Duration::from_secs(60))?;
    let last = result.stdout.lines().last().unwrap_or("");
    let counted: usize = last
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if result.code != Some(0) || counted < 140 {
        return Err(format!("yaml.parse differs from yaml.v2\n{}", result.describe()).into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("conformance::json_test_suite", json_test_suite),
        Trial::test("conformance::yaml_reference", yaml_reference),
    ]
}
