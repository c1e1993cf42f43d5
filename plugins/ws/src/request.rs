//! The URL and the handshake request made from it.

use assay_sdk::{Error, Result};
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::{
    AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL, USER_AGENT,
};
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};

use crate::options::ConnectOptions;

/// Where to connect, as the URL says.
pub struct Target {
    /// The host without brackets (an IPv6 address as it is), for DNS and the TLS name.
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl Target {
    /// `host:port` for messages (an IPv6 address in brackets).
    pub fn authority(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port),
            false => format!("{}:{}", self.host, self.port),
        }
    }
}

/// Parses `url` (`ws://` or `wss://`) and makes the handshake request: the URL's path and
/// query, the options' headers and subprotocols, a user agent, and basic authorization from
/// the URL's `user:password@`.
pub fn build(url: &str, opts: &ConnectOptions) -> Result<(Target, Request)> {
    let bad = |why: &str| Error::new(format!("bad argument #1 'url' ({why})"));
    let shown = crate::errors::shown(url);
    let uri: Uri = url
        .parse()
        .map_err(|e| bad(&format!("{shown:?} is not a URL: {e}")))?;
    let tls = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        Some(other) => return Err(bad(&format!("scheme '{other}' is not ws or wss"))),
        None => return Err(bad(&format!("{shown:?} has no scheme (ws:// or wss://)"))),
    };
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return Err(bad(&format!("{shown:?} has no host")));
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    // Read from the authority's text: `Uri::port` is `None` for a port that is no u16, which
    // would quietly become the default port.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port_text = match host_port.rsplit_once(':') {
        Some((host, port)) if !host.starts_with('[') || host.ends_with(']') => Some(port),
        _ => None,
    };
    let port = match port_text {
        None | Some("") => {
            if tls {
                443
            } else {
                80
            }
        }
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| bad(&format!("port {port} is not a port number (1-65535)")))?,
    };
    let userinfo = uri
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
        .map(|(userinfo, _)| userinfo.to_owned());
    let mut request = uri
        .into_client_request()
        .map_err(|e| bad(&format!("{shown:?}: {e}")))?;
    let headers = request.headers_mut();
    if let Some(userinfo) = userinfo {
        let decoded = percent_decode_str(&userinfo).collect::<Vec<u8>>();
        let token = base64::engine::general_purpose::STANDARD.encode(decoded);
        let value = HeaderValue::from_str(&format!("Basic {token}")).expect("base64 is a header");
        headers.insert(AUTHORIZATION, value);
    }
    let agent = concat!("assay/", env!("CARGO_PKG_VERSION"));
    headers.insert(USER_AGENT, HeaderValue::from_static(agent));
    for (name, value) in &opts.headers {
        headers.insert(name.clone(), value.clone());
    }
    if !opts.subprotocols.is_empty() {
        let offered = opts.subprotocols.join(", ");
        let value = HeaderValue::from_str(&offered).expect("tokens are a header value");
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok((Target { host, port, tls }, request))
}
