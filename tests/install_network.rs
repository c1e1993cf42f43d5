//! `assay install` over the network, as users meet it: a static registry served over HTTP by
//! Python on loopback (the http plugin fetching), a download killed midway, and real OCI
//! registries (`scripts/oci-registry`): publish and install back, basic auth, the token flow.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use std::path::Path;
use std::time::Duration;

use assay_tests::{assay, run};
use libtest_mimic::{Failed, Trial};

use crate::install::{Registry, TIMEOUT, assay_in, expect, installed, modules, project};

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
            "install::http_registry_and_a_download_killed_midway",
            http_registry_and_a_download_killed_midway,
        ),
        Trial::test(
            "install::the_stdlib_registry_over_http",
            the_stdlib_registry_over_http,
        ),
        Trial::test("install::oci_publish_and_install", oci_publish_and_install),
    ]
}
