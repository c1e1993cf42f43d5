//! The Kubernetes examples (`examples/k8s/*.yaml`) against the Kubernetes schemas, with
//! `kubernetes-validate --strict` (from PyPI, through `tests/conformance/ensure-python`): the
//! newest schemas it ships and 1.30, the oldest release the examples promise. A misspelled
//! field must be refused, so the check is known to bite. Each example's pod is also read by
//! `packaging/verify/pod.lua` (what `packaging/build` runs them in the full image with), which
//! checks the promises every example keeps (non-root, read-only root, limits, a server's
//! grace period covering its preStop pause and drain) and lays out its ConfigMap files for the
//! mounts it describes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assay_tests::{assay, conformance_python, run, tests_dir};
use libtest_mimic::{Failed, Trial};

const KUBERNETES_VERSIONS: [&str; 2] = ["1.37.0", "1.30.0"];

fn examples_dir() -> PathBuf {
    tests_dir().join("../examples/k8s")
}

fn validate(file: &Path, version: &str) -> Result<assay_tests::Run, Failed> {
    let validator = conformance_python()
        .parent()
        .ok_or("the venv's python has no folder")?
        .join("kubernetes-validate");
    let mut cmd = std::process::Command::new(validator);
    cmd.args(["--strict", "--quiet", "-k", version]).arg(file);
    Ok(run(cmd, None, Duration::from_secs(120))?)
}

fn example_validates(file: &Path) -> Result<(), Failed> {
    for version in KUBERNETES_VERSIONS {
        let result = validate(file, version)?;
        if result.code != Some(0) || !result.stdout.trim().is_empty() {
            return Err(format!(
                "{} against Kubernetes {version}:\n{}",
                file.display(),
                result.describe()
            )
            .into());
        }
    }
    Ok(())
}

/// A field the schemas do not have is an error (strict mode), naming it.
fn a_misspelled_field_is_refused() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let text = std::fs::read_to_string(examples_dir().join("deployment.yaml"))?;
    assert!(
        text.contains("readinessProbe:"),
        "deployment.yaml has no readinessProbe"
    );
    let bad = dir.path().join("deployment.yaml");
    std::fs::write(&bad, text.replace("readinessProbe:", "readinesProbe:"))?;
    let result = validate(&bad, KUBERNETES_VERSIONS[0])?;
    if result.code == Some(1) && result.stdout.contains("'readinesProbe' was unexpected") {
        Ok(())
    } else {
        Err(format!(
            "expected a refusal naming readinesProbe\n{}",
            result.describe()
        )
        .into())
    }
}

fn pod(file: &Path, volumes: &Path, out: &Path) -> Result<assay_tests::Run, Failed> {
    let mut cmd = assay();
    cmd.arg(tests_dir().join("../packaging/verify/pod.lua"))
        .arg(file)
        .arg(volumes)
        .arg(out);
    Ok(run(cmd, None, Duration::from_secs(30))?)
}

/// pod.lua accepts the example, and the file its args name is where a mount puts it.
fn pod_is_runnable(file: &Path) -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let (volumes, out) = (dir.path().join("volumes"), dir.path().join("pod.json"));
    let result = pod(file, &volumes, &out)?;
    if result.code != Some(0) {
        return Err(result.describe().into());
    }
    let spec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let named = spec["args"]
        .as_array()
        .ok_or("no args")?
        .iter()
        .filter_map(|a| a.as_str())
        .find(|a| a.starts_with('/'))
        .ok_or("the args name no file")?;
    let placed = spec["mounts"]
        .as_array()
        .ok_or("no mounts")?
        .iter()
        .filter(|m| m["type"] == "bind")
        .find_map(|m| {
            let rest = named
                .strip_prefix(m["target"].as_str()?)?
                .strip_prefix('/')?;
            Some(Path::new(m["source"].as_str()?).join(rest))
        })
        .ok_or_else(|| format!("no ConfigMap mount holds {named}"))?;
    if !placed.is_file() {
        return Err(format!("{named} was not laid out from its ConfigMap").into());
    }
    if spec["runAsUser"] != 65532 || spec["readOnlyRootFilesystem"] != true {
        return Err(format!("not run as 65532 on a read-only root: {spec}").into());
    }
    Ok(())
}

/// A server whose drain outlasts the pod's grace period is refused, with the arithmetic.
fn a_short_grace_period_is_refused() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let text = std::fs::read_to_string(examples_dir().join("deployment.yaml"))?;
    let bad = dir.path().join("deployment.yaml");
    std::fs::write(
        &bad,
        text.replace(
            "terminationGracePeriodSeconds: 30",
            "terminationGracePeriodSeconds: 20",
        ),
    )?;
    let result = pod(
        &bad,
        &dir.path().join("rootfs"),
        &dir.path().join("pod.json"),
    )?;
    result
        .expect(
            1,
            "",
            "preStop 5 s + drain 20 s must stay under terminationGracePeriodSeconds 20",
        )
        .map_err(Failed::from)
}

pub fn trials() -> Vec<Trial> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    let mut trials = vec![
        Trial::test(
            "k8s_examples::a_misspelled_field_is_refused",
            a_misspelled_field_is_refused,
        ),
        Trial::test(
            "k8s_examples::a_short_grace_period_is_refused",
            a_short_grace_period_is_refused,
        ),
        Trial::test("k8s_examples::there_are_four", {
            let count = files.len();
            move || {
                if count == 4 {
                    Ok(())
                } else {
                    Err(format!("examples/k8s has {count} manifests, expected 4").into())
                }
            }
        }),
    ];
    for file in files {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let again = file.clone();
        trials.push(Trial::test(
            format!("k8s_examples::{stem}_validates"),
            move || example_validates(&file),
        ));
        trials.push(Trial::test(
            format!("k8s_examples::{stem}_pod_is_runnable"),
            move || pod_is_runnable(&again),
        ));
    }
    trials
}
