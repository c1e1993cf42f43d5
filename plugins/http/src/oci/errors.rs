//! oci-client's errors as one line a script author can act on.
//!
//! The crate reports a registry's refusal as its JSON error envelope or the raw status and
//! body, and a network failure as a reqwest error several causes deep. Here: "not found" is
//! recognised (callers that ask whether something exists get `nil, "not found"`), a 401 says
//! whether credentials were missing or refused (naming the user, never the password), the
//! network failures read as the `http` client's do, and a time limit says which one fired.

use std::time::Duration;

use assay_sdk::Error;
use oci_client::errors::{OciDistributionError, OciEnvelope, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use reqwest::Url;

use super::options::Connection;
use crate::client::errors as http_errors;

/// What a message needs to know about the call that failed.
pub(crate) struct Cx<'a> {
    /// `host[:port]` of the registry.
    pub registry: &'a str,
    /// What was asked, for the message (`127.0.0.1:5000/pkgs/k8s:1.0`).
    pub subject: String,
    pub conn: &'a Connection,
}

/// Whether the registry said the thing asked for does not exist: HTTP 404, or one of the
/// distribution spec's "unknown" codes.
pub(crate) fn is_not_found(err: &OciDistributionError) -> bool {
    match err {
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::NameUnknown
                    | OciErrorCode::ManifestUnknown
                    | OciErrorCode::BlobUnknown
                    | OciErrorCode::NotFound
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        _ => false,
    }
}

/// The message for `err`.
pub(crate) fn describe(err: &OciDistributionError, cx: &Cx<'_>) -> Error {
    Error::new(reason(err, cx))
}

fn reason(err: &OciDistributionError, cx: &Cx<'_>) -> String {
    use OciDistributionError as E;
    let at = cx.registry;
    match err {
        E::RequestError(e) => network(e, cx),
        E::UnauthorizedError { .. } => unauthorized(cx),
        E::AuthenticationFailure(why) => format!(
            "the token service of {at} refused {}: {}",
            credentials(cx.conn),
            short(why)
        ),
        E::RegistryError { envelope, .. } => {
            if envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied))
            {
                return if envelope
                    .errors
                    .iter()
                    .any(|e| e.code == OciErrorCode::Denied)
                {
                    format!(
                        "{at} denied access to {} for {} ({})",
                        cx.subject,
                        credentials(cx.conn),
                        codes(envelope)
                    )
                } else {
                    unauthorized(cx)
                };
            }
            format!("{at} refused {}: {}", cx.subject, codes(envelope))
        }
        E::ServerError { code, message, .. } => match code {
            401 => unauthorized(cx),
            403 => format!(
                "{at} denied access to {} for {} (HTTP 403{})",
                cx.subject,
                credentials(cx.conn),
                body_suffix(message)
            ),
            _ => format!(
                "{at} answered HTTP {code} for {}{}",
                cx.subject,
                body_suffix(message)
            ),
        },
        E::DigestError(e) => format!("{} from {at}: {e}", cx.subject),
        other => format!("{}: {}", cx.subject, short(&other.to_string())),
    }
}

/// A 401: credentials missing, or refused.
fn unauthorized(cx: &Cx<'_>) -> String {
    let at = cx.registry;
    match &cx.conn.auth {
        RegistryAuth::Anonymous => format!(
            "{at} requires authentication for {} (401 unauthorized): pass auth = {{user = ..., \
             password = ...}} or auth = {{bearer = ...}}",
            cx.subject
        ),
        _ => format!(
            "{at} refused {} for {} (401 unauthorized)",
            credentials(cx.conn),
            cx.subject
        ),
    }
}

/// Which credentials were used, for messages: never the secret itself.
fn credentials(conn: &Connection) -> String {
    match (&conn.auth, &conn.user) {
        (RegistryAuth::Basic(..), Some(user)) => format!("the credentials of user '{user}'"),
        (RegistryAuth::Bearer(_), _) => "the bearer token".to_owned(),
        _ => "anonymous access".to_owned(),
    }
}

/// The envelope's codes and messages: `MANIFEST_UNKNOWN (manifest unknown)`.
fn codes(envelope: &OciEnvelope) -> String {
    let parts: Vec<String> = envelope
        .errors
        .iter()
        .map(|e| {
            let code = serde_json::to_value(&e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{:?}", e.code));
            if e.message.is_empty() {
                code
            } else {
                format!("{code} ({})", short(&e.message))
            }
        })
        .collect();
    if parts.is_empty() {
        "an error without details".to_owned()
    } else {
        parts.join(", ")
    }
}

/// A network failure, worded as the `http` client words it.
fn network(e: &reqwest::Error, cx: &Cx<'_>) -> String {
    let fallback = format!("http://{}/v2/", cx.registry);
    let url = e.url().cloned().or_else(|| Url::parse(&fallback).ok());
    let Some(url) = url else {
        return format!("{}: {}", cx.subject, http_errors::root_cause(e));
    };
    if e.is_timeout() {
        return timed_out(cx.conn, cx.registry);
    }
    // oci-client turns some refusals into reqwest status errors (`error_for_status`).
    if let Some(status) = e.status() {
        return match status.as_u16() {
            401 => unauthorized(cx),
            403 => format!(
                "{} denied access to {} for {} (HTTP 403)",
                cx.registry,
                cx.subject,
                credentials(cx.conn)
            ),
            code => format!("{} answered HTTP {code} for {}", cx.registry, cx.subject),
        };
    }
    let context = http_errors::Context {
        url: &url,
        timeout: Some(cx.conn.timeout),
        default_timeout: cx.conn.default_timeout,
        connect_timeout: Some(cx.conn.timeout),
        max_redirects: 10,
    };
    http_errors::describe(e, &context).into_message()
}

/// The message for a wait longer than `timeout`.
pub(crate) fn timed_out(conn: &Connection, registry: &str) -> String {
    let limit = http_errors::seconds(conn.timeout);
    if conn.default_timeout {
        format!(
            "{registry} did not answer within {limit} (the default timeout; pass timeout = \
             <seconds> to change it)"
        )
    } else {
        format!("{registry} did not answer within {limit} (timeout)")
    }
}

/// Runs `future`, failing with the timeout message when it takes longer than `limit`.
pub(crate) async fn within<T>(
    limit: Duration,
    conn: &Connection,
    registry: &str,
    future: impl std::future::Future<Output = assay_sdk::Result<T>>,
) -> assay_sdk::Result<T> {
    match tokio::time::timeout(limit, future).await {
        Ok(result) => result,
        Err(_) => Err(Error::new(timed_out(conn, registry))),
    }
}

/// ` : <body>` when the body says something.
fn body_suffix(body: &str) -> String {
    let body = short(body);
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// One line of at most 200 characters.
fn short(text: &str) -> String {
    let line = assay_sdk::tls::one_line(text.trim());
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}
