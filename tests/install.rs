//! `assay install`, `update`, `remove`, `search` and `init`, driven as a user drives them: a
//! registry made with `assay package` in a temporary folder (or served over HTTP on loopback by
//! Python), a project folder, and the files they leave behind checked.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use std::path::{Path, PathBuf};
use std::time::Duration;

use assay_tests::{Run, assay, run};
use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};

pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// A static registry in a folder, filled with `assay package`.
pub(crate) struct Registry {
    dir: tempfile::TempDir,
    pub(crate) index: std::cell::RefCell<Value>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            index: std::cell::RefCell::new(json!({"format": 1, "packages": {}})),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Packs package `name` `version` (its init.lua returns `{name, version, deps}`) and lists
    /// it; returns its index entry.
    pub(crate) fn publish(
        &self,
        name: &str,
        version: &str,
        depends: &[(&str, &str)],
        requires_assay: Option<&str>,
    ) -> Value {
        let src = tempfile::tempdir().unwrap();
        let pkg = src.path().join(name);
        std::fs::create_dir_all(&pkg).unwrap();
        let mut manifest =
            format!("name: {name}\nversion: {version}\ndescription: the {name} package\n");
        if let Some(req) = requires_assay {
            manifest.push_str(&format!("requires:\n  assay: \"{req}\"\n"));
        }
        if !depends.is_empty() {
            manifest.push_str("depends:\n");
            for (dep, req) in depends {
                manifest.push_str(&format!("  {dep}: \"{req}\"\n"));
            }
        }
        std::fs::write(pkg.join("manifest.yaml"), manifest).unwrap();
        std::fs::write(
            pkg.join("init.lua"),
            format!("return {{name = \"{name}\", version = \"{version}\"}}\n"),
        )
        .unwrap();
        let mut cmd = assay();
        cmd.args(["package", &pkg.display().to_string(), "--out"])
            .arg(self.path());
        let r = run(cmd, None, TIMEOUT).unwrap();
        assert_eq!(r.code, Some(0), "{}", r.describe());
        let entry: Value = serde_json::from_str(r.stdout.trim()).unwrap();
        self.list(entry.clone());
        entry
    }

    /// Adds `entry` to the index (as is: a test may tamper with it first).
    pub(crate) fn list(&self, entry: Value) {
        let name = entry["name"].as_str().unwrap().to_owned();
        let mut index = self.index.borrow_mut();
        let versions = index["packages"]
            .as_object_mut()
            .unwrap()
            .entry(name)
            .or_insert(json!([]));
        versions.as_array_mut().unwrap().push(entry);
        std::fs::write(
            self.path().join("index.json"),
            serde_json::to_string_pretty(&*index).unwrap(),
        )
        .unwrap();
    }
}

/// A project folder using `registry`.
pub(crate) fn project(registry: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("assay.yaml"),
        format!(
            "name: p\nversion: 0.1.0\n# the deps\ndependencies: {{}}\nregistries:\n  - {}\n",
            registry.display()
        ),
    )
    .unwrap();
    dir
}

/// `assay ARGS` in `dir`, with a data folder of its own (never the user's) and no registry
/// from the environment.
pub(crate) fn assay_in(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = assay();
    cmd.current_dir(dir)
        .env("XDG_DATA_HOME", dir.join(".data"))
        .env_remove("ASSAY_REGISTRY")
        .args(args);
    run(cmd, None, TIMEOUT).unwrap()
}

pub(crate) fn expect(run: &Run, code: i32, stdout: &str, stderr: &str) -> Result<(), Failed> {
    Ok(run.expect(code, stdout, stderr)?)
}

/// The versions installed in `root`, as `name version` lines, sorted.
pub(crate) fn installed(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(items) = std::fs::read_dir(root) else {
        return out;
    };
    for item in items.flatten() {
        let manifest = item.path().join("manifest.yaml");
        if let Ok(text) = std::fs::read_to_string(manifest) {
            let version = text
                .lines()
                .find_map(|l| l.strip_prefix("version: "))
                .unwrap_or("?");
            out.push(format!("{} {version}", item.file_name().to_string_lossy()));
        }
    }
    out.sort();
    out
}

pub(crate) fn modules(project: &Path) -> PathBuf {
    project.join("lua_modules")
}

/// Dependencies resolved together, a version for another core skipped, the lock written,
/// and `require` finding the project's packages from a script in a subfolder.
fn resolves_dependencies_and_writes_the_lock() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("base", "0.1.5", &[], Some(">=99"));
    reg.publish("app", "1.0.0", &[("base", "^0.1")], None);
    let p = project(reg.path());
    let r = assay_in(p.path(), &["install", "app"]);
    expect(&r, 0, "", "install base 0.1.0")?;
    assert_eq!(installed(&modules(p.path())), ["app 1.0.0", "base 0.1.0"]);
    let yaml = std::fs::read_to_string(p.path().join("assay.yaml"))?;
    assert!(
        yaml.contains("dependencies:\n  app: \"^1.0.0\"\nregistries:"),
        "{yaml}"
    );
    let lock: Value = serde_json::from_str(&std::fs::read_to_string(p.path().join("assay.lock"))?)?;
    let names: Vec<&str> = lock["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "base"]);
    assert_eq!(lock["packages"][1]["version"], "0.1.0");
    assert_eq!(lock["packages"][1]["sha256"].as_str().unwrap().len(), 64);
    std::fs::create_dir_all(p.path().join("src/deep"))?;
    std::fs::write(
        p.path().join("src/deep/use.lua"),
        "print(require('assay.app').version, require('assay.base').version)",
    )?;
    let r = assay_in(p.path(), &["src/deep/use.lua"]);
    expect(&r, 0, "1.0.0\t0.1.0", "")?;
    // A project with no dependencies needs no registry: its lock is empty.
    let empty = tempfile::tempdir()?;
    std::fs::write(empty.path().join("assay.yaml"), "name: e\nversion: 0.1.0\n")?;
    expect(
        &assay_in(empty.path(), &["install"]),
        0,
        "",
        "assay.lock written",
    )?;
    expect(
        &assay_in(empty.path(), &["install", "--locked"]),
        0,
        "",
        "nothing to do",
    )?;
    // Outside a project: --root, no lock.
    let root = tempfile::tempdir()?;
    let root_arg = root.path().display().to_string();
    let reg_arg = reg.path().display().to_string();
    let r = assay_in(
        root.path(),
        &[
            "install",
            "app@1",
            "--root",
            &root_arg,
            "--registry",
            &reg_arg,
        ],
    );
    expect(&r, 0, "", "")?;
    assert_eq!(installed(root.path()), ["app 1.0.0", "base 0.1.0"]);
    assert!(!root.path().join("assay.lock").exists());
    Ok(())
}

/// No version fits: who wants what, and which versions exist.
fn a_conflict_is_explained() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("base", "0.2.0", &[], None);
    reg.publish("base", "0.3.0", &[], Some(">=99"));
    reg.publish("a", "1.0.0", &[("base", "^0.2")], None);
    reg.publish("b", "1.0.0", &[("base", "^0.1")], None);
    let p = project(reg.path());
    let r = assay_in(p.path(), &["install", "a", "b"]);
    expect(&r, 1, "", "no version of base satisfies every requirement")?;
    expect(&r, 1, "", "^0.2 (a 1.0.0)")?;
    expect(&r, 1, "", "^0.1 (b 1.0.0)")?;
    expect(&r, 1, "", "0.3.0 (needs assay >=99)")?;
    let r = assay_in(p.path(), &["install", "nosuch"]);
    expect(
        &r,
        1,
        "",
        "package 'nosuch' is in no registry (you asked for it)",
    )?;
    assert!(installed(&modules(p.path())).is_empty());
    assert!(!p.path().join("assay.lock").exists());
    let yaml = std::fs::read_to_string(p.path().join("assay.yaml"))?;
    assert!(
        yaml.contains("dependencies: {}"),
        "a failed install changed assay.yaml: {yaml}"
    );
    Ok(())
}

/// An archive whose sha256 is not the index's is refused before unpacking; what was
/// installed stays, the lock and the project file too.
fn a_wrong_checksum_installs_nothing() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    let p = project(reg.path());
    expect(&assay_in(p.path(), &["install", "base@0.1"]), 0, "", "")?;
    let lock_before = std::fs::read(p.path().join("assay.lock"))?;
    reg.publish("base", "0.1.1", &[], None);
    // The archive changed after it was listed: the same size, one byte different.
    let file = reg.path().join("base-0.1.1.tar.gz");
    let mut bytes = std::fs::read(&file)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes)?;
    let r = assay_in(p.path(), &["update"]);
    expect(&r, 1, "", "the archive's sha256 is")?;
    expect(&r, 1, "", "refusing to install it")?;
    assert_eq!(installed(&modules(p.path())), ["base 0.1.0"]);
    assert_eq!(std::fs::read(p.path().join("assay.lock"))?, lock_before);
    let leftovers: Vec<_> = std::fs::read_dir(modules(p.path()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".assay-staging"))
        .collect();
    assert!(leftovers.is_empty(), "staging left: {leftovers:?}");
    Ok(())
}

/// Archives listed with their true sha256 but holding a path out of the package, or a link
/// out of it, are refused whole: nothing installed, nothing written outside.
fn hostile_archives_are_refused() -> Result<(), Failed> {
    let reg = Registry::new();
    let make = |file: &str, kind: &str| -> Value {
        let path = reg.path().join(file);
        let script = "import io, tarfile, sys\n\
             t = tarfile.open(sys.argv[1], 'w:gz')\n\
             def add(name, data):\n\
             \x20   i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))\n\
             add('evil/manifest.yaml', b'name: evil\\nversion: 0.1.0\\n')\n\
             add('evil/init.lua', b'return 1')\n\
             if sys.argv[2] == 'traversal':\n\
             \x20   add('evil/../../escaped.lua', b'x')\n\
             else:\n\
             \x20   i = tarfile.TarInfo('evil/link'); i.type = tarfile.SYMTYPE; i.linkname = '/etc'; t.addfile(i)\n\
             t.close()\n";
        let out = std::process::Command::new("python3")
            .args(["-c", script, &path.display().to_string(), kind])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&path).unwrap();
        use sha2::Digest as _;
        let sha: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        json!({"name": "evil", "version": "0.1.0", "description": "", "requires": {"assay": null},
               "depends": {}, "sha256": sha, "size": bytes.len(), "file": file})
    };
    for (kind, expected) in [
        ("traversal", "is outside the package's folder"),
        ("symlink", "is a symbolic link"),
    ] {
        *reg.index.borrow_mut() = json!({"format": 1, "packages": {}});
        reg.list(make(&format!("evil-{kind}.tar.gz"), kind));
        let p = project(reg.path());
        let r = assay_in(p.path(), &["install", "evil"]);
        expect(&r, 1, "", expected)?;
        assert!(
            installed(&modules(p.path())).is_empty(),
            "{kind}: installed"
        );
        assert!(
            !p.path().join("escaped.lua").exists()
                && !p.path().parent().unwrap().join("escaped.lua").exists()
        );
        assert!(
            !p.path().join("assay.lock").exists(),
            "{kind}: lock written"
        );
    }
    Ok(())
}

/// A lock that still fits is installed exactly; `update` moves within the requirements;
/// `--locked` refuses to change the lock.
fn the_lock_is_reproduced_and_locked_refuses_changes() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("app", "1.0.0", &[("base", "^0.1")], None);
    let p = project(reg.path());
    expect(&assay_in(p.path(), &["install", "app"]), 0, "", "")?;
    let lock = std::fs::read(p.path().join("assay.lock"))?;
    reg.publish("base", "0.1.1", &[], None);
    // A fresh checkout: no lua_modules, the lock kept.
    std::fs::remove_dir_all(modules(p.path()))?;
    expect(
        &assay_in(p.path(), &["install", "--locked"]),
        0,
        "",
        "install base 0.1.0",
    )?;
    assert_eq!(installed(&modules(p.path())), ["app 1.0.0", "base 0.1.0"]);
    expect(&assay_in(p.path(), &["install"]), 0, "", "nothing to do")?;
    assert_eq!(std::fs::read(p.path().join("assay.lock"))?, lock);
    // --dry-run says, changes nothing.
    let r = assay_in(p.path(), &["update", "--dry-run"]);
    expect(&r, 0, "would update base 0.1.0 -> 0.1.1", "")?;
    assert_eq!(std::fs::read(p.path().join("assay.lock"))?, lock);
    expect(
        &assay_in(p.path(), &["update", "base"]),
        0,
        "",
        "update base 0.1.0 -> 0.1.1",
    )?;
    assert_eq!(installed(&modules(p.path())), ["app 1.0.0", "base 0.1.1"]);
    // The project asks for more than the lock has: --locked fails, changes nothing.
    reg.publish("extra", "0.1.0", &[], None);
    let r = assay_in(p.path(), &["install", "--locked", "extra"]);
    expect(
        &r,
        1,
        "",
        "assay.lock does not match the project's dependencies",
    )?;
    assert!(!modules(p.path()).join("extra").exists());
    let yaml = std::fs::read_to_string(p.path().join("assay.yaml"))?;
    assert!(!yaml.contains("extra"), "{yaml}");
    Ok(())
}

/// `remove` refuses while another package needs it; removing the dependent takes both.
fn remove_respects_dependents() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("app", "1.0.0", &[("base", "^0.1")], None);
    let p = project(reg.path());
    expect(&assay_in(p.path(), &["install", "app", "base"]), 0, "", "")?;
    let r = assay_in(p.path(), &["remove", "base"]);
    expect(&r, 1, "", "base is still needed by app 1.0.0")?;
    assert_eq!(installed(&modules(p.path())), ["app 1.0.0", "base 0.1.0"]);
    let r = assay_in(p.path(), &["remove", "app"]);
    expect(&r, 0, "", "remove app 1.0.0")?;
    // base is still a dependency of its own
    assert_eq!(installed(&modules(p.path())), ["base 0.1.0"]);
    expect(&assay_in(p.path(), &["remove", "base"]), 0, "", "")?;
    assert!(installed(&modules(p.path())).is_empty());
    let r = assay_in(p.path(), &["remove", "base"]);
    expect(&r, 1, "", "base is not a dependency of the project")?;
    // Outside a project, from a root.
    let root = tempfile::tempdir()?;
    let (root_arg, reg_arg) = (
        root.path().display().to_string(),
        reg.path().display().to_string(),
    );
    expect(
        &assay_in(
            root.path(),
            &[
                "install",
                "app",
                "--root",
                &root_arg,
                "--registry",
                &reg_arg,
            ],
        ),
        0,
        "",
        "",
    )?;
    expect(
        &assay_in(root.path(), &["remove", "base", "--root", &root_arg]),
        1,
        "",
        "base is needed by app 1.0.0",
    )?;
    expect(
        &assay_in(
            root.path(),
            &["remove", "base", "--root", &root_arg, "--force"],
        ),
        0,
        "",
        "",
    )?;
    assert_eq!(installed(root.path()), ["app 1.0.0"]);
    Ok(())
}

/// `assay search` over a registry.
fn search_lists_matches() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("base", "0.2.0", &[], None);
    reg.publish("app", "1.0.0", &[("base", "^0.1")], None);
    let reg_arg = reg.path().display().to_string();
    let here = tempfile::tempdir()?;
    let r = assay_in(here.path(), &["search", "BASE", "--registry", &reg_arg]);
    expect(&r, 0, "base 0.2.0  the base package", "")?;
    if r.stdout.contains("app") {
        return Err(format!("search matched too much: {}", r.stdout).into());
    }
    let r = assay_in(here.path(), &["search", "--json", "--registry", &reg_arg]);
    let list: Value = serde_json::from_str(r.stdout.trim())?;
    assert_eq!(list[1]["versions"], json!(["0.2.0", "0.1.0"]));
    expect(
        &assay_in(here.path(), &["search", "zzz", "--registry", &reg_arg]),
        1,
        "",
        "no package matches",
    )
}

/// `assay init` makes a project that runs, whose test passes, and that installs.
fn init_creates_a_project_that_runs() -> Result<(), Failed> {
    let parent = tempfile::tempdir()?;
    let dir = parent.path().join("my-job");
    let r = assay_in(parent.path(), &["init", &dir.display().to_string()]);
    expect(&r, 0, "", "created project my-job")?;
    for file in [
        "assay.yaml",
        "main.lua",
        "app.lua",
        "tests/main_test.lua",
        ".luarc.json",
        "Dockerfile",
        "README.md",
        ".gitignore",
        "assay.lock",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    expect(&assay_in(&dir, &["main.lua", "you"]), 0, "hello, you", "")?;
    let r = assay_in(&dir, &["test", "--format", "text"]);
    expect(&r, 0, "2 passed, 0 failed", "")?;
    expect(&assay_in(&dir, &["install", "--locked"]), 0, "", "")?;
    let r = assay_in(parent.path(), &["init", &dir.display().to_string()]);
    expect(&r, 1, "", "exists already")?;
    let r = assay_in(
        parent.path(),
        &[
            "init",
            &parent.path().join("other").display().to_string(),
            "--name",
            "Bad",
        ],
    );
    expect(&r, 1, "", "is not a project name")
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "install::resolves_dependencies_and_writes_the_lock",
            resolves_dependencies_and_writes_the_lock,
        ),
        Trial::test("install::a_conflict_is_explained", a_conflict_is_explained),
        Trial::test(
            "install::a_wrong_checksum_installs_nothing",
            a_wrong_checksum_installs_nothing,
        ),
        Trial::test(
            "install::hostile_archives_are_refused",
            hostile_archives_are_refused,
        ),
        Trial::test(
            "install::the_lock_is_reproduced_and_locked_refuses_changes",
            the_lock_is_reproduced_and_locked_refuses_changes,
        ),
        Trial::test(
            "install::remove_respects_dependents",
            remove_respects_dependents,
        ),
        Trial::test("install::search_lists_matches", search_lists_matches),
        Trial::test(
            "install::init_creates_a_project_that_runs",
            init_creates_a_project_that_runs,
        ),
    ]
}
