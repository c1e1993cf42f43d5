//! Turning a failed request into one short line a script author can act on.
//!
//! reqwest's own message ("error sending request for url (...)") hides the cause several
//! `source()` levels down: hyper's connect error, then an `io::Error`, then perhaps a rustls
//! error. We walk that chain, recognise the usual failures (refused, timed out, DNS, TLS) and
//! say them plainly; anything else falls back to the deepest cause's text.

use std::error::Error as StdError;
use std::time::Duration;

use assay_sdk::Error;
use reqwest::Url;
use rustls::{AlertDescription, CertificateError};

/// At most this many links of a `source()` chain are followed (chains are 3-6 long).
const MAX_CHAIN: usize = 16;

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

/// The errors of `err`'s chain, `err` first. An `io::Error` wrapping another error reports
/// the inner one's *source* from `source()`, skipping the inner error itself, so it is
/// unwrapped with `get_ref()` here.
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        if out.len() >= MAX_CHAIN {
            break;
        }
        out.push(e);
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The deepest cause's text: what actually went wrong.
pub(crate) fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let links = chain(err);
    let text = links
        .last()
        .map(|e| e.to_string())
        .unwrap_or_else(|| err.to_string());
    one_line(&text)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
            tls_reason(tls, cx.url)
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

fn tls_reason(err: &rustls::Error, url: &Url) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => certificate_reason(cert, url),
        rustls::Error::AlertReceived(alert) => alert_reason(*alert),
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".to_owned(),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("{err} (is the server speaking TLS on this port?)")
        }
        other => one_line(&other.to_string()),
    }
}

fn certificate_reason(err: &CertificateError, url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match err {
        CertificateError::UnknownIssuer => {
            "certificate signed by an unknown CA (not in the system roots; add it with ca_cert)"
                .to_owned()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate not valid for name '{host}'")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate not valid yet".to_owned()
        }
        CertificateError::Revoked => "certificate revoked".to_owned(),
        CertificateError::BadSignature => "certificate has a bad signature".to_owned(),
        CertificateError::BadEncoding => "the server's certificate is malformed".to_owned(),
        // A trusted certificate has the issuer's name but a key of another type: a different
        // CA of the same name (self-signed certificates for "localhost" often share theirs).
        CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "the server's certificate names an issuer whose trusted certificate (in ca_cert or \
             the system roots) has another type of key than the one that signed it: a \
             different CA of the same name; give ca_cert the CA that signed the server's \
             certificate"
                .to_owned()
        }
        CertificateError::UnsupportedSignatureAlgorithmContext { .. } => {
            "the server's certificate is signed with an algorithm TLS does not accept".to_owned()
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            NOT_FOR_SERVERS.to_owned()
        }
        CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(e) => webpki_reason(e),
            // The platform verifier replaces webpki's purpose error with one of its own private
            // type; its text is what there is to go on.
            None if other.0.to_string() == "certificate had invalid extensions" => {
                NOT_FOR_SERVERS.to_owned()
            }
            None => format!("invalid certificate ({})", one_line(&other.0.to_string())),
        },
        other => format!("invalid certificate ({})", one_line(&format!("{other:?}"))),
    }
}

/// A certificate made for another use (a client certificate, a CA) served as a server's.
const NOT_FOR_SERVERS: &str = "the server's certificate is not for server authentication (its \
                               extendedKeyUsage lacks serverAuth)";

/// The webpki errors rustls passes on as they are, in words with what to do.
fn webpki_reason(err: &webpki::Error) -> String {
    match err {
        // Checked before the issuer, so with or without ca_cert. A self-signed certificate
        // without CA:TRUE is accepted when given as ca_cert (webpki takes it as its own anchor).
        webpki::Error::CaUsedAsEndEntity => "the server's certificate is a CA certificate \
            (basicConstraints CA:TRUE), which TLS does not accept as a server's own: it is \
            probably self-signed, as `openssl req -x509` makes them by default. Give ca_cert \
            the CA that signed it, or make the self-signed certificate again with \
            `-addext basicConstraints=critical,CA:FALSE` and give it as ca_cert, or pass \
            insecure = true to skip verification"
            .to_owned(),
        webpki::Error::EndEntityUsedAsCa => "the server's certificate was signed by a \
            certificate that is not a CA (basicConstraints CA:FALSE); give ca_cert the CA that \
            signed it"
            .to_owned(),
        webpki::Error::UnsupportedCriticalExtension => {
            "the server's certificate has a critical extension TLS does not know".to_owned()
        }
        webpki::Error::MalformedExtensions | webpki::Error::ExtensionValueInvalid => {
            "the server's certificate has malformed extensions".to_owned()
        }
        webpki::Error::CertDistrusted => "the server's certificate is distrusted".to_owned(),
        other => format!("invalid certificate ({})", one_line(&other.to_string())),
    }
}

fn alert_reason(alert: AlertDescription) -> String {
    match alert {
        AlertDescription::CertificateRequired => {
            "the server requires a client certificate (pass client_cert and client_key)".to_owned()
        }
        AlertDescription::BadCertificate
        | AlertDescription::UnknownCA
        | AlertDescription::CertificateUnknown
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateExpired
        | AlertDescription::AccessDenied => {
            format!("the server refused our client certificate (alert: {alert:?})")
        }
        AlertDescription::HandshakeFailure => {
            "the server refused the handshake (no common protocol or cipher, or it wants a \
             client certificate)"
                .to_owned()
        }
        other => format!("the server sent alert {other:?}"),
    }
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
    fn io_errors_are_unwrapped() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let links = chain(&io);
        assert_eq!(links.len(), 2);
        assert!(links[1].downcast_ref::<rustls::Error>().is_some());
    }

    #[test]
    fn authority_has_the_default_port() {
        let url = Url::parse("https://example.com/x").expect("url");
        assert_eq!(authority(&url), "example.com:443");
    }
}
