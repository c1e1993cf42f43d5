//! `assay install` where a review as an attacker found it wanting: each case failed before its
//! fix (reserved names, credentials sent where a lock points, locked versions let go, a lock
//! changed under `--locked`, remove needing a registry, two installs at once, an unreadable
//! edit of assay.yaml, a half-written `init`, a traceback in a refusal).

#![allow(clippy::unwrap_used)] // a test fails by panicking

use std::path::Path;

use libtest_mimic::{Failed, Trial};
use serde_json::json;

use crate::install::{Registry, TIMEOUT, assay_in, expect, installed, modules, project};
use crate::install_network::SlowServer;

/// A package named `plugins` would replace the root's native plugins: refused by name.
fn a_reserved_name_is_refused() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    let mut entry = reg.publish("other", "0.1.0", &[], None);
    entry["name"] = json!("plugins");
    reg.list(entry);
    let p = project(reg.path());
    std::fs::create_dir_all(modules(p.path()).join("plugins/keep"))?;
    // On the command line, and in an index (refused whole).
    let r = assay_in(p.path(), &["install", "plugins"]);
    expect(&r, 2, "", "'plugins' is not a package name")?;
    let r = assay_in(p.path(), &["install", "base"]);
    expect(&r, 1, "", "plugins 0.1.0: 'plugins' is not a package name")?;
    assert!(modules(p.path()).join("plugins/keep").is_dir());
    Ok(())
}

/// `ASSAY_REGISTRY_TOKEN` goes to the registries the user configured, never to a host that
/// only an (edited) lock file names.
fn credentials_stay_with_the_configured_registry() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    let good = SlowServer::start(reg.path());
    good.stop_pausing();
    let other = SlowServer::start(reg.path());
    other.stop_pausing();
    let p = project(Path::new(&format!("http://127.0.0.1:{}/", good.port)));
    let with_token = |args: &[&str]| {
        let mut cmd = assay_tests::assay();
        cmd.current_dir(p.path())
            .env("XDG_DATA_HOME", p.path().join(".data"))
            .env("ASSAY_REGISTRY_TOKEN", "s3cret-token")
            .args(args);
        assay_tests::run(cmd, None, TIMEOUT).unwrap()
    };
    expect(
        &with_token(&["install", "base"]),
        0,
        "",
        "install base 0.1.0",
    )?;
    assert!(
        good.requests().contains("auth=Bearer s3cret-token"),
        "{}",
        good.requests()
    );
    let lock_path = p.path().join("assay.lock");
    let lock = std::fs::read_to_string(&lock_path)?.replace(
        &format!("127.0.0.1:{}", good.port),
        &format!("127.0.0.1:{}", other.port),
    );
    std::fs::write(&lock_path, lock)?;
    std::fs::remove_dir_all(modules(p.path()))?;
    expect(
        &with_token(&["install", "--locked"]),
        0,
        "",
        "install base 0.1.0",
    )?;
    let seen = other.requests();
    assert!(seen.contains("/base-0.1.0.tar.gz"), "{seen}");
    assert!(
        !seen.contains("s3cret"),
        "the token went to a host only the lock named: {seen}"
    );
    Ok(())
}

/// Removing one package, or updating one, leaves the versions of the others as locked.
fn locked_versions_are_kept_by_remove_and_update() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("k8s", "0.1.0", &[("base", "^0.1")], None);
    reg.publish("vault", "0.1.0", &[("base", "^0.1")], None);
    let p = project(reg.path());
    expect(&assay_in(p.path(), &["install", "k8s", "vault"]), 0, "", "")?;
    reg.publish("base", "0.1.1", &[], None);
    reg.publish("k8s", "0.1.5", &[("base", "^0.1")], None);
    reg.publish("vault", "0.1.9", &[("base", "^0.1.1")], None);
    let r = assay_in(p.path(), &["remove", "vault"]);
    expect(&r, 0, "", "remove vault 0.1.0")?;
    if r.stderr.contains("update") {
        return Err(format!("remove updated other packages:\n{}", r.stderr).into());
    }
    assert_eq!(installed(&modules(p.path())), ["base 0.1.0", "k8s 0.1.0"]);
    expect(&assay_in(p.path(), &["install", "vault"]), 0, "", "")?;
    // vault 0.1.9 needs base 0.1.1: the pin on base gives way (the conflict names it); k8s
    // stays where it was.
    assert_eq!(
        installed(&modules(p.path())),
        ["base 0.1.1", "k8s 0.1.0", "vault 0.1.9"]
    );
    let r = assay_in(p.path(), &["update", "nosuch"]);
    expect(&r, 1, "", "nosuch is not a package of this project")
}

/// `--locked` fails where the lock would change, removing a package included; `remove`
/// needs no registry.
fn locked_refuses_and_remove_needs_no_registry() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("app", "1.0.0", &[], None);
    let p = tempfile::tempdir()?;
    std::fs::write(
        p.path().join("assay.yaml"),
        "name: p\nversion: 0.1.0\ndependencies: {}\n",
    )?;
    let reg_arg = reg.path().display().to_string();
    let r = assay_in(
        p.path(),
        &["install", "base", "app", "--registry", &reg_arg],
    );
    expect(&r, 0, "", "")?;
    let yaml = std::fs::read_to_string(p.path().join("assay.yaml"))?;
    std::fs::write(
        p.path().join("assay.yaml"),
        yaml.replace("  app: \"^1.0.0\"\n", ""),
    )?;
    let lock = std::fs::read(p.path().join("assay.lock"))?;
    let r = assay_in(p.path(), &["install", "--locked"]);
    expect(
        &r,
        1,
        "",
        "lists packages the project no longer needs (app)",
    )?;
    assert_eq!(std::fs::read(p.path().join("assay.lock"))?, lock);
    assert_eq!(installed(&modules(p.path())), ["app 1.0.0", "base 0.1.0"]);
    // No registry configured: remove works from the lock alone.
    let r = assay_in(p.path(), &["remove", "base"]);
    expect(&r, 0, "", "remove base 0.1.0")?;
    Ok(())
}

/// Two installs at once in one project: the second waits for the first and keeps its
/// changes.
fn two_installs_at_once_keep_both() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("app", "1.0.0", &[], None);
    let p = project(reg.path());
    let spawn = |name: &str| {
        let mut cmd = assay_tests::assay();
        cmd.current_dir(p.path())
            .env("XDG_DATA_HOME", p.path().join(".data"))
            .args(["install", "-q", name])
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("base"), spawn("app"));
    assert!(a.wait()?.success() && b.wait()?.success());
    let yaml = std::fs::read_to_string(p.path().join("assay.yaml"))?;
    let lock = std::fs::read_to_string(p.path().join("assay.lock"))?;
    for name in ["base", "app"] {
        assert!(
            yaml.contains(&format!("  {name}: ")),
            "{name} lost from assay.yaml:\n{yaml}"
        );
        assert!(
            lock.contains(&format!("\"name\": \"{name}\"")),
            "{name} lost from the lock"
        );
    }
    Ok(())
}

/// An assay.yaml whose dependencies cannot be rewritten in place is refused before anything
/// is installed; a dependency named again keeps its requirement.
fn an_unreadable_edit_is_refused_first() -> Result<(), Failed> {
    let reg = Registry::new();
    reg.publish("base", "0.1.0", &[], None);
    reg.publish("base", "0.2.0", &[], None);
    let p = tempfile::tempdir()?;
    let text = format!(
        "name: q\nversion: 0.1.0\n\"dependencies\": {{}}\nregistries: [{}]\n",
        reg.path().display()
    );
    std::fs::write(p.path().join("assay.yaml"), &text)?;
    let r = assay_in(p.path(), &["install", "base"]);
    expect(&r, 1, "", "cannot edit the dependencies of")?;
    assert!(installed(&modules(p.path())).is_empty());
    assert_eq!(std::fs::read_to_string(p.path().join("assay.yaml"))?, text);
    let p = project(reg.path());
    expect(&assay_in(p.path(), &["install", "base@^0.1"]), 0, "", "")?;
    std::fs::remove_file(p.path().join("assay.lock"))?;
    expect(&assay_in(p.path(), &["install", "base"]), 0, "", "")?;
    let yaml = std::fs::read_to_string(p.path().join("assay.yaml"))?;
    assert!(yaml.contains("base: \"^0.1\""), "{yaml}");
    assert_eq!(installed(&modules(p.path())), ["base 0.1.0"]);
    Ok(())
}

/// `init` checks every file before writing any: a dangling link in the way stops it with
/// nothing written.
fn init_writes_all_or_nothing() -> Result<(), Failed> {
    let parent = tempfile::tempdir()?;
    let dir = parent.path().join("i1");
    std::fs::create_dir_all(&dir)?;
    std::os::unix::fs::symlink("/nonexistent", dir.join("README.md"))?;
    let r = assay_in(parent.path(), &["init", &dir.display().to_string()]);
    expect(&r, 1, "", "README.md exists already")?;
    let left: Vec<_> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "init wrote files: {left:?}");
    let dir = parent.path().join("i2");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("tests"), "a file")?;
    let r = assay_in(parent.path(), &["init", &dir.display().to_string()]);
    expect(&r, 1, "", "is in the way: it should be a folder")?;
    assert!(!dir.join("assay.yaml").exists());
    Ok(())
}

/// An archive larger than its index entry says is refused with the reason, no Lua traceback.
fn a_refused_download_says_why_plainly() -> Result<(), Failed> {
    let reg = Registry::new();
    let mut entry = reg.publish("base", "0.1.0", &[], None);
    entry["size"] = json!(20);
    *reg.index.borrow_mut() = json!({"format": 1, "packages": {}});
    reg.list(entry);
    let server = SlowServer::start(reg.path());
    server.stop_pausing();
    let p = project(Path::new(&format!("http://127.0.0.1:{}/", server.port)));
    let r = assay_in(p.path(), &["install", "base"]);
    expect(
        &r,
        1,
        "",
        "the archive is larger than the 20 bytes the registry says",
    )?;
    if r.stderr.contains("traceback") || r.stderr.contains("runtime error") {
        return Err(format!("a traceback in the message:\n{}", r.stderr).into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "install::a_reserved_name_is_refused",
            a_reserved_name_is_refused,
        ),
        Trial::test(
            "install::credentials_stay_with_the_configured_registry",
            credentials_stay_with_the_configured_registry,
        ),
        Trial::test(
            "install::locked_versions_are_kept_by_remove_and_update",
            locked_versions_are_kept_by_remove_and_update,
        ),
        Trial::test(
            "install::locked_refuses_and_remove_needs_no_registry",
            locked_refuses_and_remove_needs_no_registry,
        ),
        Trial::test(
            "install::two_installs_at_once_keep_both",
            two_installs_at_once_keep_both,
        ),
        Trial::test(
            "install::an_unreadable_edit_is_refused_first",
            an_unreadable_edit_is_refused_first,
        ),
        Trial::test(
            "install::init_writes_all_or_nothing",
            init_writes_all_or_nothing,
        ),
        Trial::test(
            "install::a_refused_download_says_why_plainly",
            a_refused_download_says_why_plainly,
        ),
    ]
}
