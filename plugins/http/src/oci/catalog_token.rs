//! A token for `/v2/_catalog` from a registry's token service.
//!
//! oci-client runs the distribution token flow itself, but always asks for a repository scope
//! (`repository:<name>:pull`); listing the catalog needs `registry:catalog:*`, so a registry
//! behind a token service (Harbor, a self-hosted distribution with `auth: token`) would refuse
//! the catalog to any user. When it does and basic credentials were given, this asks the token
//! service named by the registry's challenge (`WWW-Authenticate: Bearer realm=...,
//! service=...`) for that scope, with those credentials, as `docker` and `crane` do.

use assay_sdk::{Error, Result};
use oci_client::secrets::RegistryAuth;

use super::errors;
use super::options::Connection;

/// The token, or `None` when the registry has no token flow (its 401 then stands).
pub(crate) async fn fetch(conn: &Connection, registry: &str) -> Result<Option<String>> {
    let RegistryAuth::Basic(user, password) = &conn.auth else {
        return Ok(None);
    };
    let client = http_client(conn)?;
    let scheme = if conn.plain_http { "http" } else { "https" };
    let network = |e: reqwest::Error| {
        Error::new(if e.is_timeout() {
            errors::timed_out(conn, registry)
        } else {
            format!(
                "asking {registry} for a catalog token failed: {}",
                crate::client::errors::root_cause(&e)
            )
        })
    };
    let probe = client
        .get(format!("{scheme}://{registry}/v2/"))
        .send()
        .await
        .map_err(network)?;
    let Some(challenge) = probe
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_challenge)
    else {
        return Ok(None);
    };
    let Some(realm) = challenge.iter().find(|(k, _)| k == "realm").map(|(_, v)| v) else {
        return Ok(None);
    };
    let mut query = vec![("scope", "registry:catalog:*".to_owned())];
    if let Some((_, service)) = challenge.iter().find(|(k, _)| k == "service") {
        query.push(("service", service.clone()));
    }
    let answer = client
        .get(realm)
        .query(&query)
        .basic_auth(user, Some(password))
        .send()
        .await
        .map_err(network)?;
    let status = answer.status();
    let body = answer.bytes().await.map_err(network)?;
    if !status.is_success() {
        return Err(Error::new(format!(
            "the token service of {registry} refused the credentials of user '{user}' for the \
             catalog (HTTP {})",
            status.as_u16()
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        Error::new(format!(
            "the token service of {registry} answered with something other than JSON: {e}"
        ))
    })?;
    let token = json
        .get("token")
        .or_else(|| json.get("access_token"))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            Error::new(format!(
                "the token service of {registry} answered without a token"
            ))
        })?;
    Ok(Some(token.to_owned()))
}

/// A reqwest client trusting what the registry client trusts, within the same time limits.
fn http_client(conn: &Connection) -> Result<reqwest::Client> {
    let roots = match &conn.ca_cert {
        Some(source) => crate::client::certs::ca_certs(source)?,
        None => Vec::new(),
    };
    let make = |only_ours: bool| {
        let builder = reqwest::Client::builder()
            .user_agent(concat!("assay/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(conn.insecure)
            .connect_timeout(conn.timeout)
            .read_timeout(conn.timeout)
            .timeout(conn.timeout);
        if only_ours {
            builder.tls_certs_only(roots.clone())
        } else {
            builder.tls_certs_merge(roots.clone())
        }
        .build()
    };
    make(false).or_else(|first| {
        make(true).map_err(|_| {
            Error::new(format!(
                "cannot set up the registry client: {}",
                crate::client::errors::root_cause(&first)
            ))
        })
    })
}

/// The parameters of a `Bearer` challenge (`realm="...",service="..."`), or `None` for another
/// scheme.
fn bearer_challenge(header: &str) -> Option<Vec<(String, String)>> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            return Some(params);
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed() {
        let params = bearer_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push""#,
        )
        .expect("bearer");
        assert_eq!(
            params,
            vec![
                ("realm".into(), "https://auth.example/token".into()),
                ("service".into(), "registry".into()),
                ("scope".into(), "repository:a/b:pull,push".into()),
            ]
        );
        assert_eq!(bearer_challenge(r#"Basic realm="x""#), None);
        assert_eq!(
            bearer_challenge("bearer realm=plain, service=\"s\"").expect("bearer"),
            vec![
                ("realm".into(), "plain".into()),
                ("service".into(), "s".into())
            ]
        );
    }
}
