use std::path::Path;

use super::luarc::merged;
use super::*;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn a_new_luarc_names_the_version_and_the_library() {
    let v = json(&merged(None).expect("made"));
    assert_eq!(v["runtime"]["version"], "Lua 5.5");
    assert_eq!(v["workspace"]["library"], json(r#"[".assay/types"]"#));
    assert_eq!(v["workspace"]["ignoreDir"], json(r#"["lua_modules"]"#));
}

#[test]
fn merging_keeps_the_users_keys_and_entries() {
    let old = r#"{"diagnostics": {"globals": ["vim"]}, "runtime": {"version": "Lua 5.4",
        "path": ["?.lua"]}, "workspace": {"library": ["/opt/lua"], "checkThirdParty": false,
        "ignoreDir": ["build"]}}"#;
    let v = json(&merged(Some(old)).expect("merged"));
    assert_eq!(v["diagnostics"]["globals"], json(r#"["vim"]"#));
    assert_eq!(v["runtime"]["version"], "Lua 5.5");
    assert_eq!(v["runtime"]["path"], json(r#"["?.lua"]"#));
    assert_eq!(v["workspace"]["checkThirdParty"], false);
    assert_eq!(
        v["workspace"]["library"],
        json(r#"["/opt/lua", ".assay/types"]"#)
    );
    assert_eq!(
        v["workspace"]["ignoreDir"],
        json(r#"["build", "lua_modules"]"#)
    );
    // Merging again changes nothing.
    let again = merged(Some(&v.to_string())).expect("merged");
    assert_eq!(json(&again), v);
}

#[test]
fn flat_keys_are_updated_in_place() {
    let old = r#"{"runtime.version": "LuaJIT", "workspace.library": ["./.assay/types/"]}"#;
    let v = json(&merged(Some(old)).expect("merged"));
    assert_eq!(v["runtime.version"], "Lua 5.5");
    assert_eq!(v["workspace.library"], json(r#"["./.assay/types/"]"#));
    assert_eq!(v["workspace.ignoreDir"], json(r#"["lua_modules"]"#));
    assert!(v.get("runtime").is_none() && v.get("workspace").is_none());
}

#[test]
fn a_broken_luarc_is_refused_with_its_reason() {
    for (text, reason) in [
        ("{\"runtime\": ", "not valid JSON"),
        ("[1]", "must be a JSON object, not a list"),
        (
            r#"{"workspace": 3}"#,
            "\"workspace\" must be an object of settings, not a number",
        ),
        (
            r#"{"workspace": {"library": ".assay/types"}}"#,
            "workspace.library must be a list of folders, not a string",
        ),
    ] {
        let err = merged(Some(text)).expect_err(text);
        assert!(err.contains(reason), "{text}: {err}");
    }
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under").display().to_string();
                out.push((rel, std::fs::read(&p).expect("file")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn writes_core_plugins_and_packages_the_same_each_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("lib");
    let pkg = root.join("demo");
    std::fs::create_dir_all(pkg.join("tests")).expect("mkdir");
    std::fs::write(pkg.join("init.lua"), "---@class demo\nreturn {}\n").expect("write");
    std::fs::write(pkg.join("sub.lua"), "return 1\n").expect("write");
    std::fs::write(pkg.join("tests/demo_test.lua"), "error()\n").expect("write");
    std::fs::write(pkg.join("README.md"), "docs\n").expect("write");
    // A one-file package, and one shadowed by a folder of the same name in the same root.
    std::fs::write(root.join("single.lua"), "return 2\n").expect("write");
    std::fs::write(root.join("demo.lua"), "return 3\n").expect("write");
    std::fs::create_dir_all(root.join("empty")).expect("mkdir");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("lua_modules/local_pkg")).expect("mkdir");
    std::fs::write(project.join("assay.yaml"), "name: p\n").expect("write");
    std::fs::write(
        project.join("lua_modules/local_pkg/init.lua"),
        "return {}\n",
    )
    .expect("w");
    // The project's lua_modules is found from a folder inside it, and comes first.
    let inside = project.join("src");
    std::fs::create_dir_all(&inside).expect("mkdir");
    let lib_path = LibPath::from_roots([root.clone()]);
    assert_eq!(
        with_project_root(&inside, &lib_path).roots()[0],
        std::path::absolute(project.join("lua_modules")).expect("absolute")
    );

    // What an interrupted run left behind goes.
    std::fs::create_dir_all(project.join(".assay/.types.new-1/core")).expect("mkdir");
    std::fs::write(
        project.join(".assay/.types.new-1/core/json.lua"),
        "json = {}\n",
    )
    .expect("w");
    let summary = write(&project, &lib_path).expect("written");
    let types = project.join(TYPES_DIR);
    assert_eq!(summary.packages, ["demo", "local_pkg", "single"]);
    assert!(types.join("assay/single.lua").is_file());
    assert!(!types.join("assay/demo.lua").exists());
    assert!(summary.luarc_created);
    assert!(types.join("core/time.lua").is_file());
    assert!(types.join("assay/demo/init.lua").is_file());
    assert!(types.join("assay/demo/sub.lua").is_file());
    assert!(!types.join("assay/demo/tests").exists());
    assert!(!types.join("assay/demo/README.md").exists());
    let first = files_under(&types);
    let luarc = std::fs::read(project.join(".luarc.json")).expect("luarc");

    // A package removed from the lib path disappears; the rest is byte for byte the same.
    std::fs::remove_dir_all(project.join("lua_modules/local_pkg")).expect("rm");
    let again = write(&project, &lib_path).expect("written again");
    assert!(!again.luarc_created);
    assert_eq!(again.packages, ["demo", "single"]);
    let second = files_under(&types);
    let without_local: Vec<_> = first
        .into_iter()
        .filter(|(p, _)| !p.starts_with("assay/local_pkg"))
        .collect();
    assert_eq!(second, without_local);
    assert_eq!(
        std::fs::read(project.join(".luarc.json")).expect("luarc"),
        luarc
    );
    // Nothing is left behind beside the definitions.
    let leftovers: Vec<_> = std::fs::read_dir(project.join(".assay"))
        .expect("read")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, [std::ffi::OsString::from("types")]);
}

#[test]
fn a_plugin_without_a_meta_header_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plugin = tmp.path().join("lib/plugins/bad");
    std::fs::create_dir_all(&plugin).expect("mkdir");
    let manifest = format!(
        "name: bad\nversion: 0.1.0\nlibrary: libbad.so\nprovides: [bad]\nabi: {}\n",
        assay_sdk::ABI_VERSION
    );
    std::fs::write(plugin.join("manifest.yaml"), manifest).expect("write");
    std::fs::write(plugin.join("types.lua"), "bad = {}\n").expect("write");
    let lib_path = LibPath::from_roots([tmp.path().join("lib")]);
    match write(tmp.path(), &lib_path) {
        Err(TypesError::Source { path, reason }) => {
            assert!(reason.contains("---@meta"), "{reason}");
            assert!(
                path.ends_with("plugins/bad/types.lua"),
                "{}",
                path.display()
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The half-built folder is gone, and no definitions were put in place.
    let left: Vec<_> = std::fs::read_dir(tmp.path().join(".assay"))
        .expect("read")
        .flatten()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_plugin_without_definitions_is_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plugin = tmp.path().join("lib/plugins/plain");
    std::fs::create_dir_all(&plugin).expect("mkdir");
    let manifest = format!(
        "name: plain\nversion: 0.1.0\nlibrary: libplain.so\nprovides: [plain]\nabi: {}\n",
        assay_sdk::ABI_VERSION
    );
    std::fs::write(plugin.join("manifest.yaml"), manifest).expect("write");
    let lib_path = LibPath::from_roots([tmp.path().join("lib")]);
    let summary = write(tmp.path(), &lib_path).expect("written");
    assert_eq!(summary.plugins_without_types, ["plain"]);
    assert!(summary.plugins.is_empty());
    // With its definitions beside the manifest, they are copied under its name.
    std::fs::write(plugin.join("types.lua"), "---@meta _\nplain = {}\n").expect("write");
    let summary = write(tmp.path(), &lib_path).expect("written");
    assert_eq!(summary.plugins, ["plain"]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".assay/types/plugins/plain.lua")).expect("read"),
        "---@meta _\nplain = {}\n"
    );
}
