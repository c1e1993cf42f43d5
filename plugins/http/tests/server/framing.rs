//! Framing is the server's, not the handler's: whatever headers a handler returns, each
//! response on a kept-alive connection ends where its length says, so the next one starts
//! intact. Every case sends two pipelined requests in one write (the case, then `GET /next`
//! with `Connection: close`) on a raw socket and compares the bytes that come back exactly.
//!
//! Before the server framed responses itself, `content-length: 0` with a body put the body at
//! the start of the next response, a longer `content-length` swallowed the next response,
//! `transfer-encoding` from a handler emptied the reply, 204 and 304 carried a
//! `content-length`, and status 101 left the connection hanging as if upgraded.
//!
//! The server is `tests/lua/http/fixtures/server/framing.lua`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::{Server, fixtures};

/// The answer to the second request of every exchange.
const NEXT: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n\
                    content-length: 4\r\nconnection: close\r\ndate: *\r\n\r\nnext";

/// What a handler's mistake is answered with.
const ERROR: &str = "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; \
                     charset=utf-8\r\ncontent-length: 21\r\ndate: *\r\n\r\nInternal Server Error";

fn start() -> Server {
    Server::start_script(&fixtures().join("framing.lua"), &[])
}

/// Sends `METHOD path` and then `GET /next` (closing) in one write; returns everything the
/// server sent until it closed, with each `date` header's value as `*`.
fn pipelined(server: &Server, method: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a timeout");
    let requests = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(requests.as_bytes()).expect("send");
    let mut response = Vec::new();
    if let Err(e) = stream.read_to_end(&mut response) {
        panic!(
            "{method} {path}: the server did not close the connection ({e}); got {:?}",
            String::from_utf8_lossy(&response)
        );
    }
    without_dates(&String::from_utf8_lossy(&response))
}

fn without_dates(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\r\ndate: ") {
        let value = at + "\r\ndate: ".len();
        out.push_str(&rest[..value]);
        out.push('*');
        rest = &rest[value..];
        rest = &rest[rest.find("\r\n").unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Asserts that `METHOD path` is answered with `expected`, and the pipelined `GET /next`
/// after it with `NEXT`.
fn check(server: &Server, method: &str, path: &str, expected: &str) {
    let got = pipelined(server, method, path);
    assert_eq!(
        got,
        format!("{expected}{NEXT}"),
        "{method} {path}\n{}",
        server.describe()
    );
}

/// Checks the server's log names each route's mistake, `(route, words)`: waits (5 s at
/// most) for the lines, which are written as the 500s go out.
fn logged(server: &Server, mistakes: &[(&str, &str)]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for (route, words) in mistakes {
        let tag = format!("route=\"{route}\"");
        let line = loop {
            let stderr = server.stderr();
            if let Some(line) = stderr.lines().find(|line| line.contains(&tag)) {
                break line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no log line for {route}\n{stderr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            line.contains("handler returned no valid response") && line.contains(words),
            "{route}: expected {words:?} in {line:?}"
        );
    }
}

#[test]
fn content_length_matches_the_body_or_is_a_handler_error() {
    let server = start();
    check(
        &server,
        "GET",
        "/length/right",
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ndate: *\r\n\r\nhello",
    );
    for path in [
        "/length/zero",
        "/length/long",
        "/length/word",
        "/length/twice",
        "/length/bodiless",
    ] {
        check(&server, "GET", path, ERROR);
    }
    logged(
        &server,
        &[
            ("GET /length/zero", "content-length 0 but a body of 5 bytes"),
            (
                "GET /length/long",
                "content-length 50 but a body of 5 bytes",
            ),
            ("GET /length/word", "'five' is not a content-length"),
            ("GET /length/twice", "two different content-length values"),
            (
                "GET /length/bodiless",
                "content-length 1234 but a body of 0 bytes",
            ),
        ],
    );
}

#[test]
fn transfer_encoding_is_the_servers() {
    let server = start();
    check(
        &server,
        "GET",
        "/chunked",
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ndate: *\r\n\r\nhello",
    );
    check(&server, "GET", "/gzip", ERROR);
    logged(
        &server,
        &[("GET /gzip", "transfer-encoding 'gzip, chunked'")],
    );
}

/// Hop-by-hop headers describe a connection the handler does not own (a proxying handler
/// copies them from its upstream): they are dropped, and the connection stays open.
#[test]
fn hop_by_hop_headers_are_dropped() {
    let server = start();
    check(
        &server,
        "GET",
        "/hop",
        "HTTP/1.1 200 OK\r\nx-kept: yes\r\ncontent-length: 5\r\ndate: *\r\n\r\nhello",
    );
}

/// `connection: close` is the one a handler may give: the connection closes after this
/// response, and the pipelined request behind it is not answered (the client retries it).
#[test]
fn connection_close_closes_after_the_response() {
    let server = start();
    let got = pipelined(&server, "GET", "/close");
    assert_eq!(
        got,
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 3\r\ndate: *\r\n\r\nbye",
        "{}",
        server.describe()
    );
}

/// 204, 205 and 304 never carry a body; 204 and 304 no length either (RFC 9110 8.6, 15.3.6).
#[test]
fn bodiless_statuses_send_no_body_and_no_length() {
    let server = start();
    let no_content = "HTTP/1.1 204 No Content\r\ndate: *\r\n\r\n";
    let not_modified = "HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\ndate: *\r\n\r\n";
    for method in ["GET", "HEAD"] {
        check(&server, method, "/no-content", no_content);
        check(&server, method, "/nothing", no_content);
        check(&server, method, "/not-modified", not_modified);
    }
    check(
        &server,
        "GET",
        "/reset",
        "HTTP/1.1 205 Reset Content\r\ncontent-length: 0\r\ndate: *\r\n\r\n",
    );
}

/// HEAD: no body, and the length a GET would get; a HEAD route may declare that length
/// without producing the body.
#[test]
fn head_sends_the_length_without_the_body() {
    let server = start();
    check(
        &server,
        "HEAD",
        "/length/right",
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ndate: *\r\n\r\n",
    );
    check(
        &server,
        "HEAD",
        "/declared",
        "HTTP/1.1 200 OK\r\ncontent-length: 1234\r\ndate: *\r\n\r\n",
    );
    // A wrong length is as wrong for HEAD: 500, whose body HEAD does not carry either.
    let error_head = ERROR.trim_end_matches("Internal Server Error");
    check(&server, "HEAD", "/length/zero", error_head);
}

/// 1xx responses are interim, the server's own (`100 Continue`, the WebSocket's 101): a
/// handler answering with one made a mistake, and says so in the log.
#[test]
fn interim_statuses_are_handler_errors() {
    let server = start();
    check(&server, "GET", "/switching", ERROR);
    check(&server, "GET", "/continue", ERROR);
    logged(
        &server,
        &[
            ("GET /switching", "status 101"),
            ("GET /continue", "status 100"),
        ],
    );
}

#[test]
fn dates_are_masked() {
    assert_eq!(
        without_dates("a\r\ndate: Tue, 01 Dec 2026\r\n\r\nb\r\ndate: x\r\n"),
        "a\r\ndate: *\r\n\r\nb\r\ndate: *\r\n"
    );
}
