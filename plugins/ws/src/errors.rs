//! Why a connection could not be opened, in the http client's words where the failure is the
//! same (refused, DNS, TLS, timed out), so a script's logs read alike whichever it used.

use std::io::ErrorKind;
use std::time::Duration;

use assay_sdk::Error;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::handshake::headers::MAX_HEADERS;

use crate::request::Target;

/// How a script turns certificate checks off, for messages that suggest it.
const SKIP_VERIFYING: &str = "pass insecure = true to skip verification";

/// At most this much of a refusal's body goes into the message.
const MAX_BODY_SHOWN: usize = 200;

pub fn timed_out(url: &str, limit: Duration) -> Error {
    Error::new(format!(
        "cannot connect to {}: timed out after {} (timeout)",
        shown(url),
        seconds(limit.as_secs_f64())
    ))
}

/// Seconds as a script gave them, short: `0.3s`, `10s`, `1e+300s`.
pub fn seconds(seconds: f64) -> String {
    match seconds.abs() >= 1e9 {
        true => format!("{seconds:e}s"),
        false => format!("{seconds}s"),
    }
}

/// `url` as messages show it: a password in it (`ws://user:secret@host/`) replaced by `***`.
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

pub fn unresolved(target: &Target, e: &std::io::Error) -> Error {
    let why = e.to_string();
    let why = why
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&why);
    Error::new(format!("cannot resolve host {} ({why})", target.host))
}

pub fn unconnected(target: &Target, e: &std::io::Error) -> Error {
    let what = match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        ErrorKind::ConnectionReset => "connection reset by the server".to_owned(),
        ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        ErrorKind::AddrNotAvailable => "address not available".to_owned(),
        _ => assay_sdk::tls::root_cause(e),
    };
    Error::new(format!("cannot connect to {}: {what}", target.authority()))
}

pub fn tls_failed(target: &Target, e: &std::io::Error) -> Error {
    let why = match assay_sdk::tls::find(e) {
        Some(tls) => assay_sdk::tls::reason(tls, &target.host, SKIP_VERIFYING),
        None => assay_sdk::tls::root_cause(e),
    };
    Error::new(format!(
        "TLS handshake with {} failed: {why}",
        target.authority()
    ))
}

pub fn handshake_failed(url: &str, target: &Target, offered: &[String], e: WsError) -> Error {
    let url = shown(url);
    let text = match e {
        WsError::Http(response) => {
            let status = response.status();
            let mut text = format!(
                "handshake rejected by {url}: HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            );
            let body = response.body().as_deref().unwrap_or_default();
            let body = String::from_utf8_lossy(&body[..body.len().min(MAX_BODY_SHOWN)]);
            if let Some(line) = body.lines().map(str::trim).find(|l| !l.is_empty()) {
                text.push_str(&format!(" ({line})"));
            }
            text
        }
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(e)) => {
            let offered = offered.join(", ");
            match e {
                SubProtocolError::NoSubProtocol => {
                    format!("{url} accepted none of the subprotocols offered ({offered})")
                }
                SubProtocolError::InvalidSubProtocol => {
                    format!("{url} chose a subprotocol that was not offered ({offered})")
                }
                SubProtocolError::ServerSentSubProtocolNoneRequested => {
                    format!("{url} chose a subprotocol though none was offered")
                }
            }
        }
        WsError::AttackAttempt => format!(
            "WebSocket handshake with {} failed: the server's response headers are over 64 KiB",
            target.authority()
        ),
        WsError::Capacity(CapacityError::TooManyHeaders) => format!(
            "WebSocket handshake with {} failed: the server's response has over {MAX_HEADERS} headers",
            target.authority()
        ),
        other => format!(
            "WebSocket handshake with {} failed: {}",
            target.authority(),
            assay_sdk::tls::one_line(&other.to_string())
        ),
    };
    Error::new(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(shown("ws://bob:hunter2@h:1/x?y"), "ws://bob:***@h:1/x?y");
        assert_eq!(shown("wss://a:b@c@h/"), "wss://a:***@h/");
        assert_eq!(shown("ws://bob@h/"), "ws://bob@h/");
        assert_eq!(shown("ws://h/a@b"), "ws://h/a@b");
        assert_eq!(shown("not a url"), "not a url");
    }
}
