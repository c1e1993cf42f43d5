//! The http server in the real `assay` binary, driven from outside as users will: `curl`
//! (headers, bodies, static files, middleware, errors, concurrency), signals (SIGTERM while
//! requests are in flight), `wrk` (load, exact error counts), headless Chromium (a page
//! whose JavaScript talks WebSocket to the server) and Python's `websockets` library (close
//! codes and handshakes, `ss` for sockets left behind).
//!
//! The server is `tests/lua/http/fixtures/server/app.lua`; it prints `PORT <n>` once it
//! listens on 127.0.0.1 and `STOPPED handled=<n> raised=<n>` when it stops.
//!
//! Needs the release build of the binary and the plugin (`cargo build --release -p assay -p
//! assay-plugin-http`), the Debian packages `scripts/services install` provides (curl, wrk,
//! chromium) and python3 (tests/conformance/ensure-python makes a venv with `websockets` on
//! first use). A missing one fails the tests, naming it: nothing is skipped.

mod browser;
mod curl;
mod framing;
mod grace;
mod load;
mod signals;
mod statics;
mod stream;
mod timeouts;
mod websocket;
mod websocket_peer;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_tests::{Run, assay_with_plugin, run};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/lua/http/fixtures/server`: the server script and its static files.
pub fn fixtures() -> PathBuf {
    repo().join("tests/lua/http/fixtures/server")
}

/// The path of `tool`, or a failure saying how to get it.
pub fn require_tool(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{tool}` is not installed; run `scripts/services install` (Debian packages)")
    })
}

/// Runs `cmd` to completion (killed after `timeout`), failing the test if it cannot start.
pub fn run_tool(cmd: Command, timeout: Duration) -> Run {
    let program = cmd.get_program().to_string_lossy().into_owned();
    run(cmd, None, timeout).unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// A running `assay` server script, killed when dropped (a failing test leaves nothing behind).
pub struct Server {
    child: Child,
    pub port: u16,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `fixtures/server/app.lua` and waits for its port.
    pub fn start() -> Server {
        Server::start_script(&fixtures().join("app.lua"), &[])
    }

    /// Starts `script` with `args` from its folder, and waits (10 s at most) for its
    /// `PORT <n>` line.
    pub fn start_script(script: &Path, args: &[&str]) -> Server {
        Server::start_with(&[], script, args)
    }

    /// Like [`Server::start_script`], with `flags` for `assay` before the script.
    pub fn start_with(flags: &[&str], script: &Path, args: &[&str]) -> Server {
        let mut cmd = assay_with_plugin("http");
        cmd.args(flags)
            .arg(script)
            .args(args)
            .current_dir(script.parent().unwrap_or(Path::new(".")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let lines = assay_tests::lines::lines(stdout);
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stderr_pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Ok(mut text) = sink.lock() {
                            text.push_str(&String::from_utf8_lossy(&buf[..n]));
                        }
                    }
                }
            }
        });
        let mut server = Server {
            child,
            port: 0,
            lines,
            stdout: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        };
        let line = server.wait_line("PORT ", Duration::from_secs(10));
        server.port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bad port line {line:?}\n{}", server.describe()));
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the next stdout line starting with `prefix` (earlier lines are kept for
    /// `describe`); returns the rest of it.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {prefix:?} line within {timeout:?}\n{}", self.describe())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the server ended without a {prefix:?} line\n{}",
                        self.describe()
                    )
                }
            }
        }
    }

    /// The next stdout line if one arrives within `within` (kept for `describe`).
    pub fn next_line_within(&mut self, within: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(within).ok()?;
        self.stdout.push(line.clone());
        Some(line)
    }

    /// Everything on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends `signal` (e.g. "TERM") to the server process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// Waits (at most `timeout`) for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {timeout:?}\n{}",
                self.describe()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server with SIGTERM, checks it exits 0 and returns its `STOPPED` counts:
    /// (handled, raised). `stderr()` is complete afterwards.
    pub fn stop(&mut self) -> (u64, u64) {
        self.signal("TERM");
        self.stopped()
    }

    /// After a SIGTERM: the `STOPPED` counts and exit code 0, as `stop`.
    pub fn stopped(&mut self) -> (u64, u64) {
        let line = self.wait_line("STOPPED ", Duration::from_secs(30));
        let status = self.wait_exit(Duration::from_secs(10));
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        assert_eq!(status.code(), Some(0), "{}", self.describe());
        let count = |key: &str| -> u64 {
            line.split_whitespace()
                .find_map(|field| field.strip_prefix(key))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        };
        (count("handled="), count("raised="))
    }

    /// Stdout lines seen so far and stderr, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- server stdout (lines read so far) ---\n{}\n--- server stderr ---\n{}",
            self.stdout.join("\n"),
            self.stderr()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A guard that kills a helper process (curl, wrk) when dropped.
pub struct Killer(pub Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
