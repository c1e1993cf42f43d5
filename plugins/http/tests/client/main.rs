//! The http client in the real `assay` binary against real servers: Python's `http.server`
//! and aiohttp (tests/conformance/*_peer.py), plain and over TLS with certificates made by the
//! `openssl` command at test time.
//!
//! Needs the release build of the binary and the plugin (`cargo build --release -p assay
//! -p assay-plugin-http`), python3 (tests/conformance/ensure-python makes a venv with aiohttp
//! on first use) and openssl. A missing one fails the tests, naming it: nothing is skipped.

mod api;
mod bounds;
mod decoding;
mod downloads;
mod failures;
mod tls;
mod uploads;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use assay_tests::{Run, assay_with_plugin, conformance_python, run};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A test server process, killed when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    /// Starts `tests/conformance/<script>` with `args` and waits for its "PORT <n>" line.
    pub fn start(script: &str, args: &[&str]) -> Peer {
        let path = repo().join("tests/conformance").join(script);
        let mut child = Command::new(conformance_python())
            .arg(&path)
            .args(["--lifetime", "60"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{script} did not report its port (first line: {line:?})");
        };
        Peer { child, port }
    }

    /// `http://127.0.0.1:<port>` (or https).
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs Lua `code` with the built plugins, from the repository's root, with `vars` in the
/// environment.
pub fn lua(code: &str, vars: &[(&str, &str)]) -> Run {
    assay_run(&["-e", code], &repo(), vars)
}

/// Runs a Lua file of `tests/lua/http` from its folder, as the suites do.
pub fn lua_file(name: &str, vars: &[(&str, &str)]) -> Run {
    assay_run(&[name], &repo().join("tests/lua/http"), vars)
}

fn assay_run(args: &[&str], dir: &Path, vars: &[(&str, &str)]) -> Run {
    let mut cmd = assay_with_plugin("http");
    cmd.args(args).current_dir(dir);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    run(cmd, None, Duration::from_secs(60)).unwrap_or_else(|e| panic!("assay: {e}"))
}

/// Asserts the run succeeded.
#[track_caller]
pub fn succeeded(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.describe());
}

/// Asserts the run failed with `text` in its error output.
#[track_caller]
pub fn failed_with(run: &Run, text: &str) {
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains(text),
        "stderr lacks {text:?}\n{}",
        run.describe()
    );
}
