//! The ws client against a real peer: Python websockets' server
//! (`tests/conformance/ws_server_peer.py`, in the venv `tests/conformance/ensure-python`
//! makes), one scenario per path. Each scenario is a Lua script under `lua/` run by the built
//! `assay`; it asserts what the client sees and, after closing, that `ss` shows none of its
//! connections half-closed. The peer reports each connection's close frames as it saw them,
//! and here none of its sockets may be left in CLOSE-WAIT either.

mod errors;
mod peer;
mod scenarios;
mod tls;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assay_tests::{Run, assay_with_plugin};

/// `plugins/ws/tests/lua/<name>`.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/lua")
        .join(name)
}

/// Runs `assay <script> <args>` with the ws plugin (and the others built beside it).
fn lua(name: &str, args: &[&str]) -> Run {
    let mut cmd = assay_with_plugin("ws");
    cmd.arg(script(name)).args(args);
    assay_tests::run(cmd, None, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that a run printed "ok" and exited 0.
#[track_caller]
fn succeeded(run: &Run) {
    assert!(
        run.code == Some(0) && run.stdout.trim_end().ends_with("ok"),
        "{}",
        run.describe()
    );
}
