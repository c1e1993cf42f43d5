//! TLS failures in words a script author can act on: the error chain is walked to the rustls
//! error, and each usual failure (unknown CA, wrong name, expired, a self-signed server
//! certificate, a client certificate refused) is said with what to do.

use std::error::Error as StdError;

use rustls::{AlertDescription, CertificateError};

/// At most this many links of a `source()` chain are followed (chains are 3-6 long).
const MAX_CHAIN: usize = 16;

/// The errors of `err`'s chain, `err` first. An `io::Error` wrapping another error reports
/// the inner one's *source* from `source()`, skipping the inner error itself, so it is
/// unwrapped with `get_ref()` here.
pub fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
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
pub fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let links = chain(err);
    let text = links
        .last()
        .map(|e| e.to_string())
        .unwrap_or_else(|| err.to_string());
    one_line(&text)
}

/// `text` with its runs of white space (new lines too) made one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rustls error in `err`'s chain, if there is one.
pub fn find<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    chain(err)
        .into_iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
}

/// Why a TLS handshake failed, in words with what to do: `host` is the name the certificate
/// had to carry, `skip` how the caller turns verification off (for a self-signed
/// certificate).
pub fn reason(err: &rustls::Error, host: &str, skip: &str) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => certificate_reason(cert, host, skip),
        rustls::Error::AlertReceived(alert) => alert_reason(*alert),
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".to_owned(),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("{err} (is the server speaking TLS on this port?)")
        }
        other => one_line(&other.to_string()),
    }
}

fn certificate_reason(err: &CertificateError, host: &str, skip: &str) -> String {
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
            Some(e) => webpki_reason(e, skip),
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
fn webpki_reason(err: &webpki::Error, skip: &str) -> String {
    match err {
        // Checked before the issuer, so with or without ca_cert. A self-signed certificate
        // without CA:TRUE is accepted when given as ca_cert (webpki takes it as its own anchor).
        webpki::Error::CaUsedAsEndEntity => format!(
            "the server's certificate is a CA certificate (basicConstraints CA:TRUE), which \
             TLS does not accept as a server's own: it is probably self-signed, as `openssl \
             req -x509` makes them by default. Give ca_cert the CA that signed it, or make the \
             self-signed certificate again with `-addext basicConstraints=critical,CA:FALSE` \
             and give it as ca_cert, or {skip}"
        ),
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
    fn io_errors_are_unwrapped() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let links = chain(&io);
        assert_eq!(links.len(), 2);
        assert!(links[1].downcast_ref::<rustls::Error>().is_some());
        assert!(find(&io).is_some());
    }

    #[test]
    fn a_self_signed_server_certificate_says_how_to_skip() {
        let err = rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            std::sync::Arc::new(webpki::Error::CaUsedAsEndEntity),
        )));
        let text = reason(&err, "db", "use sslmode=require");
        assert!(text.ends_with("or use sslmode=require"), "{text}");
    }
}
