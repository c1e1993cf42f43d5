//! WebSocket routes from a raw socket: the handshake, a frame each way, a peer that goes
//! away without a close frame, which `conn:recv` reports as closed (with the reason), not as
//! an error, messages over `max_message`, which close the connection with 1009, and a peer
//! that never answers a close frame.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::curl::curl;
use crate::{Server, fixtures};

/// Reads one unmasked server frame with a payload under 126 bytes; returns the payload.
fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).expect("a frame header");
    assert_eq!(head[0] & 0x0f, 1, "a text frame");
    let len = usize::from(head[1] & 0x7f);
    assert!(len < 126, "a short frame");
    let mut payload = vec![0u8; len];
    stream
        .read_exact(&mut payload)
        .expect("the frame's payload");
    payload
}

/// A masked client text frame (clients must mask).
fn text_frame(text: &str) -> Vec<u8> {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81, 0x80 | u8::try_from(text.len()).expect("a short text")];
    frame.extend_from_slice(&mask);
    frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Connects to `/ws` of `port`, does the handshake; the stream and the server's answer.
fn connect(port: u16) -> (TcpStream, String) {
    connect_to(port, "/ws")
}

/// Connects to `path` of `port`, does the handshake offering the subprotocol "chat" (what
/// `/ws` speaks; routes without `protocols` ignore it); the stream and the server's answer.
pub fn connect_to(port: u16, path: &str) -> (TcpStream, String) {
    connect_offering(port, path, "chat")
}

/// Connects to `path` of `port`, does the handshake offering `protocols`.
fn connect_offering(port: u16, path: &str, protocols: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a timeout");
    let handshake = format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocols}\r\n\r\n"
    );
    stream
        .write_all(handshake.as_bytes())
        .expect("send the handshake");
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream
            .read_exact(&mut byte)
            .expect("the handshake's answer");
        response.push(byte[0]);
    }
    (stream, String::from_utf8_lossy(&response).into_owned())
}

/// The header of a masked client frame with a payload of `len` bytes (the mask is zero, so the
/// payload goes as it is). `opcode` 2 is binary, 0 a continuation.
fn frame_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut header = vec![if fin { 0x80 } else { 0 } | opcode, 0x80 | 127];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    header
}

/// Reads frames until a close frame; its status code.
pub fn close_code(stream: &mut TcpStream) -> u16 {
    loop {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).expect("a frame header");
        let mut len = u64::from(head[1] & 0x7f);
        if len == 126 {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).expect("length");
            len = u64::from(u16::from_be_bytes(ext));
        } else if len == 127 {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).expect("length");
            len = u64::from_be_bytes(ext);
        }
        let mut payload = vec![0u8; usize::try_from(len).expect("a small frame")];
        stream.read_exact(&mut payload).expect("the payload");
        if head[0] & 0x0f == 8 {
            assert!(payload.len() >= 2, "a close frame without a code");
            return u16::from_be_bytes([payload[0], payload[1]]);
        }
    }
}

/// The server's peak resident set (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("a VmHWM line");
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("KiB");
    kib / 1024
}

/// A frame announcing 60 MB is refused from its header (default `max_message`, 1 MiB): the
/// server closes with 1009 and `conn:recv` says why; the server goes on.
#[test]
fn message_over_max_message_closes_with_1009() {
    let mut server = Server::start();
    let (mut stream, response) = connect(server.port);
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    assert_eq!(read_frame(&mut stream), b"protocol:chat");
    stream
        .write_all(&frame_header(true, 2, 60_000_000))
        .expect("send a header");
    assert_eq!(close_code(&mut stream), 1009, "message too big");
    // Then the server closes the TCP connection (it reads nothing more from this peer).
    let mut rest = [0u8; 16];
    assert_eq!(stream.read(&mut rest).expect("end of stream"), 0, "closed");
    let end = server.wait_line("WS END", Duration::from_secs(10));
    assert_eq!(
        end.trim(),
        "closed 1009 message larger than max_message (1 MiB)",
        "{}",
        server.describe()
    );
    let r = curl(&[&server.url("/hello")]);
    assert_eq!(r.status, 200, "{}", r.describe());
}

/// A client that breaks the protocol gets 1002 (here: an unmasked frame, which clients must
/// never send), and text that is not UTF-8 gets 1007; `conn:recv` says so, the TCP connection
/// closes, and the server goes on. Before, both were a bare "closed" without a close frame.
#[test]
fn protocol_errors_close_with_1002_and_bad_text_with_1007() {
    let mut server = Server::start();
    let cases: [(&[u8], u16, &str); 2] = [
        (
            &[0x81, 0x02, b'h', b'i'],
            1002,
            "closed 1002 WebSocket protocol error",
        ),
        (
            &[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe],
            1007,
            "closed 1007 UTF-8 encoding error",
        ),
    ];
    for (frame, code, reason) in cases {
        let (mut stream, response) = connect(server.port);
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        assert_eq!(read_frame(&mut stream), b"protocol:chat");
        stream.write_all(frame).expect("send the frame");
        assert_eq!(close_code(&mut stream), code);
        let mut rest = [0u8; 16];
        assert_eq!(stream.read(&mut rest).unwrap_or(0), 0, "closed");
        let end = server.wait_line("WS END", Duration::from_secs(10));
        assert!(
            end.trim().starts_with(reason),
            "{end}\n{}",
            server.describe()
        );
    }
    let r = curl(&[&server.url("/hello")]);
    assert_eq!(r.status, 200, "{}", r.describe());
}

/// Four clients each sending a 20 MiB message in 1 MiB frames (each frame within the library's
/// old limits) used to be buffered whole, then copied to Lua: hundreds of MB resident (eight
/// 60 MB messages kept 843 MB). Now each stops after 1 MiB and the server stays small.
#[test]
fn large_fragmented_messages_are_not_buffered() {
    let mut server = Server::start();
    let before = peak_rss_mib(server.pid());
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let port = server.port;
            std::thread::spawn(move || {
                let (mut stream, response) = connect(port);
                assert!(response.starts_with("HTTP/1.1 101"), "{response}");
                stream
                    .set_write_timeout(Some(Duration::from_secs(5)))
                    .expect("set a timeout");
                let chunk = vec![b'x'; 1 << 20];
                for i in 0..20 {
                    let opcode = if i == 0 { 2 } else { 0 };
                    let header = frame_header(i == 19, opcode, chunk.len() as u64);
                    // The server stops reading once the message is too big: writes then fail
                    // or block, which ends this client.
                    if stream.write_all(&header).is_err() || stream.write_all(&chunk).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client thread");
    }
    for _ in 0..4 {
        let end = server.wait_line("WS END", Duration::from_secs(20));
        assert_eq!(
            end.trim(),
            "closed 1009 message larger than max_message (1 MiB)",
            "{}",
            server.describe()
        );
    }
    let peak = peak_rss_mib(server.pid());
    println!("4 x 20 MiB WebSocket messages: server peak RSS {before} -> {peak} MiB");
    assert!(
        peak < before + 40,
        "peak RSS grew from {before} to {peak} MiB: messages were buffered"
    );
}

/// A route that speaks subprotocols refuses a client offering none of them (400, saying
/// which), as Python websockets' server does; of several, the route's preference wins.
#[test]
fn subprotocols_follow_the_route_s_preference() {
    let server = Server::start();
    let (_stream, response) = connect_offering(server.port, "/ws", "other, superchat");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    let (mut stream, response) = connect_offering(server.port, "/ws", "superchat, chat");
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("sec-websocket-protocol: chat\r\n"),
        "{response}"
    );
    assert_eq!(read_frame(&mut stream), b"protocol:chat");
}

#[test]
fn peer_vanishing_without_close_frame_is_closed() {
    let mut server = Server::start();
    let (mut stream, response) = connect(server.port);
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    // RFC 6455's example key has a known accept value.
    assert!(
        response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{response}"
    );
    assert_eq!(read_frame(&mut stream), b"protocol:chat");
    stream.write_all(&text_frame("hi")).expect("send a frame");
    assert_eq!(read_frame(&mut stream), b"echo:hi");
    drop(stream); // no close frame: the TCP connection just ends

    // The rest of the line after "WS END": `closed 1006 <reason>` (RFC 6455 7.1.5: ended
    // without a close frame).
    let end = server.wait_line("WS END", Duration::from_secs(10));
    assert!(end.trim_start().starts_with("closed 1006 "), "{end}");
    assert!(!end.ends_with(" nil"), "a reason is given: {end}");
    // The server goes on.
    let r = curl(&[&server.url("/hello")]);
    assert_eq!(r.status, 200, "{}", r.describe());
}

/// `conn:close` while another task of the handler waits in `conn:recv`, and a peer that never
/// answers the close frame (nor closes): the waiting `recv` gives up 1 s after the close frame,
/// says so, and the server ends the TCP connection then, without the peer's help.
#[test]
fn close_while_a_recv_waits_ends_without_the_peers_answer() {
    let mut server = Server::start_script(&fixtures().join("ws_peer.lua"), &[]);
    let (mut stream, response) = connect_to(server.port, "/close-while-waiting");
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    assert_eq!(read_frame(&mut stream), b"ready");
    assert_eq!(close_code(&mut stream), 1000);
    let closed = Instant::now();
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("the server ends the connection (no timeout, no reset)");
    let seconds = closed.elapsed().as_secs_f64();
    assert!(rest.is_empty(), "bytes after the close frame: {rest:?}");
    assert!(
        seconds < 2.0,
        "the connection ended {seconds} s after the close frame"
    );
    let end = server.wait_line("WAITER", Duration::from_secs(5));
    assert_eq!(
        end,
        " closed 1006 the peer did not answer our close frame within 1 s",
        "{}",
        server.describe()
    );
}
