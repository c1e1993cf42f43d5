//! The template plugin against Jinja2: every template of `tests/template/corpus` rendered by
//! both, with the same variables (`vars.json`), must give the same bytes (or the same
//! failure: both raise). Jinja2 runs in the venv of `tests/conformance/ensure-python`
//! (`tests/conformance/jinja_peer.py`), the plugin through `tests/template/render_corpus.lua`.
//! A difference that is minijinja's and cannot be helped is listed in `DIVERGENCES` with its
//! reason. Not in the corpus, by design: a dict iterates in sorted key order (a Lua table has
//! no order; Jinja2 keeps the JSON's), and `render_string` does not autoescape (Jinja2's
//! `select_autoescape` escapes string templates by default; ours is for manifests and configs
//! as much as HTML: pass `autoescape = true`).
//!
//! Also here: `to_yaml` read back by PyYAML (`tests/conformance/yaml_check.py`) gives the data
//! it was made from, for 70 strings chosen to trip YAML readers, keys, numbers and nesting.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use assay_tests::{assay_with_plugin, conformance_python, run};
use serde_json::Value;

/// Templates whose output is known to differ from Jinja2's, and why.
const DIVERGENCES: &[(&str, &str)] = &[(
    "53_import_context.j2",
    "minijinja evaluates an imported template with the importer's variables; Jinja2 imports \
     without context unless `with context` is written",
)];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn outputs(cmd: Command, who: &str) -> serde_json::Map<String, Value> {
    let done = run(cmd, None, Duration::from_secs(120)).unwrap_or_else(|e| panic!("{who}: {e}"));
    assert_eq!(done.code, Some(0), "{who} failed:\n{}", done.describe());
    match serde_json::from_str(&done.stdout) {
        Ok(Value::Object(map)) => map,
        _ => panic!("{who} did not print a JSON object:\n{}", done.describe()),
    }
}

#[test]
fn the_corpus_renders_as_jinja2_renders_it() {
    let corpus = repo().join("tests/template/corpus");
    let mut jinja = Command::new(conformance_python());
    jinja
        .arg(repo().join("tests/conformance/jinja_peer.py"))
        .arg(&corpus);
    let expected = outputs(jinja, "Jinja2");
    let mut assay = assay_with_plugin("template");
    assay
        .arg(repo().join("tests/template/render_corpus.lua"))
        .arg(&corpus);
    let got = outputs(assay, "assay");
    assert!(
        expected.len() >= 40,
        "the corpus has {} templates",
        expected.len()
    );
    let mut differ = Vec::new();
    for (name, want) in &expected {
        let have = got.get(name).unwrap_or(&Value::Null);
        let same = match (want, have) {
            (Value::String(a), Value::String(b)) => a == b,
            // Both fail (their messages differ by design).
            (Value::Object(_), Value::Object(_)) => true,
            _ => false,
        };
        let known = DIVERGENCES.iter().any(|(n, _)| n == name);
        if same && known {
            differ.push(format!(
                "{name}: listed as a divergence but renders the same now"
            ));
        }
        if !same && !known {
            differ.push(format!("{name}:\n  Jinja2: {want}\n  assay:  {have}"));
        }
    }
    assert!(
        differ.is_empty(),
        "differences from Jinja2:\n{}",
        differ.join("\n")
    );
}

#[test]
fn to_yaml_reads_back_as_the_data_it_was_made_from() {
    let cases = repo().join("tests/template/yaml_cases.json");
    let dir = std::env::temp_dir().join(format!("assay-to-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let written = dir.join("cases.yaml");
    let mut assay = assay_with_plugin("template");
    assay
        .arg(repo().join("tests/template/to_yaml.lua"))
        .arg(&cases)
        .arg(&written);
    let done = run(assay, None, Duration::from_secs(60)).expect("assay runs");
    assert_eq!(done.code, Some(0), "{}", done.describe());
    let mut check = Command::new(conformance_python());
    check
        .arg(repo().join("tests/conformance/yaml_check.py"))
        .arg(&cases)
        .arg(&written);
    let read = run(check, None, Duration::from_secs(60)).expect("python runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        read.code,
        Some(0),
        "PyYAML read back something else:\n{}",
        read.describe()
    );
}
