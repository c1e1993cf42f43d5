//! Streamed response bodies (`{stream = function(body) ... end}`) from outside: Python's
//! http.client reads a watch-like NDJSON stream line by line while it is written; a client that
//! leaves ends the producer quietly (no socket left in CLOSE-WAIT); one that never reads stops
//! it (bounded memory); a raising producer cuts the body short (curl exit 18); SIGTERM ends
//! open streams cleanly at once; a stream longer than `idle_timeout` is not cut. The server is `tests/lua/http/fixtures/server/stream.lua`;
//! `tests/lua/http/server_stream.lua` covers the rest from inside a script (the Assay client,
//! `after`, HEAD, invalid answers, 50 streams at once, `server:stop()`).
//! Before: a `{stream = fn}` answer was "handler returned no valid response" (500).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assay_tests::conformance_python;
use serde_json::Value;

use crate::{Killer, Server, fixtures, repo, require_tool, run_tool};

fn start() -> Server {
    Server::start_script(&fixtures().join("stream.lua"), &[])
}

/// A raw connection that has sent `GET path` and read the head and the first piece of the
/// body.
fn open(server: &Server, path: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a read timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("a request");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).expect("the head");
    (stream, String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// The server's sockets on `port` (their local side) in TCP `state`.
fn sockets(port: u16, state: &str) -> Vec<String> {
    assay_tests::sockets::tcp_sockets(state, &format!("sport = :{port}"))
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn python_reads_ndjson_lines_while_they_are_written() {
    let server = start();
    let script = repo().join("tests/conformance/ndjson_peer.py");
    let mut cmd = Command::new(conformance_python());
    cmd.arg(&script).arg(server.port.to_string()).arg("py");
    let out = run_tool(cmd, Duration::from_secs(20));
    assert_eq!(
        out.code,
        Some(0),
        "{}\n{}",
        out.describe(),
        server.describe()
    );
    let report: Value = serde_json::from_str(out.stdout.trim()).expect("the peer's JSON");
    assert_eq!(report["status"], 200, "{report}");
    assert_eq!(report["chunked"], "chunked", "{report}");
    let numbers: Vec<i64> = report["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| line["n"].as_i64().expect("n"))
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5], "{report}");
    // The first line arrived while the server had written 1 (or, on a slow machine, 2) of
    // its 5 lines, 0.2 s apart: not once the body was complete.
    let progress = report["progress"].as_i64().expect("progress");
    assert!((1..=2).contains(&progress), "{report}");
}

/// 200,000 small writes through curl, whole and in order: chunks queued together leave as one
/// piece (the producer waits for room once per batch, not once per write).
#[test]
fn many_small_writes_arrive_whole_and_in_order() {
    let mut server = start();
    let mut cmd = Command::new(require_tool("curl"));
    cmd.args(["-sS", "--noproxy", "*", "--max-time", "30"])
        .arg(server.url("/lines?n=200000"));
    let out = run_tool(cmd, Duration::from_secs(35));
    assert_eq!(
        out.code,
        Some(0),
        "{}\n{}",
        out.stdout.len(),
        server.describe()
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 200_000);
    assert!(
        lines
            .iter()
            .zip(1..)
            .all(|(line, n)| *line == n.to_string())
    );
    server.stop();
}

#[test]
fn a_client_that_leaves_ends_the_producer_quietly() {
    let mut server = start();
    let (mut stream, head) = open(&server, "/forever");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    server.wait_line("STARTED forever", Duration::from_secs(5));
    let mut buf = [0u8; 256];
    let n = stream.read(&mut buf).expect("more ticks");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("tick"));
    drop(stream);
    // The next write raises; the function's <close> sees the error.
    let closed = server.wait_line("CLOSED forever ", Duration::from_secs(5));
    assert!(
        closed.contains("http.server: the client closed the connection"),
        "{closed}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sockets(server.port, "close-wait"), Vec::<String>::new());
    assert_eq!(sockets(server.port, "established"), Vec::<String>::new());
    server.stop();
    assert!(!server.stderr().contains("ERROR"), "{}", server.describe());
}

#[test]
fn a_client_that_never_reads_stops_the_producer() {
    let mut server = start();
    let before = rss_kib(server.pid());
    let (stream, head) = open(&server, "/hog");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    server.wait_line("STARTED hog", Duration::from_secs(5));
    // Writes go on while the socket buffers fill, then block.
    let mut written = 0;
    let mut last_write = Instant::now();
    let started = Instant::now();
    while last_write.elapsed() < Duration::from_secs(1) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the producer never blocked: {written} MiB written\n{}",
            server.describe()
        );
        let line = server.next_line_within(Duration::from_millis(100));
        if let Some(n) = line.as_deref().and_then(|l| l.strip_prefix("HOG ")) {
            written = n.parse().expect("a count");
            last_write = Instant::now();
        }
    }
    // Loopback buffers hold a few MiB; the server holds at most one chunk more in its queue.
    assert!(
        written < 64,
        "{written} MiB written to a client that reads nothing"
    );
    let grown = rss_kib(server.pid()).saturating_sub(before);
    assert!(grown < 64 * 1024, "the server grew by {grown} KiB");
    // The client leaving releases the blocked write.
    drop(stream);
    let closed = server.wait_line("CLOSED hog ", Duration::from_secs(5));
    assert!(
        closed.contains("http.server: the client closed the connection"),
        "{closed}"
    );
    server.stop();
    assert!(!server.stderr().contains("ERROR"), "{}", server.describe());
}

#[test]
fn a_stream_outlasts_idle_timeout() {
    let mut server = start();
    let mut cmd = Command::new(require_tool("curl"));
    cmd.args(["-sS", "--noproxy", "*", "--max-time", "10"])
        .arg(server.url("/long"));
    let out = run_tool(cmd, Duration::from_secs(15));
    // Its connection is busy while the body is sent, not idle: idle_timeout (1 s) and the
    // 0.5 s an idle connection asked to close may linger do not cut a 2 s stream.
    assert_eq!(
        out.code,
        Some(0),
        "{}\n{}",
        out.describe(),
        server.describe()
    );
    let expected: String = (1..=10).map(|n| format!("line {n}\n")).collect();
    assert_eq!(out.stdout, expected);
    server.stop();
}

#[test]
fn a_raising_producer_cuts_the_body_short() {
    let mut server = start();
    let mut cmd = Command::new(require_tool("curl"));
    cmd.args(["-sS", "--noproxy", "*", "--max-time", "10"])
        .arg(server.url("/raise"));
    let out = run_tool(cmd, Duration::from_secs(15));
    // 18: "transfer closed with outstanding read data remaining": no last chunk.
    assert_eq!(out.code, Some(18), "{}", out.describe());
    assert_eq!(out.stdout, "line 1\nline 2\n", "{}", out.describe());
    server.stop();
    let stderr = server.stderr();
    assert!(
        stderr.contains("ERROR stream raised an error method=GET path=/raise route=\"GET /raise\""),
        "{stderr}"
    );
    assert!(stderr.contains("stream failed on purpose"), "{stderr}");
}

#[test]
fn sigterm_ends_open_streams_cleanly_at_once() {
    let mut server = start();
    let curl = Command::new(require_tool("curl"))
        .args(["-sSN", "--noproxy", "*", "--max-time", "20"])
        .arg(server.url("/idle"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl starts");
    let mut curl = Killer(curl);
    server.wait_line("STARTED idle", Duration::from_secs(5));
    let signalled = Instant::now();
    server.signal("TERM");
    let status = curl.0.wait().expect("curl ends");
    let mut body = String::new();
    curl.0
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut body)
        .expect("curl's output");
    // A complete response (curl exits 0), ended well before the grace period (3 s).
    assert_eq!(
        status.code(),
        Some(0),
        "body {body:?}\n{}",
        server.describe()
    );
    assert!(body.starts_with("first\n"), "{body:?}");
    assert!(
        signalled.elapsed() < Duration::from_millis(1500),
        "the stream ended {:?} after SIGTERM",
        signalled.elapsed()
    );
    // The producer's next write (0.5 s apart) raises, before or after the script's last line.
    let mut raised = None;
    let mut stopped = false;
    while raised.is_none() || !stopped {
        let line = server.next_line_within(Duration::from_secs(3));
        let line = line.unwrap_or_else(|| panic!("{}", server.describe()));
        stopped |= line.starts_with("STOPPED");
        if let Some(message) = line.strip_prefix("IDLE raised ") {
            raised = Some(message.to_owned());
        }
    }
    let raised = raised.unwrap_or_default();
    assert!(
        raised.contains("http.server: the server is stopping"),
        "{raised}"
    );
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{}", server.describe());
    assert!(
        signalled.elapsed() < Duration::from_millis(2500),
        "exited {:?} after SIGTERM",
        signalled.elapsed()
    );
    assert!(!server.stderr().contains("ERROR"), "{}", server.describe());
}
