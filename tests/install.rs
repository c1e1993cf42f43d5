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

/// Over HTTP (the http plugin, a Python server on loopback): an install works; a download
/// killed midway leaves the installed version working and the next install clean.
fn http_registry_and_a_download_killed_midway() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    let server = SlowServer::start(reg.path());
    let url = format!("http://127.0.0.1:{}/", server.port);
    let p = project(Path::new(&url));
    expect(
        &assay_in(p.path(), &["install", "base"]),
        0,
        "",
        "install base 0.1.0",
    )?;
    // A bigger 0.2.0, served slowly: half, then a pause.
    let src = tempfile::tempdir()?;
    let pkg = src.path().join("base");
    std::fs::create_dir_all(&pkg)?;
    std::fs::write(pkg.join("manifest.yaml"), "name: base\nversion: 0.1.9\n")?;
    let noise: String = (0..200_000u32)
        .map(|i| format!("{:x}", i.wrapping_mul(2654435761)))
        .collect();
    std::fs::write(
        pkg.join("init.lua"),
        format!("local _ = [[{noise}]]\nreturn {{version = '0.1.9'}}\n"),
    )?;
    let mut cmd = assay();
    cmd.args(["package", &pkg.display().to_string(), "--out"])
        .arg(reg.path());
    let out = run(cmd, None, TIMEOUT)?;
    reg.list(serde_json::from_str(out.stdout.trim())?);
    let mut child = assay();
    child
        .current_dir(p.path())
        .env("XDG_DATA_HOME", p.path().join(".data"))
        .args(["update"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(p.path().join(".update.log"))?);
    let mut child = child.spawn()?;
    // Wait until the download has begun (the server has sent half), then kill.
    let started = std::time::Instant::now();
    while !server.half_sent() {
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let log = std::fs::read_to_string(p.path().join(".update.log"))?;
            return Err(format!("the download never started: {log}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill()?;
    child.wait()?;
    assert_eq!(installed(&modules(p.path())), ["base 0.1.0"]);
    std::fs::write(
        p.path().join("use.lua"),
        "print(require('assay.base').version)",
    )?;
    expect(&assay_in(p.path(), &["use.lua"]), 0, "0.1.0", "")?;
    let lock = std::fs::read_to_string(p.path().join("assay.lock"))?;
    assert!(
        lock.contains("\"0.1.0\"") && !lock.contains("0.1.9"),
        "{lock}"
    );
    // The next run clears the interrupted staging and installs when the server is quick.
    server.stop_pausing();
    expect(
        &assay_in(p.path(), &["update"]),
        0,
        "",
        "update base 0.1.0 -> 0.1.9",
    )?;
    let leftovers = std::fs::read_dir(modules(p.path()))?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".assay-staging")
        })
        .count();
    assert_eq!(leftovers, 0);
    expect(&assay_in(p.path(), &["use.lua"]), 0, "0.1.9", "")
}

/// The acceptance case: the project's own registry, built from `stdlib/` by
/// `scripts/registry.lua` and served over HTTP: `assay install crossplane` brings k8s and
/// apiclient along, writes the lock, and the package loads.
fn the_stdlib_registry_over_http() -> Result<(), Failed> {
    let repo = assay_tests::tests_dir().join("..");
    let reg = tempfile::tempdir()?;
    let mut cmd = assay();
    cmd.current_dir(&repo)
        .args(["scripts/registry.lua"])
        .arg(reg.path())
        .arg(repo.join("stdlib"));
    expect(&run(cmd, None, Duration::from_secs(120))?, 0, "wrote ", "")?;
    let server = SlowServer::start(reg.path());
    server.stop_pausing();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let p = project(Path::new(&url));
    let r = assay_in(p.path(), &["install", "crossplane"]);
    expect(&r, 0, "", "install k8s 0.1.0")?;
    assert_eq!(
        installed(&modules(p.path())),
        ["apiclient 0.1.0", "crossplane 0.1.0", "k8s 0.1.0"]
    );
    let lock = std::fs::read_to_string(p.path().join("assay.lock"))?;
    for name in ["apiclient", "crossplane", "k8s"] {
        assert!(lock.contains(&format!("\"name\": \"{name}\"")), "{lock}");
    }
    assert!(lock.contains(&format!("\"source\": \"{url}\"")), "{lock}");
    std::fs::write(
        p.path().join("use.lua"),
        "local cp = require('assay.crossplane'); print(type(cp.client))",
    )?;
    expect(&assay_in(p.path(), &["use.lua"]), 0, "function", "")
}

/// A registry of `scripts/oci-registry` (which `scripts/test` starts): `ASSAY_TEST_OCI_<NAME>`.
fn oci_env(name: &str) -> Result<String, Failed> {
    let var = format!("ASSAY_TEST_OCI_{name}");
    std::env::var(&var).map_err(|_| {
        format!("{var} is not set: start the registries with scripts/oci-registry start DIR and source DIR/env (scripts/test does)").into()
    })
}

/// A repository path no other run has used (the registries keep what was pushed).
fn fresh_path() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("install-{}-{nanos}", std::process::id())
}

/// `assay publish` to a real OCI registry and `assay install` back: dependencies, the lock
/// naming the registry and digests, a republished version with other bytes refused, search
/// over the catalog; and behind basic auth: refused without credentials (saying which
/// variables to set), with wrong ones, and working with the right ones.
fn oci_publish_and_install() -> Result<(), Failed> {
    let registry = format!("oci+http://{}/{}", oci_env("REGISTRY")?, fresh_path());
    let stdlib = assay_tests::tests_dir().join("../stdlib");
    let here = tempfile::tempdir()?;
    for pkg in ["apiclient", "k8s", "crossplane"] {
        let dir = stdlib.join(pkg).display().to_string();
        let r = assay_in(here.path(), &["publish", &dir, "--registry", &registry]);
        expect(
            &r,
            0,
            "",
            &format!("published {pkg} 0.1.0 to {registry}/{pkg}:0.1.0 (sha256:"),
        )?;
    }
    let dir = stdlib.join("k8s").display().to_string();
    let r = assay_in(here.path(), &["publish", &dir, "--registry", &registry]);
    expect(&r, 0, "", "k8s 0.1.0 is already in")?;
    // The same version with other bytes.
    let changed = tempfile::tempdir()?;
    let k8s = changed.path().join("k8s");
    std::fs::create_dir_all(&k8s)?;
    std::fs::copy(stdlib.join("k8s/manifest.yaml"), k8s.join("manifest.yaml"))?;
    std::fs::write(k8s.join("init.lua"), "return {}\n")?;
    let r = assay_in(
        here.path(),
        &[
            "publish",
            &k8s.display().to_string(),
            "--registry",
            &registry,
        ],
    );
    expect(&r, 1, "", "k8s 0.1.0 is already in")?;
    expect(&r, 1, "", "with other bytes")?;
    let p = project(Path::new(&registry));
    expect(
        &assay_in(p.path(), &["install", "crossplane"]),
        0,
        "",
        "install k8s 0.1.0",
    )?;
    assert_eq!(
        installed(&modules(p.path())),
        ["apiclient 0.1.0", "crossplane 0.1.0", "k8s 0.1.0"]
    );
    let lock = std::fs::read_to_string(p.path().join("assay.lock"))?;
    assert!(
        lock.contains(&format!("\"source\": \"{registry}\"")),
        "{lock}"
    );
    assert!(lock.contains("\"file\": \"sha256:"), "{lock}");
    // Reproduced from the lock alone.
    std::fs::remove_dir_all(modules(p.path()))?;
    expect(
        &assay_in(p.path(), &["install", "--locked"]),
        0,
        "",
        "install crossplane 0.1.0",
    )?;
    std::fs::write(
        p.path().join("use.lua"),
        "print(type(require('assay.crossplane').client))",
    )?;
    expect(&assay_in(p.path(), &["use.lua"]), 0, "function", "")?;
    let r = assay_in(here.path(), &["search", "kube", "--registry", &registry]);
    expect(&r, 0, "k8s 0.1.0", "")?;
    // Basic auth.
    let basic = format!("oci+http://{}/{}", oci_env("BASIC_REGISTRY")?, fresh_path());
    let (user, password) = (oci_env("USER")?, oci_env("PASSWORD")?);
    let dir = stdlib.join("apiclient").display().to_string();
    let r = assay_in(here.path(), &["publish", &dir, "--registry", &basic]);
    expect(&r, 1, "", "requires authentication")?;
    expect(
        &r,
        1,
        "",
        "set ASSAY_REGISTRY_USER and ASSAY_REGISTRY_PASSWORD",
    )?;
    let with = |password: &str, args: &[&str], dir: &Path| {
        let mut cmd = assay();
        cmd.current_dir(dir)
            .env("XDG_DATA_HOME", dir.join(".data"))
            .env("ASSAY_REGISTRY_USER", &user)
            .env("ASSAY_REGISTRY_PASSWORD", password)
            .args(args);
        run(cmd, None, TIMEOUT).unwrap()
    };
    let r = with(
        "wrong",
        &["publish", &dir, "--registry", &basic],
        here.path(),
    );
    expect(
        &r,
        1,
        "",
        &format!("refused the credentials of user '{user}'"),
    )?;
    if r.stderr.contains("wrong") {
        return Err(format!("a password in a message: {}", r.stderr).into());
    }
    expect(
        &with(
            &password,
            &["publish", &dir, "--registry", &basic],
            here.path(),
        ),
        0,
        "",
        "published apiclient",
    )?;
    let p = project(Path::new(&basic));
    expect(
        &assay_in(p.path(), &["install", "apiclient"]),
        1,
        "",
        "requires authentication",
    )?;
    expect(
        &with(&password, &["install", "apiclient"], p.path()),
        0,
        "",
        "install apiclient 0.1.0",
    )?;
    // The registry's token flow: the same credentials exchanged for a bearer token.
    let token = format!("oci+http://{}/{}", oci_env("TOKEN_REGISTRY")?, fresh_path());
    let r = with(
        &password,
        &["publish", &dir, "--registry", &token],
        here.path(),
    );
    expect(&r, 0, "", "published apiclient")?;
    let p = project(Path::new(&token));
    let r = with(&password, &["install", "apiclient"], p.path());
    expect(&r, 0, "", "install apiclient 0.1.0")?;
    Ok(())
}

/// A Python HTTP server for a registry folder that sends the first half of a large archive,
/// then pauses (until told not to), so a client can be killed mid-download.
pub(crate) struct SlowServer {
    child: std::process::Child,
    pub(crate) port: u16,
    flags: tempfile::TempDir,
}

impl SlowServer {
    pub(crate) fn start(root: &Path) -> Self {
        let flags = tempfile::tempdir().unwrap();
        let script = r#"
import http.server, os, sys, time
root, flags = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        with open(os.path.join(flags, 'requests.log'), 'a') as log:
            log.write('%s auth=%s\n' % (self.path, self.headers.get('Authorization')))
        path = os.path.join(root, self.path.lstrip('/'))
        if not os.path.isfile(path):
            self.send_response(404); self.end_headers(); return
        data = open(path, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if len(data) > 100000 and not os.path.exists(os.path.join(flags, 'quick')):
            self.wfile.write(data[:len(data) // 2]); self.wfile.flush()
            open(os.path.join(flags, 'half'), 'w').close()
            for _ in range(300):
                if os.path.exists(os.path.join(flags, 'quick')): break
                time.sleep(0.1)
            self.wfile.write(data[len(data) // 2:])
        else:
            self.wfile.write(data)
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(root)
            .arg(flags.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        use std::io::BufRead as _;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap();
        Self { child, port, flags }
    }

    fn half_sent(&self) -> bool {
        self.flags.path().join("half").exists()
    }

    /// Each request's path and Authorization header, a line each.
    pub(crate) fn requests(&self) -> String {
        std::fs::read_to_string(self.flags.path().join("requests.log")).unwrap_or_default()
    }

    pub(crate) fn stop_pausing(&self) {
        std::fs::write(self.flags.path().join("quick"), "").unwrap();
    }
}

impl Drop for SlowServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
        Trial::test("install::oci_publish_and_install", oci_publish_and_install),
        Trial::test(
            "install::the_stdlib_registry_over_http",
            the_stdlib_registry_over_http,
        ),
        Trial::test(
            "install::http_registry_and_a_download_killed_midway",
            http_registry_and_a_download_killed_midway,
        ),
    ]
}
