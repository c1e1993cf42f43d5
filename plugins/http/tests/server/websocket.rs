//! WebSocket routes from a raw socket: the handshake, a frame each way, and a peer that goes
//! away without a close frame, which `conn:recv` reports as closed (with the reason), not as
//! an error.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use crate::Server;
use crate::curl::curl;

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

#[test]
fn peer_vanishing_without_close_frame_is_closed() {
    let mut server = Server::start();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a timeout");
    let handshake = "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
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
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    // RFC 6455's example key has a known accept value.
    assert!(
        response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{response}"
    );
    assert_eq!(read_frame(&mut stream), b"protocol:nil");
    stream.write_all(&text_frame("hi")).expect("send a frame");
    assert_eq!(read_frame(&mut stream), b"echo:hi");
    drop(stream); // no close frame: the TCP connection just ends

    // The rest of the line after "WS END": `closed <reason>`.
    let end = server.wait_line("WS END", Duration::from_secs(10));
    assert!(end.trim_start().starts_with("closed "), "{end}");
    assert!(!end.ends_with(" nil"), "a reason is given: {end}");
    // The server goes on.
    let r = curl(&[&server.url("/hello")]);
    assert_eq!(r.status, 200, "{}", r.describe());
}
