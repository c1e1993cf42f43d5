// Test helpers unwrap: a failure there is the test failing.
#![allow(clippy::unwrap_used)]

use super::*;

fn entry(
    name: &str,
    version: &str,
    assay: Option<&str>,
    depends: &[(&str, &str)],
) -> serde_json::Value {
    let deps: serde_json::Map<String, serde_json::Value> = depends
        .iter()
        .map(|(d, r)| ((*d).to_owned(), serde_json::Value::String((*r).to_owned())))
        .collect();
    serde_json::json!({"name": name, "version": version, "requires": {"assay": assay},
        "depends": deps, "sha256": "0".repeat(64), "size": 1, "file": format!("{name}-{version}.tar.gz")})
}

fn index(entries: &[serde_json::Value]) -> Index {
    let mut packages: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for e in entries {
        packages
            .entry(e["name"].as_str().unwrap().to_owned())
            .or_default()
            .push(e.clone());
    }
    Index::parse(&serde_json::json!({"format": 1, "packages": packages}).to_string()).unwrap()
}

fn want(list: &[(&str, &str)]) -> Vec<(String, VersionReq)> {
    list.iter()
        .map(|(n, r)| ((*n).to_owned(), VersionReq::parse(r).unwrap()))
        .collect()
}

fn versions(plan: &Plan) -> Vec<String> {
    plan.values()
        .map(|e| format!("{} {}", e.name, e.version))
        .collect()
}

fn core() -> Version {
    Version::new(0, 1, 0)
}

#[test]
fn dependencies_come_along_at_their_newest_fitting_version() {
    let idx = index(&[
        entry("apiclient", "0.1.0", None, &[]),
        entry("apiclient", "0.1.4", None, &[]),
        entry("apiclient", "0.2.0", None, &[]),
        entry(
            "k8s",
            "0.1.0",
            Some(">=0.1, <0.2"),
            &[("apiclient", ">=0.1, <0.2")],
        ),
        entry("crossplane", "0.1.0", None, &[("k8s", ">=0.1, <0.2")]),
    ]);
    let plan = resolve(&idx, &want(&[("crossplane", "*")]), &core()).unwrap();
    assert_eq!(
        versions(&plan),
        ["apiclient 0.1.4", "crossplane 0.1.0", "k8s 0.1.0"]
    );
}

#[test]
fn a_version_for_another_core_is_skipped() {
    let idx = index(&[
        entry("k8s", "0.1.0", Some(">=0.1, <0.2"), &[]),
        entry("k8s", "0.2.0", Some(">=0.2"), &[]),
    ]);
    let plan = resolve(&idx, &want(&[("k8s", "*")]), &core()).unwrap();
    assert_eq!(versions(&plan), ["k8s 0.1.0"]);
    let e = resolve(&idx, &want(&[("k8s", "^0.2")]), &core())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no version of k8s satisfies every requirement:\n  ^0.2 (you asked)"),
        "{e}"
    );
    assert!(
        e.contains(
            "versions in the registry: 0.2.0 (needs assay >=0.2), 0.1.0 (this is assay 0.1.0)"
        ),
        "{e}"
    );
}

#[test]
fn a_conflict_names_who_wants_what() {
    let idx = index(&[
        entry("k8s", "0.1.0", None, &[]),
        entry("k8s", "0.2.0", None, &[]),
        entry("crossplane", "0.1.0", None, &[("k8s", ">=0.1, <0.2")]),
    ]);
    let e = resolve(
        &idx,
        &want(&[("k8s", "^0.2"), ("crossplane", "*")]),
        &core(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("no version of k8s satisfies every requirement:"),
        "{e}"
    );
    assert!(e.contains("^0.2 (you asked)"), "{e}");
    assert!(e.contains(">=0.1, <0.2 (crossplane 0.1.0)"), "{e}");
    assert!(e.contains("versions in the registry: 0.2.0, 0.1.0"), "{e}");
    let e = resolve(&idx, &want(&[("nothere", "*")]), &core())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "package 'nothere' is in no registry (you asked for it)");
}

#[test]
fn a_later_requirement_replaces_an_earlier_choice_and_its_dependencies() {
    // a wants b ^1 (b 1.1 needs old 1), c wants b =1.0.0 (b 1.0 needs nothing)
    let idx = index(&[
        entry("old", "1.0.0", None, &[]),
        entry("b", "1.0.0", None, &[]),
        entry("b", "1.1.0", None, &[("old", "^1")]),
        entry("a", "1.0.0", None, &[("b", "^1")]),
        entry("c", "1.0.0", None, &[("b", "=1.0.0")]),
    ]);
    let plan = resolve(&idx, &want(&[("a", "*"), ("c", "*")]), &core()).unwrap();
    // `old` came with b 1.1.0 and went with it
    assert_eq!(versions(&plan), ["a 1.0.0", "b 1.0.0", "c 1.0.0"]);
}

#[test]
fn a_broken_index_is_refused_naming_the_entry() {
    let bad = |e: serde_json::Value| {
        Index::parse(&serde_json::json!({"format": 1, "packages": {"k8s": [e]}}).to_string())
            .unwrap_err()
            .to_string()
    };
    let mut e = entry("k8s", "0.1.0", None, &[]);
    e["sha256"] = "abc".into();
    assert!(bad(e).contains("k8s 0.1.0: sha256 'abc' is not 64 hex digits"));
    let mut e = entry("k8s", "0.1.0", None, &[]);
    e["file"] = "../../etc/passwd".into();
    assert!(bad(e).contains("must be a plain file name beside the index"));
    let e = entry("vault", "0.1.0", None, &[]);
    assert!(bad(e).contains("the entry is for package 'vault'"));
    let e = entry("k8s", "one", None, &[]);
    assert!(bad(e).contains("k8s one: version:"));
    // A name is a folder under the root: nothing that could leave it.
    let named = |name: &str| {
        let e = entry(name, "0.1.0", None, &[]);
        Index::parse(&serde_json::json!({"format": 1, "packages": {name: [e]}}).to_string())
            .unwrap_err()
            .to_string()
    };
    assert!(named("../evil").contains("'../evil' is not a package name"));
    assert!(named("Up").contains("'Up' is not a package name"));
    let e = entry("k8s", "0.1.0", None, &[("../x", "1")]);
    assert!(bad(e).contains("depends: '../x' is not a package name"));
    assert!(
        Index::parse(r#"{"format": 2}"#)
            .unwrap_err()
            .to_string()
            .contains("format 2")
    );
}
