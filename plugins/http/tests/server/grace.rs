//! A stopping server keeps its promises to Kubernetes: SIGTERM closes the listener, tells open
//! WebSockets 1001, lets work finish until `grace`, then ends what is left (handlers stopped,
//! their `<close>` run, connections closed) and exits within grace plus a small bound. And a
//! serving one bounds its connections: slow heads, silent and idle connections are closed,
//! and idle clients at the connection cap cannot starve working ones.
//! Before: a 20 s request kept the process 8 s past SIGTERM with grace 5, an open WebSocket
//! 29 s with grace 3 (no close frame), and a partial head was held 40 s.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::curl::curl;
use crate::websocket::{close_code, connect_to};
use crate::{Server, fixtures};

fn start() -> Server {
    Server::start_script(&fixtures().join("grace.lua"), &[])
}

/// Reads until the peer closes (or `limit` passes); whether it closed, and when.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("a read timeout");
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[test]
fn sigterm_honours_grace() {
    let mut server = start();
    let (mut polite, answer) = connect_to(server.port, "/ws");
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    server.wait_line("WS open", Duration::from_secs(5));
    let (mut stubborn, answer) = connect_to(server.port, "/stubborn");
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    server.wait_line("STUBBORN open", Duration::from_secs(5));
    let mut slow = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("a request");
    server.wait_line("STARTED slow", Duration::from_secs(5));

    let signalled = Instant::now();
    server.signal("TERM");
    // Both WebSockets hear 1001 at once.
    assert_eq!(close_code(&mut polite), 1001);
    assert_eq!(close_code(&mut stubborn), 1001);
    assert!(signalled.elapsed() < Duration::from_secs(1));
    // The polite one answers the close; its handler sees "closed" and returns.
    polite
        .write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9])
        .expect("a close frame");
    server.wait_line("WS closed 1001", Duration::from_secs(2));
    // The stubborn client never answers the close: its connection ends after the close
    // handshake's bound (1 s), though its handler runs on.
    let gone = closed_within(&mut stubborn, Duration::from_secs(4)).expect("closed");
    assert!(gone < Duration::from_millis(1800), "closed after {gone:?}");
    // The slow request lasts until the grace period (2 s) ends; its connection is closed
    // with it (no answer: it never finished).
    closed_within(&mut slow, Duration::from_secs(3)).expect("the slow request's connection closed");
    assert!(
        signalled.elapsed() >= Duration::from_millis(1800),
        "the slow request was cut before the grace period: {:?}",
        signalled.elapsed()
    );
    server.stopped();
    // The slow handler's <close> ran (before or after the script's last line).
    if !server.describe().contains("CLOSED slow") {
        server.wait_line("CLOSED slow", Duration::from_secs(1));
    }
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "exited {:?} after SIGTERM with grace 2",
        signalled.elapsed()
    );
}

#[test]
fn slow_silent_and_idle_connections_are_closed() {
    let server = start();
    // A head that never completes, and a connection that sends nothing: header_timeout (1 s).
    let mut partial = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    partial
        .write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .expect("a partial head");
    let mut silent = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    for stream in [&mut partial, &mut silent] {
        let after = closed_within(stream, Duration::from_secs(4)).expect("closed");
        assert!(
            after < Duration::from_millis(2500),
            "closed after {after:?}"
        );
    }
    // A kept-alive connection after its response: idle_timeout (2 s).
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    idle.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("a request");
    let mut response = [0u8; 256];
    let n = idle.read(&mut response).expect("the response");
    assert!(response[..n].starts_with(b"HTTP/1.1 200"));
    let after = closed_within(&mut idle, Duration::from_secs(5)).expect("closed");
    assert!(
        after >= Duration::from_millis(1500) && after < Duration::from_millis(3500),
        "closed after {after:?}"
    );
}

#[test]
fn idle_connections_at_the_cap_do_not_starve_requests() {
    let server = start();
    // 40 kept-alive connections, twice the cap of 20, each idle after one request.
    let mut idle = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        stream
            .write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("a request");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a timeout");
        let mut response = [0u8; 256];
        let n = stream.read(&mut response).unwrap_or(0);
        assert!(
            response[..n].starts_with(b"HTTP/1.1 200"),
            "connection {}",
            idle.len()
        );
        idle.push(stream);
    }
    let start = Instant::now();
    let reply = curl(&["--max-time", "2", &server.url("/hello")]);
    assert_eq!((reply.status, reply.text().as_str()), (200, "hi"));
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

/// A masked close frame with code 1000, as a client sends it.
const CLIENT_CLOSE: [u8; 8] = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];

/// The TCP connection closes once the close handshake is done, whoever started it, while the
/// handler goes on working: sockets used to wait in CLOSE-WAIT until the handler returned (or
/// Lua collected `conn`), and a client waiting for the close hung.
#[test]
fn websocket_connections_close_after_the_close_handshake() {
    let mut server = start();
    // The handler closes: the client gets 1000, answers, and sees the TCP connection end.
    let (mut ws, answer) = connect_to(server.port, "/closer");
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    assert_eq!(close_code(&mut ws), 1000);
    ws.write_all(&CLIENT_CLOSE).expect("the close reply");
    let after = closed_within(&mut ws, Duration::from_secs(3)).expect("closed");
    assert!(after < Duration::from_secs(1), "closed after {after:?}");
    // The client closes: it gets the server's close and the end of the connection.
    let (mut ws, answer) = connect_to(server.port, "/lingering");
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    ws.write_all(&CLIENT_CLOSE).expect("a close frame");
    server.wait_line("LINGERING closed", Duration::from_secs(2));
    assert_eq!(close_code(&mut ws), 1000);
    let after = closed_within(&mut ws, Duration::from_secs(3)).expect("closed");
    assert!(after < Duration::from_secs(1), "closed after {after:?}");
    // A handler that closes and never hears back closes after a bound (1 s).
    let (mut ws, _) = connect_to(server.port, "/closer");
    assert_eq!(close_code(&mut ws), 1000);
    let after = closed_within(&mut ws, Duration::from_secs(3)).expect("closed");
    assert!(
        after < Duration::from_millis(1800),
        "closed after {after:?}"
    );
}
