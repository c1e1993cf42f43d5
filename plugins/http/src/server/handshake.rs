//! The WebSocket opening handshake (RFC 6455 4.2), done here rather than by axum's extractor
//! so that the server owns the upgraded connection: after refusing a message (1009, 1002,
//! 1007) it must read and discard what the peer still sends before it closes, or the socket,
//! closed with unread data, sends RST and the peer loses the close frame (see
//! `websocket::Conn::close`). axum's `WebSocket` hides that stream.

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use hyper::upgrade::OnUpgrade;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::response::HttpResponse;

/// A handshake the server accepts: the 101 to send, the connection it yields once sent, and
/// the subprotocol chosen.
pub struct Accepted {
    pub response: HttpResponse,
    pub upgrade: OnUpgrade,
    pub protocol: Option<String>,
}

/// Checks `parts` as RFC 6455 4.2.1 asks and chooses the subprotocol (see [`choose`]). A request that is not a valid handshake gets the
/// response that says why: 405 for a method other than GET, 426 (with the version we speak)
/// for a version other than 13, 400 for anything else.
pub fn accept(parts: &mut Parts, protocols: &[String]) -> Result<Accepted, Box<HttpResponse>> {
    let refuse =
        |status: StatusCode, why: &str| Box::new((status, format!("{why}\n")).into_response());
    if parts.method != Method::GET {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket handshake must be a GET request",
        );
        let allow = HeaderValue::from_static("GET");
        response.headers_mut().insert(header::ALLOW, allow);
        return Err(response);
    }
    if !has_token(&parts.headers, &header::CONNECTION, "upgrade") {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs 'connection: upgrade'",
        ));
    }
    if !has_token(&parts.headers, &header::UPGRADE, "websocket") {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs 'upgrade: websocket'",
        ));
    }
    let version = parts.headers.get(header::SEC_WEBSOCKET_VERSION);
    if version.is_none_or(|v| v.as_bytes() != b"13") {
        let mut response = refuse(
            StatusCode::UPGRADE_REQUIRED,
            "this server speaks WebSocket version 13 only",
        );
        let thirteen = HeaderValue::from_static("13");
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_VERSION, thirteen);
        return Err(response);
    }
    let key = parts.headers.get(header::SEC_WEBSOCKET_KEY);
    // 4.2.1 item 5: a base64-encoded 16-byte nonce (Python `websockets` checks it too).
    let valid_key = key.is_some_and(|key| {
        base64::engine::general_purpose::STANDARD
            .decode(key.as_bytes())
            .is_ok_and(|nonce| nonce.len() == 16)
    });
    let (true, Some(key)) = (valid_key, key) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "'sec-websocket-key' must be a base64-encoded 16-byte nonce",
        ));
    };
    let protocol = match choose(protocols, &parts.headers) {
        Ok(protocol) => protocol,
        Err(why) => return Err(refuse(StatusCode::BAD_REQUEST, &why)),
    };
    // hyper offers no upgrade on a request it will not let go of (HTTP/1.0, say).
    let Some(upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        return Err(refuse(
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded (HTTP/1.1 is needed)",
        ));
    };
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = derive_accept_key(key.as_bytes());
    let accept = HeaderValue::from_str(&accept).expect("base64 is a valid header value");
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    if let Some(protocol) = &protocol {
        let value = HeaderValue::from_str(protocol).expect("an offered protocol is a header");
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok(Accepted {
        response,
        upgrade,
        protocol,
    })
}

/// Whether a comma-separated header (any of its lines) holds `token`, ignoring case.
fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

/// The subprotocol to speak: the first of the route's `protocols` (its order of preference)
/// the client offers; none when the route names none. A route that names some refuses a client
/// offering none of them, as Python websockets' server does (HTTP 400): its handler was
/// written for those protocols only.
fn choose(protocols: &[String], headers: &HeaderMap) -> Result<Option<String>, String> {
    if protocols.is_empty() {
        return Ok(None);
    }
    if let Some(chosen) = protocols
        .iter()
        .find(|p| offered(headers).any(|offer| offer == p.as_str()))
    {
        return Ok(Some(chosen.clone()));
    }
    let offers: Vec<&str> = offered(headers).collect();
    let offers = match offers.is_empty() {
        true => "the client offers none".to_owned(),
        false => format!("the client offers {}", offers.join(", ")),
    };
    Err(format!(
        "no subprotocol in common: {offers}; this route speaks {}",
        protocols.join(", ")
    ))
}

/// The subprotocols the client offers, in its order of preference.
fn offered(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|offer| !offer.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::get("/ws");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).expect("a valid request").into_parts().0
    }

    const VALID: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    fn refused(headers: &[(&str, &str)]) -> StatusCode {
        match accept(&mut parts(headers), &[]) {
            Err(response) => response.status(),
            Ok(_) => panic!("accepted {headers:?}"),
        }
    }

    #[test]
    fn each_missing_or_wrong_header_is_named() {
        let without = |name: &str| -> Vec<(&str, &str)> {
            VALID.iter().copied().filter(|(n, _)| *n != name).collect()
        };
        assert_eq!(refused(&without("connection")), StatusCode::BAD_REQUEST);
        assert_eq!(refused(&without("upgrade")), StatusCode::BAD_REQUEST);
        assert_eq!(
            refused(&without("sec-websocket-key")),
            StatusCode::BAD_REQUEST
        );
        let mut old = without("sec-websocket-version");
        old.push(("sec-websocket-version", "8"));
        assert_eq!(refused(&old), StatusCode::UPGRADE_REQUIRED);
        let mut short = without("sec-websocket-key");
        short.push(("sec-websocket-key", "c2hvcnQ="));
        assert_eq!(refused(&short), StatusCode::BAD_REQUEST);
        // Valid in every header, but a request built here has no connection to upgrade.
        assert_eq!(refused(&VALID), StatusCode::UPGRADE_REQUIRED);
    }

    #[test]
    fn the_route_s_preference_wins_and_no_overlap_is_refused() {
        let route = ["chat".to_owned(), "superchat".to_owned()];
        let offer = |value: &str| parts(&[("sec-websocket-protocol", value)]).headers;
        assert_eq!(
            choose(&route, &offer("superchat, chat")),
            Ok(Some("chat".into()))
        );
        assert_eq!(
            choose(&route, &offer("superchat")),
            Ok(Some("superchat".into()))
        );
        assert_eq!(choose(&[], &offer("chat")), Ok(None));
        let refused = choose(&route, &offer("other")).expect_err("no overlap");
        assert_eq!(
            refused,
            "no subprotocol in common: the client offers other; this route speaks chat, superchat"
        );
        let none = parts(&[]).headers;
        assert!(choose(&route, &none).is_err_and(|why| why.contains("offers none")));
    }

    #[test]
    fn offers_are_read_across_header_lines() {
        let mut headers = parts(&[("sec-websocket-protocol", "a, b"), ("x", "y")]).headers;
        headers.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("c"),
        );
        assert_eq!(offered(&headers).collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
