//! A running `ws_server_peer.py`: its port, and the JSON report it prints for each connection
//! that ended. Killed when dropped; it also ends by itself when its stdin (a pipe held here)
//! closes, so a test that dies leaves nothing running.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use assay_tests::conformance_python;
use serde_json::Value;

pub struct Peer {
    pub port: u16,
    child: Child,
    _stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Peer {
    /// Starts the peer; `tls` is `(certificate, key)` PEM paths for wss.
    pub fn start(tls: Option<(&str, &str)>) -> Peer {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/ws_server_peer.py");
        let mut cmd = Command::new(conformance_python());
        cmd.arg(&script);
        if let Some((cert, key)) = tls {
            cmd.args(["--tls", cert, key]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = assay_tests::lines::lines(stdout);
        let first = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("ws_server_peer.py said nothing ({e}); see its stderr"));
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("ws_server_peer.py began with {first:?}, not PORT <n>"));
        Peer {
            port,
            child,
            _stdin: stdin,
            lines,
        }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The reports of the connections ended so far, waiting up to 5 s for `count` of them.
    pub fn reports(&self, count: usize) -> Vec<Value> {
        let mut out = Vec::new();
        while out.len() < count {
            match self.lines.recv_timeout(Duration::from_secs(5)) {
                Ok(line) => out
                    .push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{} connection report(s) of {count} after 5 s: {out:?}",
                        out.len()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!("the peer ended: {out:?}"),
            }
        }
        out
    }

    /// The one report for `path`, among the next `count`.
    pub fn report_of(&self, count: usize, path: &str) -> Value {
        let reports = self.reports(count);
        let mut of_path = reports.iter().filter(|r| r["path"] == path);
        let report = of_path
            .next()
            .unwrap_or_else(|| panic!("no {path}: {reports:?}"));
        report.clone()
    }

    /// None of the peer's sockets is left in CLOSE-WAIT: every client closed its side.
    #[track_caller]
    pub fn assert_no_close_wait(&self) {
        let filter = format!("sport = :{}", self.port);
        let left = assay_tests::sockets::tcp_sockets("close-wait", &filter);
        assert!(
            left.is_empty(),
            "the peer's sockets in CLOSE-WAIT: {left:#?}"
        );
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
