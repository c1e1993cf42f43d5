//! The options every `oci` function takes, and the oci-client `Client` made from them.
//!
//! - `auth = {user = "...", password = "..."}`: HTTP basic credentials, which oci-client also
//!   trades for a bearer token when the registry answers with a token challenge (the
//!   distribution token flow: Docker Hub, GHCR, Harbor, ...). `auth = {bearer = "..."}`: a
//!   token sent as it is (`Authorization: Bearer`), no exchange. No `auth`: anonymous (a
//!   registry with a token flow still gives anonymous pull tokens where it allows them).
//! - `plain_http = true`: `http://` instead of `https://` (a registry on loopback, a test).
//! - `ca_cert`: a PEM file or PEM text whose certificates are trusted besides the system's
//!   roots; `insecure = true`: no certificate verification at all. As `http.client`'s.
//! - `timeout`: seconds (default 60) that connecting, and each wait for the registry (an
//!   answer, the next bytes of a body), may take; a call that only reads a small document
//!   (a manifest, a page of tags) must also finish within it as a whole. It cannot be turned
//!   off: a registry that accepts a connection and never answers would hang a Job forever.
//!   A download that keeps moving is never cut off by it.
//!
//! Unknown keys are errors naming the key, as for `http.client`.

use std::time::Duration;

use assay_sdk::{Error, Options, Result, Value};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;

/// Seconds any one wait may take when `timeout` is not given (as `http`'s default).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The keys every function takes.
pub(crate) const COMMON: &[&str] = &["auth", "plain_http", "ca_cert", "insecure", "timeout"];

/// The common options, read and checked on the Lua thread.
pub(crate) struct Connection {
    pub auth: RegistryAuth,
    /// The user of basic credentials, for messages (never the password).
    pub user: Option<String>,
    pub plain_http: bool,
    pub ca_cert: Option<String>,
    pub insecure: bool,
    pub timeout: Duration,
    /// Whether `timeout` is the default (the message then says how to change it).
    pub default_timeout: bool,
}

impl Connection {
    /// Reads the common options; `extra` are the keys the function takes besides them.
    pub(crate) fn read(opts: &Options<'_>, extra: &[&str]) -> Result<Self> {
        let known: Vec<&str> = COMMON.iter().chain(extra).copied().collect();
        opts.only(&known)?;
        let (auth, user) = auth(opts)?;
        let (timeout, default_timeout) = match opts.get("timeout") {
            None => (DEFAULT_TIMEOUT, true),
            Some(v) => (seconds(opts, "timeout", v)?, false),
        };
        Ok(Self {
            auth,
            user,
            plain_http: opts.bool("plain_http")?.unwrap_or(false),
            ca_cert: opts.str("ca_cert")?.map(str::to_owned),
            insecure: opts.bool("insecure")?.unwrap_or(false),
            timeout,
            default_timeout,
        })
    }

    /// A client for one call (see the module docs of `oci` for why not a shared one).
    pub(crate) fn client(&self) -> Result<oci_client::Client> {
        assay_sdk::tls::install_ring();
        assay_sdk::tls::check_ssl_cert_file()?;
        let extra = match &self.ca_cert {
            Some(source) => {
                let pem = assay_sdk::pem::source("ca_cert", source)?;
                assay_sdk::pem::certificates("ca_cert", &pem)?
                    .into_iter()
                    .map(|der| Certificate {
                        encoding: CertificateEncoding::Der,
                        data: der.as_ref().to_vec(),
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let config = |only_ours: bool| ClientConfig {
            protocol: if self.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            accept_invalid_certificates: self.insecure,
            extra_root_certificates: if only_ours { Vec::new() } else { extra.clone() },
            tls_certs_only: if only_ours { extra.clone() } else { Vec::new() },
            connect_timeout: Some(self.timeout),
            read_timeout: Some(self.timeout),
            user_agent: concat!("assay/", env!("CARGO_PKG_VERSION")),
            // Artifacts, not images: an index is returned as it is, never resolved to a
            // platform behind the caller's back.
            platform_resolver: None,
            ..ClientConfig::default()
        };
        // As `http.client`: the platform verifier refuses to start on a system without root
        // certificates; such a system can still reach registries whose CA is in ca_cert.
        match oci_client::Client::try_from(config(false)) {
            Ok(client) => Ok(client),
            Err(first) => oci_client::Client::try_from(config(true)).map_err(|_| {
                Error::new(format!(
                    "cannot set up the registry client: {}",
                    assay_sdk::tls::root_cause(&first)
                ))
            }),
        }
    }
}

/// `auth`: `{user =, password =}` or `{bearer =}`.
fn auth(opts: &Options<'_>) -> Result<(RegistryAuth, Option<String>)> {
    let Some(map) = opts.map("auth")? else {
        return Ok((RegistryAuth::Anonymous, None));
    };
    let text = |key: &str| -> Result<Option<String>> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::Str(b)) => b
                .to_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| opts.invalid("auth", format!("{key}: not valid UTF-8"))),
            Some(v) => Err(opts.invalid(
                "auth",
                format!("{key}: string expected, got {}", v.type_name()),
            )),
        }
    };
    for (key, _) in map.iter() {
        match key.as_str() {
            Some("user" | "password" | "bearer") => {}
            Some(other) => {
                return Err(opts.invalid(
                    "auth",
                    format!("unknown key '{other}' (expected user and password, or bearer)"),
                ));
            }
            None => {
                return Err(opts.invalid(
                    "auth",
                    format!("keys are strings, got a {}", key.type_name()),
                ));
            }
        }
    }
    match (text("user")?, text("password")?, text("bearer")?) {
        (Some(user), Some(password), None) => {
            Ok((RegistryAuth::Basic(user.clone(), password), Some(user)))
        }
        (None, None, Some(token)) => Ok((RegistryAuth::Bearer(token), None)),
        (Some(_), None, None) => Err(opts.invalid("auth", "user given without password")),
        (None, Some(_), None) => Err(opts.invalid("auth", "password given without user")),
        (None, None, None) => Err(opts.invalid(
            "auth",
            "empty (give user and password, or bearer; leave auth out for anonymous access)",
        )),
        _ => Err(opts.invalid("auth", "either user and password, or bearer, not both")),
    }
}

/// A positive, finite number of seconds.
pub(crate) fn seconds(opts: &Options<'_>, key: &str, v: &Value) -> Result<Duration> {
    let secs = v.as_float().ok_or_else(|| {
        opts.invalid(
            key,
            format!("a number of seconds expected, got {}", v.type_name()),
        )
    })?;
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if secs > 0.0 => Ok(d),
        _ => Err(opts.invalid(
            key,
            format!("a positive number of seconds expected, got {secs}"),
        )),
    }
}

/// A byte count option (`max_size`): an integer, at least 0.
pub(crate) fn byte_count(opts: &Options<'_>, key: &str) -> Result<Option<u64>> {
    match opts.int(key)? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| opts.invalid(key, format!("a byte count expected, got {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_sdk::{Args, Map};

    fn read(pairs: Vec<(&str, Value)>) -> Result<Connection> {
        let args = Args::from_vec(vec![Value::Map(pairs.into_iter().collect::<Map>())]);
        Connection::read(&args.options(1, "opts")?, &["output"])
    }

    fn table(pairs: Vec<(&str, &str)>) -> Value {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect::<Map>(),
        )
    }

    #[test]
    fn auth_forms() {
        let c = read(vec![(
            "auth",
            table(vec![("user", "u"), ("password", "p")]),
        )])
        .expect("basic");
        assert_eq!(c.auth, RegistryAuth::Basic("u".into(), "p".into()));
        assert_eq!(c.user.as_deref(), Some("u"));
        let c = read(vec![("auth", table(vec![("bearer", "t")]))]).expect("bearer");
        assert_eq!(c.auth, RegistryAuth::Bearer("t".into()));
        let err = |pairs: Vec<(&str, &str)>| {
            read(vec![("auth", table(pairs))])
                .err()
                .map(Error::into_message)
                .unwrap_or_default()
        };
        assert!(err(vec![("user", "u")]).contains("user given without password"));
        assert!(err(vec![("user", "u"), ("password", "p"), ("bearer", "t")]).contains("not both"));
        assert!(err(vec![("usr", "u")]).contains("unknown key 'usr'"));
        // The password never appears in a message.
        assert!(!err(vec![("password", "s3cret")]).contains("s3cret"));
    }

    #[test]
    fn unknown_options_and_timeouts() {
        let e = read(vec![("timout", Value::Int(1))])
            .err()
            .expect("unknown");
        assert!(e.message().contains("unknown option 'timout'"), "{e}");
        assert!(read(vec![("output", Value::from("x"))]).is_ok());
        let e = read(vec![("timeout", Value::Bool(false))])
            .err()
            .expect("false");
        assert!(e.message().contains("field 'timeout'"), "{e}");
        let c = read(vec![]).expect("defaults");
        assert_eq!((c.timeout, c.default_timeout), (DEFAULT_TIMEOUT, true));
        let c = read(vec![("timeout", Value::Float(0.5))]).expect("0.5");
        assert_eq!(c.timeout, Duration::from_millis(500));
    }
}
