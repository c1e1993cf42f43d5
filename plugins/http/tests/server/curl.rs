//! curl against the server: headers both ways, a chunked body echoed back, HEAD, 404, 405,
//! 413, middleware, a raising handler, and 20 slow requests at once.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{Server, require_tool, run_tool};

/// One curl exchange: the final response's status, headers (names lower-case) and body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn describe(&self) -> String {
        format!(
            "status {}\n{}\n\n{}",
            self.status,
            self.headers
                .iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            self.text()
        )
    }
}

/// `curl` quiet but for errors, never through a proxy, 10 s per transfer, printing
/// `write_out` (e.g. the status) on stdout.
fn curl_command(write_out: &str) -> Command {
    let mut cmd = Command::new(require_tool("curl"));
    cmd.args(["-sS", "--noproxy", "*", "--max-time", "10", "-w", write_out]);
    cmd
}

/// Runs `curl` with `args` (the URL among them); 10 s at most.
pub fn curl(args: &[&str]) -> Reply {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let headers = dir.path().join("headers");
    let body = dir.path().join("body");
    let mut cmd = curl_command("%{http_code}");
    cmd.arg("-D").arg(&headers).arg("-o").arg(&body).args(args);
    let out = run_tool(cmd, Duration::from_secs(15));
    assert_eq!(out.code, Some(0), "curl {args:?}\n{}", out.describe());
    let status = out.stdout.trim().parse().expect("curl printed the status");
    let raw = std::fs::read_to_string(&headers).expect("curl wrote the headers");
    // The last block: a 100 Continue comes first when curl sent `Expect`.
    let block = raw
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or("");
    let headers = block
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: std::fs::read(&body).unwrap_or_default(),
    }
}

/// Sends `request` as raw bytes on a fresh connection and reads until the server closes it.
pub fn raw(server: &Server, request: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read until the server closes");
    response
}

#[test]
fn headers_both_ways() {
    let server = Server::start();
    let r = curl(&[
        "-H",
        "X-Mixed-Case: Some Value",
        "-H",
        "X-Twice: a",
        "-H",
        "X-Twice: b",
        &server.url("/headers"),
    ]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(
        r.header("x-custom"),
        Some("custom value"),
        "{}",
        r.describe()
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let seen: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON headers");
    let seen = seen.as_object().expect("an object");
    assert_eq!(seen["x-mixed-case"], "Some Value");
    assert_eq!(seen["x-twice"], "a, b");
    assert!(
        seen["user-agent"]
            .as_str()
            .is_some_and(|a| a.starts_with("curl/"))
    );
    for name in seen.keys() {
        assert_eq!(
            name,
            &name.to_ascii_lowercase(),
            "header names are lower-case"
        );
    }
}

#[test]
fn chunked_body_echoed() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("body.bin");
    // 200 KB of every byte value, below the fixture's max_body (256 KiB).
    let data: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&file, &data).expect("write the body");
    let r = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Content-Type: application/x-test",
        "--data-binary",
        &format!("@{}", file.display()),
        &server.url("/echo"),
    ]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.header("x-request-transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("x-request-length"), Some("200000"));
    assert_eq!(r.header("content-type"), Some("application/x-test"));
    assert!(
        r.body == data,
        "the echoed body differs ({} bytes back)",
        r.body.len()
    );
}

#[test]
fn body_over_max_body_is_413() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("big.bin");
    std::fs::write(&file, vec![b'x'; 300 * 1024]).expect("write the body");
    let at_file = format!("@{}", file.display());
    // With a Content-Length, and chunked (the length is only known while reading).
    let r = curl(&["--data-binary", &at_file, &server.url("/echo")]);
    assert_eq!(r.status, 413, "{}", r.describe());
    let r = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &at_file,
        &server.url("/echo"),
    ]);
    assert_eq!(r.status, 413, "{}", r.describe());
    // The server still serves.
    assert_eq!(curl(&[&server.url("/hello")]).status, 200);
}

/// A `max_body` above the script's memory limit is capped at it: a body that could never
/// become a Lua string gets 413 instead of being buffered outside the limit first.
#[test]
fn max_body_is_capped_by_the_memory_limit() {
    let script = crate::fixtures().join("limits.lua");
    let server = Server::start_with(&["--memory-limit", "16M"], &script, &[]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![b'x'; 20 << 20]).expect("write the body");
    let r = curl(&[
        "--data-binary",
        &format!("@{}", big.display()),
        &server.url("/size"),
    ]);
    assert_eq!(r.status, 413, "{}", r.describe());
    let small = dir.path().join("small.bin");
    std::fs::write(&small, vec![b'x'; 1 << 20]).expect("write the body");
    let r = curl(&[
        "--data-binary",
        &format!("@{}", small.display()),
        &server.url("/size"),
    ]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "1048576"),
        "{}",
        r.describe()
    );
}

/// Each body fits `max_body`, but the bodies being read at once used to add up without bound
/// outside the memory limit. They share one budget: four slow 12 MiB uploads under 16M
/// cannot all be buffered, so the ones that would pass it get 503 with the reason (and a log
/// line), the server goes on, and its charges are released: a lone upload succeeds after.
#[test]
fn bodies_read_at_once_share_the_memory_limit() {
    let script = crate::fixtures().join("limits.lua");
    let server = Server::start_with(&["--memory-limit", "16M"], &script, &[]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let body = dir.path().join("body.bin");
    std::fs::write(&body, vec![b'x'; 12 << 20]).expect("write the body");
    let data = format!("@{}", body.display());
    let url = server.url("/size");
    // --limit-rate: each upload takes about 3 s, so all four are in flight together.
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let uploads: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| curl(&["--limit-rate", "4M", "--data-binary", &data, &url])))
            .collect();
        uploads
            .into_iter()
            .map(|upload| upload.join().expect("an upload thread"))
            .collect()
    });
    let busy = replies.iter().filter(|r| r.status == 503).count();
    for reply in &replies {
        match reply.status {
            200 => assert_eq!(reply.text(), "12582912"),
            503 => assert!(
                reply.text().starts_with(
                    "the server is busy: the bodies in flight would pass the script's \
                     memory limit of 16 MiB ("
                ),
                "{}",
                reply.describe()
            ),
            _ => panic!(
                "unexpected reply\n{}\n{}",
                reply.describe(),
                server.describe()
            ),
        }
    }
    assert!(busy >= 2, "{busy} of 4 refused\n{}", server.describe());
    assert!(
        server.stderr().contains("request body refused"),
        "{}",
        server.describe()
    );
    let alone = curl(&["--data-binary", &data, &url]);
    assert_eq!(
        (alone.status, alone.text().as_str()),
        (200, "12582912"),
        "{}\n{}",
        alone.describe(),
        server.describe()
    );
}

#[test]
fn head_404_405() {
    let server = Server::start();
    // HEAD on a GET route: the GET's headers, no body bytes on the wire.
    let response = raw(
        &server,
        "HEAD /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&response).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\ncontent-length: 2\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\n"), "HEAD sent a body: {text:?}");

    let r = curl(&[&server.url("/no/such/route")]);
    assert_eq!(r.status, 404, "{}", r.describe());
    let r = curl(&["-X", "DELETE", &server.url("/hello")]);
    assert_eq!(r.status, 405, "{}", r.describe());
    let allow = r.header("allow").unwrap_or_default();
    assert!(allow.contains("GET"), "Allow: {allow:?}");
    let r = curl(&["--data", "x", &server.url("/hello")]);
    assert_eq!(r.status, 405, "{}", r.describe());
}

#[test]
fn middleware_before_and_after() {
    let server = Server::start();
    // `before` short-circuits without the token...
    let r = curl(&[&server.url("/private")]);
    assert_eq!(r.status, 401, "{}", r.describe());
    assert_eq!(r.text(), "no token");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // ...and lets it through with one; `after` adds its header to every routed response,
    // the short-circuited one included.
    assert_eq!(r.header("x-after"), Some("seen"), "{}", r.describe());
    let r = curl(&[
        "-H",
        "Authorization: Bearer let-me-in",
        &server.url("/private"),
    ]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.text(), "secret stuff");
    assert_eq!(r.header("x-after"), Some("seen"), "{}", r.describe());
    // A handler's string answer reaches `after` as a table with its content type, which
    // survives the round trip.
    let r = curl(&[&server.url("/hello")]);
    assert_eq!(r.text(), "hi");
    assert_eq!(r.header("x-after"), Some("seen"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
}

#[test]
fn raising_handler_500_then_serves() {
    let server = Server::start();
    let r = curl(&[&server.url("/boom")]);
    assert_eq!(r.status, 500, "{}", r.describe());
    // The body says nothing about the error (no leak to clients).
    assert!(!r.text().contains("kaboom"), "{}", r.describe());
    // One log line with the error and its traceback.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr().contains("kaboom") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stderr = server.stderr();
    let line = stderr
        .lines()
        .find(|l| l.contains("kaboom on purpose"))
        .unwrap_or_else(|| panic!("no log line for the error\n{}", server.describe()));
    assert!(line.contains(" ERROR handler raised an error"), "{line}");
    assert!(line.contains("path=/boom"), "{line}");
    assert!(line.contains("app.lua:"), "{line}");
    assert!(line.contains("stack traceback:"), "{line}");
    let r = curl(&[&server.url("/hello")]);
    assert_eq!((r.status, r.text().as_str()), (200, "hi"));
}

#[test]
fn twenty_slow_requests_overlap() {
    let server = Server::start();
    let urls: Vec<String> = (0..20)
        .map(|i| server.url(&format!("/slow?i={i}")))
        .collect();
    let mut args = vec!["--parallel", "--parallel-immediate", "--parallel-max", "20"];
    args.extend(urls.iter().map(String::as_str));
    let mut cmd = curl_command("%{http_code}\\n");
    cmd.args(&args);
    let start = Instant::now();
    let out = run_tool(cmd, Duration::from_secs(20));
    let elapsed = start.elapsed();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let slept = out.stdout.matches("slept").count();
    let ok = out.stdout.matches("200").count();
    assert_eq!((slept, ok), (20, 20), "{}", out.describe());
    // One after another would take 10 s; together, 0.5 s and some.
    assert!(
        elapsed < Duration::from_secs(3),
        "20 requests of 0.5 s took {elapsed:?}"
    );
    let peak = curl_text(&server.url("/peak"));
    assert_eq!(peak, "20", "handlers running at once");
}

fn curl_text(url: &str) -> String {
    curl(&[url]).text()
}
