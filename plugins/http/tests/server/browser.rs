//! Headless Chromium loads a page from the server whose JavaScript opens a WebSocket to the
//! same server (subprotocol "chat"), sends three messages and writes the echoes into the DOM.

use std::process::Command;
use std::time::Duration;

use crate::curl::curl;
use crate::{Server, require_tool, run_tool};

/// What the page writes into `#out` when every echo came back.
const EXPECTED: &str = "done protocol:chat echo:one echo:two echo:three client-protocol:chat";

#[test]
fn chromium_websocket_echo() {
    let chromium = require_tool("chromium");
    let mut server = Server::start();
    let profile = tempfile::tempdir().expect("a temporary profile folder");
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg("--dump-dom")
    .arg(server.url("/page"));
    let out = run_tool(cmd, Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "chromium failed\n{}", out.describe());
    assert!(
        out.stdout
            .contains(&format!("<p id=\"out\">{EXPECTED}</p>")),
        "the page did not get its echoes\n--- DOM ---\n{}\n{}",
        out.stdout,
        server.describe()
    );
    // The server's side: each message arrived, and the page reported what it saw.
    for message in ["one", "two", "three"] {
        server.wait_line(&format!("WS {message}"), Duration::from_secs(5));
    }
    let result = server.wait_line("RESULT ", Duration::from_secs(5));
    assert_eq!(result, EXPECTED);
}

#[test]
fn websocket_route_without_upgrade() {
    let server = Server::start();
    // A plain GET on a WebSocket route is the client's mistake (4xx), not the server's (500).
    let r = curl(&[&server.url("/ws")]);
    assert!(
        (400..500).contains(&r.status),
        "status {}\n{}",
        r.status,
        r.describe()
    );
    assert!(!server.stderr().contains("ERROR"), "{}", server.describe());
}
