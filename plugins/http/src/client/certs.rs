//! PEM inputs of `http.client`: `ca_cert`, `client_cert` and `client_key`.
//!
//! Each is a file path or the PEM text itself (`assay_sdk::pem`). Certificates are parsed here
//! rather than left to reqwest so that a mistake is reported when the client is made, naming
//! the option, instead of surfacing later as a handshake failure.

use assay_sdk::pem::{certificates, source as pem_source};
use assay_sdk::{Error, Result};
use reqwest::{Certificate, Identity};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::{self, PemObject, SectionKind};

/// Every certificate in `ca_cert` (a bundle may hold several), to add to the system roots.
pub(crate) fn ca_certs(source: &str) -> Result<Vec<Certificate>> {
    let bytes = pem_source("ca_cert", source)?;
    let ders = certificates("ca_cert", &bytes)?;
    ders.iter()
        .map(|der| {
            Certificate::from_der(der.as_ref())
                .map_err(|e| Error::new(format!("ca_cert: {}", super::errors::root_cause(&e))))
        })
        .collect()
}

/// The client identity for mutual TLS: `client_cert` (certificate chain, possibly with the key
/// in the same PEM) and `client_key`.
pub(crate) fn identity(cert: Option<&str>, key: Option<&str>) -> Result<Option<Identity>> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(Error::new(
                "client_key: given without client_cert (both are needed for a client certificate)",
            ));
        }
        (Some(cert), key) => (cert, key),
    };
    let cert_pem = pem_source("client_cert", cert)?;
    certificates("client_cert", &cert_pem)?;
    let key_pem = match key {
        Some(key) => pem_source("client_key", key)?,
        None => cert_pem.clone(),
    };
    let key_option = if key.is_some() {
        "client_key"
    } else {
        "client_cert"
    };
    match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(_) => {}
        Err(pem::Error::NoItemsFound) => {
            return Err(Error::new(if key.is_some() {
                "no private key found in client_key (expected a -----BEGIN PRIVATE KEY----- block)"
                    .to_owned()
            } else {
                "client_cert holds no private key: pass client_key too".to_owned()
            }));
        }
        Err(e) => {
            return Err(Error::new(format!(
                "{key_option}: bad PEM: {}",
                assay_sdk::pem::reason(&e)
            )));
        }
    }
    // reqwest wants one PEM holding the chain and the key; keep only those sections so a
    // stray block (parameters, a CSR) in either file cannot confuse it.
    let mut combined = Vec::with_capacity(cert_pem.len() + key_pem.len());
    append_sections(&mut combined, &cert_pem, |kind| {
        kind == SectionKind::Certificate
    })?;
    append_sections(&mut combined, &key_pem, |kind| {
        matches!(
            kind,
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
        )
    })?;
    Identity::from_pem(&combined)
        .map(Some)
        .map_err(|e| Error::new(format!("client_cert: {}", super::errors::root_cause(&e))))
}

/// Appends the sections of `pem_bytes` whose kind `keep` accepts, re-encoded as PEM.
fn append_sections(
    out: &mut Vec<u8>,
    pem_bytes: &[u8],
    keep: impl Fn(SectionKind) -> bool,
) -> Result<()> {
    let mut rest = pem_bytes;
    // Each round consumes at least one section, so the loop ends with the input.
    loop {
        match pem::from_buf(&mut rest) {
            Ok(Some((kind, der))) => {
                if keep(kind) {
                    out.extend_from_slice(&encode_section(kind, &der));
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                return Err(Error::new(format!(
                    "bad PEM: {}",
                    assay_sdk::pem::reason(&e)
                )));
            }
        }
    }
}

/// One PEM section: header, base64 body in 64-column lines, footer.
fn encode_section(kind: SectionKind, der: &[u8]) -> Vec<u8> {
    let label = match kind {
        SectionKind::Certificate => "CERTIFICATE",
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        _ => "UNKNOWN",
    };
    let body = base64(der);
    let mut out = format!("-----BEGIN {label}-----\n").into_bytes();
    for line in body.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("-----END {label}-----\n").as_bytes());
    out
}

/// Standard base64 with padding (a few lines; not worth a dependency here).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn pem_without_certificates_is_refused() {
        let err = ca_certs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .expect_err("no certificate");
        assert!(
            err.message().starts_with("no certificate found in ca_cert"),
            "{err}"
        );
    }

    #[test]
    fn key_without_cert_is_refused() {
        let err = identity(None, Some("/k.pem")).expect_err("no cert");
        assert!(err.message().contains("without client_cert"), "{err}");
    }
}
