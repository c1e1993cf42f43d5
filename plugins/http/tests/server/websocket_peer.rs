//! WebSocket routes against a real client: Python's `websockets` library
//! (`tests/conformance/ws_peer.py`, in the venv `tests/conformance/ensure-python` makes), on
//! `fixtures/server/ws_peer.lua` (grace 3 s, `max_message` 64 KiB). The close codes and reasons as
//! the library reports them (1000 both ways and when a handler returns, 1011 when it raises, 1009
//! over `max_message`, 1001 on SIGTERM), close handshakes that end at once because the server
//! closes the TCP connection (the library waits for that before it reports the close: a server that
//! kept it open would make it wait its 5 s `close_timeout` or the test's 3 s receive limit), and
//! afterwards nothing left of the connections: `ss` shows none of the server's sockets in
//! CLOSE-WAIT or ESTABLISHED and the process holds no socket but its listener.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use assay_tests::conformance_python;
use serde_json::{Value, json};

use crate::{Server, fixtures, repo};

/// The fixture's `max_message`.
const MAX_MESSAGE: usize = 64 * 1024;

/// The bound on a close seen by the client: the close handshake on loopback takes
/// milliseconds; the server's own bound for a silent peer is 1 s, the client's 5 s.
const PROMPT: f64 = 0.5;

fn start() -> Server {
    Server::start_script(&fixtures().join("ws_peer.lua"), &[])
}

/// A running `ws_peer.py`, killed when dropped (a failing test leaves nothing behind).
struct Client {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Client {
    /// Starts `ws_peer.py <port> <args>`.
    fn start(port: u16, args: &[&str]) -> Client {
        let script = repo().join("tests/conformance/ws_peer.py");
        let mut child = Command::new(conformance_python())
            .arg(&script)
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = assay_tests::lines::lines(stdout);
        Client {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The client's next report (15 s at most: its own waits are 5 s at most each).
    fn next(&mut self) -> Value {
        match self.lines.recv_timeout(Duration::from_secs(15)) {
            Ok(line) => {
                self.seen.push(line.clone());
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("ws_peer.py said nothing for 15 s; so far: {:?}", self.seen)
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "ws_peer.py ended early (see its stderr); so far: {:?}",
                    self.seen
                )
            }
        }
    }

    /// Waits (5 s at most) for the client to exit, which must be a success.
    fn finish(mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(
                    status.success(),
                    "ws_peer.py: {status}; said {:?}",
                    self.seen
                );
                return;
            }
            assert!(Instant::now() < deadline, "ws_peer.py did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `ws_peer.py <port> <args>` to its end; its one report.
fn play(port: u16, args: &[&str]) -> Value {
    let mut client = Client::start(port, args);
    let report = client.next();
    client.finish();
    report
}

/// Asserts a closed connection's report: its type, the close frame received (code and
/// reason), that the client answered it (so the server closed first), that the connection
/// ended with the end of the stream (not a reset or a timeout), within `within` seconds.
#[track_caller]
fn assert_closed(closed: &Value, kind: &str, code: u16, reason: &str, within: f64) {
    assert_close_frame(closed, kind, code, reason, within);
    assert_eq!(closed["cause"], Value::Null, "ended by an error: {closed}");
}

/// As [`assert_closed`], whatever ended the TCP connection (a reset too), but not a timeout.
#[track_caller]
fn assert_close_frame(closed: &Value, kind: &str, code: u16, reason: &str, within: f64) {
    assert_eq!(closed["type"], kind, "{closed}");
    assert_eq!(closed["rcvd"], json!([code, reason]), "{closed}");
    assert_eq!(closed["rcvd_then_sent"], true, "{closed}");
    assert_eq!(
        closed["sent"][0], code,
        "the client answers with the code: {closed}"
    );
    let seconds = closed["seconds"].as_f64().expect("seconds");
    assert!(seconds < within, "closed after {seconds} s: {closed}");
}

/// The server's sockets on `port` (their local side) in TCP `state`, as `ss` lists them.
fn sockets(port: u16, state: &str) -> Vec<String> {
    assay_tests::sockets::tcp_sockets(state, &format!("sport = :{port}"))
}

/// How many sockets the process `pid` holds open.
fn socket_fds(pid: u32) -> usize {
    let dir = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("the server's /proc fd");
    dir.filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// The server's sockets of one run, before any client: its listener.
fn listening(server: &Server) -> usize {
    let count = socket_fds(server.pid());
    assert!(
        count >= 1,
        "the server holds no socket: where is its listener?"
    );
    count
}

/// After the client is gone: none of the server's sockets is in CLOSE-WAIT (the client
/// closed, the server did not) or still ESTABLISHED, and the process holds only its
/// `listening` sockets again (0.5 s at most for the last to go).
#[track_caller]
fn assert_connections_gone(server: &Server, listening: usize) {
    let close_wait = sockets(server.port, "close-wait");
    assert!(close_wait.is_empty(), "CLOSE-WAIT: {close_wait:#?}");
    let established = sockets(server.port, "established");
    assert!(
        established.is_empty(),
        "still established: {established:#?}"
    );
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        let held = socket_fds(server.pid());
        if held == listening {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server still holds {} connection socket(s)\n{}",
            held - listening.min(held),
            server.describe()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Text, binary and a message of exactly `max_message` bytes come back; the client's close
/// (1000) is answered with 1000 and the TCP connection closed at once.
#[test]
fn echo_then_client_close() {
    let mut server = start();
    let listening = listening(&server);
    let size = MAX_MESSAGE.to_string();
    let report = play(server.port, &["echo", "--size", &size]);
    assert_eq!(report["echoed"], json!([true, true, true]), "{report}");
    assert_eq!(
        report["rcvd"][0], 1000,
        "the server's close reply: {report}"
    );
    let seconds = report["close_seconds"].as_f64().expect("close_seconds");
    assert!(seconds < PROMPT, "close() took {seconds} s: {report}");
    // The handler saw the client's close frame: 1000 "done".
    let end = server.wait_line("ECHO closed", Duration::from_secs(5));
    assert_eq!(end, " 1000 done", "{}", server.describe());
    assert_connections_gone(&server, listening);
}

/// `conn:close(1000, "bye")` reaches the client as such, and the TCP connection ends while the
/// handler goes on (it sleeps 5 s after closing).
#[test]
fn handler_close_reaches_the_client() {
    let mut server = start();
    let listening = listening(&server);
    let report = play(server.port, &["close", "/bye"]);
    assert_eq!(report["messages"], json!([]), "{report}");
    assert_closed(&report["closed"], "ConnectionClosedOK", 1000, "bye", PROMPT);
    server.wait_line("BYE closed", Duration::from_secs(2));
    assert_connections_gone(&server, listening);
}

/// A handler that returns, or raises, while the client waits in `recv`: the connection closes
/// with 1000 when it returns, 1011 (internal error) when it raises, and no reason either way
/// (the error goes to the server's log, not to the client). Each handler sends "ready", then
/// ends 0.2 s later.
#[test]
fn handler_end_closes_with_1000_or_1011() {
    let server = start();
    let listening = listening(&server);
    for (path, kind, code) in [
        ("/returns", "ConnectionClosedOK", 1000),
        ("/raises", "ConnectionClosedError", 1011),
    ] {
        let report = play(server.port, &["close", path]);
        assert_eq!(report["messages"], json!(["ready"]), "{path}: {report}");
        assert_closed(&report["closed"], kind, code, "", 0.2 + PROMPT);
        assert_connections_gone(&server, listening);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while !server.stderr().contains("raised on purpose") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stderr = server.stderr();
    assert!(
        stderr.contains("websocket handler raised an error")
            && stderr.contains("raised on purpose"),
        "{}",
        server.describe()
    );
}

/// A message one byte over `max_message` closes the connection with 1009 (after exactly
/// `max_message` came back in `echo_then_client_close`); the handler's `recv` says why. So
/// does a message of 10 MiB, larger than the sockets' buffers: the server reads and drops the
/// rest of it while it closes (a socket closed with unread data would send a reset, and the
/// client, still sending, would lose the close frame), so the connection ends cleanly.
#[test]
fn message_over_max_message_closes_with_1009() {
    let mut server = start();
    let listening = listening(&server);
    let reason = format!("message too big (max {MAX_MESSAGE} bytes)");
    for size in [MAX_MESSAGE + 1, 10 * 1024 * 1024] {
        let report = play(server.port, &["oversized", "--size", &size.to_string()]);
        let closed = &report["closed"];
        assert_closed(closed, "ConnectionClosedError", 1009, &reason, PROMPT);
        let end = server.wait_line("ECHO closed", Duration::from_secs(5));
        assert_eq!(
            end,
            " 1009 message larger than max_message (64 KiB)",
            "{}",
            server.describe()
        );
        assert_connections_gone(&server, listening);
    }
}

/// SIGTERM with two WebSockets open, one whose handler waits in `recv` and one whose handler
/// ignores it (sleeps 30 s): both clients hear 1001 at once and their connections end; the
/// process exits 0 when the grace period (3 s) ends, not before and not a second later.
#[test]
fn sigterm_closes_with_1001_and_exits_within_grace() {
    let mut server = start();
    let listening = listening(&server);
    let mut client = Client::start(server.port, &["sigterm"]);
    assert_eq!(client.next(), json!({"event": "open"}));
    server.wait_line("ECHO open", Duration::from_secs(5));
    server.wait_line("STUBBORN open", Duration::from_secs(5));
    let signalled = Instant::now();
    server.signal("TERM");
    for path in ["/echo", "/stubborn"] {
        let report = client.next();
        assert_eq!(report["path"], path, "{report}");
        let closed = &report["closed"];
        assert_closed(
            closed,
            "ConnectionClosedOK",
            1001,
            "server shutting down",
            5.0,
        );
        let after = signalled.elapsed();
        assert!(
            after.as_secs_f64() < 1.0,
            "{path} closed {after:?} after SIGTERM"
        );
    }
    client.finish();
    // Both connections are gone, and the listener, while the stubborn handler still runs.
    assert_connections_gone(&server, listening - 1);
    // `server:wait()` returns at once ("STOPPED"); the process lives on until the stubborn
    // handler is stopped when the grace period ends.
    server.stopped();
    let after = signalled.elapsed();
    assert!(
        after >= Duration::from_millis(2800) && after < Duration::from_secs(4),
        "exited {after:?} after SIGTERM with grace 3"
    );
    // The echo handler saw the client's reply to our 1001 (before or after the script's last
    // line): Python websockets answers with the code and reason it received.
    let answered = "ECHO closed 1001 server shutting down";
    if !server.describe().contains(answered) {
        let end = server.wait_line("ECHO closed", Duration::from_secs(1));
        assert_eq!(end, " 1001 server shutting down", "{}", server.describe());
    }
}

/// The rest of the conn API as Python's client sees it, on a server whose `max_message` is
/// 8 MiB: messages it sends in frames arrive whole and keep their kind, 4 MiB text and binary
/// come back intact, its ping is answered, ours (`conn:ping`) is answered by it, the route's
/// subprotocol preference wins and no overlap is a 400, and `conn:close(4000, "bye")` reaches
/// it as such, the TCP connection ended at once.
#[test]
fn fragments_big_messages_pings_subprotocols_and_close_codes() {
    let max = (8 * 1024 * 1024).to_string();
    let mut server = Server::start_script(&fixtures().join("ws_peer.lua"), &[&max]);
    let listening = listening(&server);
    let size = (4 * 1024 * 1024).to_string();
    let report = play(server.port, &["features", "--size", &size]);
    assert_eq!(
        report["fragments"],
        json!(["abcdef", "bytes:0102"]),
        "{report}"
    );
    assert_eq!(report["big"], json!([true, true]), "{report}");
    assert_eq!(report["ping"], true, "{report}");
    let rtt = report["server_ping"].as_str().unwrap_or_default();
    let seconds: f64 = rtt
        .strip_prefix("rtt ")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("conn:ping() gave no round trip: {report}"));
    assert!((0.0..5.0).contains(&seconds), "{report}");
    assert_eq!(report["chat"], "chat", "{report}");
    assert_eq!(report["no_overlap"], 400, "{report}");
    // websockets calls a close with a code other than 1000 or 1001 an error; it was clean.
    assert_closed(
        &report["server_close"],
        "ConnectionClosedError",
        4000,
        "bye",
        PROMPT,
    );
    server.wait_line("ECHO closed 1000", Duration::from_secs(5));
    assert_connections_gone(&server, listening);
}
