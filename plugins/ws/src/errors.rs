//! Why a connection could not be opened, in the http client's words where the failure is the
//! same (refused, DNS, TLS, timed out), so a script's logs read alike whichever it used.

use std::io::ErrorKind;
use std::time::Duration;

use assay_sdk::Error;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};

use crate::request::Target;

/// How a script turns certificate checks off, for messages that suggest it.
const SKIP_VERIFYING: &str = "pass insecure = true to skip verification";

/// At most this much of a refusal's body goes into the message.
const MAX_BODY_SHOWN: usize = 200;

pub fn timed_out(url: &str, limit: Duration) -> Error {
    Error::new(format!(
        "cannot connect to {url}: timed out after {}s (timeout)",
        limit.as_secs_f64()
    ))
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
        other => format!(
            "WebSocket handshake with {} failed: {}",
            target.authority(),
            assay_sdk::tls::one_line(&other.to_string())
        ),
    };
    Error::new(text)
}
