//! Turning a failed request into one short line a script author can act on.
//!
//! reqwest's own message ("error sending request for url (...)") hides the cause several
//! `source()` levels down: hyper's connect error, then an `io::Error`, then perhaps a rustls
//! error. We walk that chain, recognise the usual failures (refused, timed out, DNS, TLS) and
//! say them plainly; anything else falls back to the deepest cause's text.

use std::error::Error as StdError;
use std::time::Duration;

use assay_sdk::Error;
use assay_sdk::tls::chain;
pub(crate) use assay_sdk::tls::root_cause;
use reqwest::Url;

/// How a script turns certificate checks off, for messages that suggest it.
const SKIP_VERIFYING: &str = "pass insecure = true to skip verification";

/// What the message needs to know about the request that failed.
pub(crate) struct Context<'a> {
    pub url: &'a Url,
    /// The request's total time limit, if it had one.
    pub timeout: Option<Duration>,
    /// Whether that limit is the default one (nobody gave `timeout`): the message says so.
    pub default_timeout: bool,
    /// The client's connect time limit, if it has one.
    pub connect_timeout: Option<Duration>,
    /// The redirect limit (0: redirects are not followed).
    pub max_redirects: usize,
}

/// Why reqwest could not build a client, with the option at fault when it is known.
pub(crate) fn build_reason(err: &reqwest::Error) -> String {
    let links = chain(err);
    let inconsistent = links.iter().any(|e| {
        matches!(
            e.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InconsistentKeys(_))
        )
    });
    if inconsistent {
        "client_key does not belong to the certificate in client_cert".to_owned()
    } else {
        format!("cannot set up the HTTP client: {}", root_cause(err))
    }
}

/// `host:port` of the URL, as the connection used it.
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Seconds as a short number: `0.2s`, `5s`.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The message for a failed request.
pub(crate) fn describe(err: &reqwest::Error, cx: &Context<'_>) -> Error {
    Error::new(reason(err, cx))
}

fn reason(err: &reqwest::Error, cx: &Context<'_>) -> String {
    let at = authority(cx.url);
    let links = chain(err);
    if err.is_timeout() {
        // The connect limit fired when the connection never came up and the total limit, if
        // any, is longer than it.
        let connect_fired = match (cx.connect_timeout, cx.timeout) {
            (Some(connect), Some(total)) => err.is_connect() && total > connect,
            (Some(_), None) => true,
            (None, _) => false,
        };
        return match (connect_fired, cx.connect_timeout, cx.timeout) {
            (true, Some(connect), _) => format!(
                "cannot connect to {at}: timed out after {} (connect_timeout)",
                seconds(connect)
            ),
            (_, _, Some(total)) if cx.default_timeout => format!(
                "timed out after {} ({}); that is the default limit: pass timeout = <seconds>, \
                 or timeout = false for none",
                seconds(total),
                cx.url
            ),
            (_, _, Some(total)) => format!("timed out after {} ({})", seconds(total), cx.url),
            _ => format!("timed out ({})", cx.url),
        };
    }
    if err.is_redirect() {
        return if cx.max_redirects == 0 {
            format!("redirect refused ({})", root_cause(err))
        } else {
            format!(
                "too many redirects (more than {}) starting at {}",
                cx.max_redirects, cx.url
            )
        };
    }
    if let Some(tls) = links.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return format!(
            "TLS handshake with {at} failed: {}",
            assay_sdk::tls::reason(tls, cx.url.host_str().unwrap_or("?"), SKIP_VERIFYING)
        );
    }
    if let Some(io) = links
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>())
    {
        use std::io::ErrorKind as K;
        let what = match io.kind() {
            K::ConnectionRefused => Some("connection refused"),
            K::ConnectionReset => Some("connection reset by the server"),
            K::ConnectionAborted => Some("connection aborted"),
            K::HostUnreachable => Some("host unreachable"),
            K::NetworkUnreachable => Some("network unreachable"),
            K::AddrNotAvailable => Some("address not available"),
            _ => None,
        };
        if let Some(what) = what {
            return if err.is_connect() {
                format!("cannot connect to {at}: {what}")
            } else {
                format!("{what} ({at})")
            };
        }
    }
    let root = root_cause(err);
    if is_dns_failure(&links) {
        let host = cx.url.host_str().unwrap_or("?");
        let why = root
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&root);
        return format!("cannot resolve host {host} ({why})");
    }
    if err.is_connect() {
        return format!("cannot connect to {at}: {root}");
    }
    if err.is_body() || err.is_decode() {
        return format!("reading the response from {at} failed: {root}");
    }
    format!("request to {at} failed: {root}")
}

/// hyper-util reports resolver failures as a connect error whose text is "dns error"; its type
/// is private, so the text is what there is to go on.
fn is_dns_failure(links: &[&(dyn StdError + 'static)]) -> bool {
    links.iter().any(|e| {
        let text = e.to_string();
        text == "dns error" || text.starts_with("failed to lookup address")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_short() {
        assert_eq!(seconds(Duration::from_millis(200)), "0.2s");
        assert_eq!(seconds(Duration::from_secs(5)), "5s");
    }

    #[test]
    fn authority_has_the_default_port() {
        let url = Url::parse("https://example.com/x").expect("url");
        assert_eq!(authority(&url), "example.com:443");
    }
}
