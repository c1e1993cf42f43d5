//! The rustls client configuration of plugins that drive rustls themselves (the ws client, over
//! tokio-rustls), made to verify servers exactly as the http client does, so that a server
//! one plugin trusts the other trusts too, and a failure reads the same through
//! [`reason`](super::reason).
//!
//! The http client is reqwest 0.13 with rustls (`rustls-no-provider`, ring installed as the
//! default), built with `tls_certs_merge(ca_cert)` and, when that fails, `tls_certs_only`
//! (plugins/http/src/client/mod.rs). For that set-up reqwest (src/async_impl/client.rs, the
//! `TlsBackend::Rustls` arm) makes, and this module makes the same:
//!
//! - the ring provider and TLS 1.3 and 1.2 (rustls' safe defaults, all it supports);
//! - verification by `rustls-platform-verifier`: the system's roots (on Linux its CA bundle,
//!   `SSL_CERT_FILE`/`SSL_CERT_DIR` pointing elsewhere, as with OpenSSL) plus the extra roots
//!   (`ca_cert`), through webpki: chain to a trusted root, validity dates, the name the caller
//!   connects to, `serverAuth` usage, and the handshake's signature by the certificate's key;
//! - on a system without any root certificates (a scratch image), where the platform verifier
//!   refuses to start, the extra roots alone (rustls' webpki verifier). With no extra roots
//!   either, the configuration still builds and refuses every certificate as signed by an
//!   unknown CA, which is the message the http client gives there. (The platform verifier
//!   counts the extra roots as loaded, so with any extra root it starts even there.)
//! - SNI on, no client certificate, rustls' other defaults (session resumption).
//!
//! Decisions of this module:
//! - `insecure` accepts any certificate, for any name, as reqwest's
//!   `danger_accept_invalid_certs` does, but unlike reqwest it still checks the handshake's
//!   signatures against the key of the certificate presented (with the provider's algorithms):
//!   a server always passes that check for its own certificate, so nothing that works stops
//!   working, except a server that can only sign with a scheme ring lacks (SHA-1, Ed448),
//!   which reqwest would accept and this refuses.
//! - ALPN offers `http/1.1` alone: a WebSocket opens with an HTTP/1.1 upgrade (RFC 6455; the
//!   HTTP/2 bootstrap of RFC 8441 is not used), the only protocol the connection can speak.
//!   A server or a front end that negotiates ALPN then picks HTTP/1.1, never h2; one that does
//!   not ignores the extension; one that speaks h2 only refuses at the handshake (RFC 7301:
//!   alert `no_application_protocol`) instead of after it. (Python's websockets and Node's ws
//!   send no ALPN, which servers also take as HTTP/1.1.) A caller speaking something else sets
//!   `ClientConfig::alpn_protocols` on the result.
//! - `SSL_CERT_FILE` is checked ([`check_ssl_cert_file`]) before anything reads it, so a caller
//!   cannot forget to.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_platform_verifier::Verifier;

use super::{check_ssl_cert_file, one_line};

/// The protocol a WebSocket connection speaks over TLS: its HTTP/1.1 upgrade.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// Why [`client_config`] could not make a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    /// `SSL_CERT_FILE` names something that is not a readable regular file of a sane size.
    #[error("{0}")]
    SslCertFile(String),
    /// An extra root is not a certificate a trust anchor can be made from.
    #[error("extra root certificate {number} cannot be trusted: {reason}")]
    ExtraRoot {
        /// Its place among the extra roots, from 1.
        number: usize,
        reason: String,
        #[source]
        source: rustls::Error,
    },
    /// The provider cannot make TLS 1.2 or 1.3 connections (not the case of ring).
    #[error("the TLS provider cannot be used: {0}")]
    Provider(#[source] rustls::Error),
}

/// The client configuration that verifies servers as the http client does (see the module
/// docs): the system's roots plus `extra_roots`, or, with `insecure`, any certificate for any
/// name (the handshake's signatures still checked; `extra_roots` are then unused). ALPN offers
/// `http/1.1`, for a WebSocket's upgrade. The name a certificate must carry is the one given
/// to the connection (`rustls::ClientConnection::new`, `tokio_rustls::TlsConnector::connect`).
pub fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    insecure: bool,
) -> Result<ClientConfig, ClientConfigError> {
    check_ssl_cert_file().map_err(|e| ClientConfigError::SslCertFile(e.into_message()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(ClientConfigError::Provider)?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
    } else {
        match Verifier::new_with_extra_roots(extra_roots.clone(), provider) {
            Ok(verifier) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier)),
            // No root certificates on the system (or an extra root it could not add, which
            // `only` reports with its number): the http client's `tls_certs_only` fallback.
            Err(_) => builder.with_root_certificates(only(extra_roots)?),
        }
    };
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(config)
}

/// A root store of `extra_roots` alone.
fn only(extra_roots: Vec<CertificateDer<'static>>) -> Result<RootCertStore, ClientConfigError> {
    let mut store = RootCertStore::empty();
    for (at, root) in extra_roots.into_iter().enumerate() {
        store
            .add(root)
            .map_err(|source| ClientConfigError::ExtraRoot {
                number: at + 1,
                reason: root_reason(&source),
                source,
            })?;
    }
    Ok(store)
}

/// Why rustls could not make a trust anchor of a certificate.
fn root_reason(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::BadEncoding) => {
            "it is not a well-formed X.509 certificate".to_owned()
        }
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            one_line(&other.0.to_string())
        }
        other => one_line(&other.to_string()),
    }
}

/// `insecure`: any certificate, for any name, is accepted; the handshake's signatures are
/// still checked against the key of the certificate presented.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
