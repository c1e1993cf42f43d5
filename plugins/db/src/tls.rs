//! `ca_cert`: verified TLS to PostgreSQL and MySQL/MariaDB.
//!
//! Without `ca_cert`, TLS is what the URL asks (`sslmode=require` for PostgreSQL,
//! `ssl-mode=REQUIRED` for MySQL: encrypted, the certificate unchecked, as libpq and the
//! mysql client do; `verify-full` / `VERIFY_IDENTITY` checked against the system roots).
//! With it (a PEM file path or the PEM text, added to the system roots, as the http client's
//! `ca_cert`), the connection is verified: the server's certificate must chain to a trusted
//! root and name the host (`verify-full`, `VERIFY_IDENTITY`), unless the URL asks to check
//! the chain only (`verify-ca`, `VERIFY_CA`). A URL that turns TLS off with a `ca_cert` given
//! is an error, not a silent plain connection.

use assay_sdk::{Error, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// The PEM of `ca_cert`, once it is known to hold a certificate.
pub fn ca_cert(source: &str) -> Result<Vec<u8>> {
    let pem = assay_sdk::pem::source("ca_cert", source)?;
    let option = if assay_sdk::pem::is_pem_text(source) {
        "ca_cert".to_owned()
    } else {
        format!("ca_cert ({source})")
    };
    assay_sdk::pem::certificates(&option, &pem)?;
    Ok(pem)
}

pub fn postgres(options: PgConnectOptions, ca: Option<Vec<u8>>) -> Result<PgConnectOptions> {
    let Some(pem) = ca else {
        return Ok(options);
    };
    let mode = match options.get_ssl_mode() {
        PgSslMode::Disable => {
            return Err(Error::new(
                "ca_cert given with sslmode=disable: drop one (ca_cert asks for verified TLS)",
            ));
        }
        PgSslMode::VerifyCa => PgSslMode::VerifyCa,
        _ => PgSslMode::VerifyFull,
    };
    Ok(options.ssl_mode(mode).ssl_root_cert_from_pem(pem))
}

pub fn mysql(options: MySqlConnectOptions, ca: Option<Vec<u8>>) -> Result<MySqlConnectOptions> {
    let Some(pem) = ca else {
        return Ok(options);
    };
    let mode = match options.get_ssl_mode() {
        MySqlSslMode::Disabled => {
            return Err(Error::new(
                "ca_cert given with ssl-mode=DISABLED: drop one (ca_cert asks for verified TLS)",
            ));
        }
        MySqlSslMode::VerifyCa => MySqlSslMode::VerifyCa,
        _ => MySqlSslMode::VerifyIdentity,
    };
    Ok(options.ssl_mode(mode).ssl_ca_from_pem(pem))
}
