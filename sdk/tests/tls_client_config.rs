//! `assay_sdk::tls::client_config`: handshakes through memory with servers presenting
//! certificates made by the `openssl` command, and the failures said as `tls::reason` says
//! them for the http client.

mod support;

use assay_sdk::tls::{ClientConfigError, client_config, reason};
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, version};
use support::{Pki, handshake};

const SKIP: &str = "pass insecure = true to skip verification";

#[test]
fn configurations_build_and_offer_http_1_1() {
    let pki = Pki::new();
    for (extra, insecure) in [
        (vec![], false),
        (pki.certs("ca"), false),
        (vec![], true),
        (pki.certs("ca"), true),
    ] {
        let config = client_config(extra, insecure).expect("a configuration");
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(config.enable_sni);
    }
}

#[test]
fn an_extra_root_that_is_no_certificate_is_named_by_its_place() {
    let pki = Pki::new();
    let mut extra = pki.certs("ca");
    extra.push(CertificateDer::from(b"not a certificate".to_vec()));
    let err = client_config(extra, false).expect_err("a malformed root");
    assert!(
        matches!(err, ClientConfigError::ExtraRoot { number: 2, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "extra root certificate 2 cannot be trusted: it is not a well-formed X.509 certificate"
    );
}

#[test]
fn a_server_whose_ca_is_not_trusted_is_refused() {
    let pki = Pki::new();
    let config = client_config(vec![], false).expect("a configuration");
    let err = handshake(config, pki.serve("server"), "localhost")
        .expect_err("an unknown CA")
        .client();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
        ),
        "{err:?}"
    );
    let text = reason(&err, "localhost", SKIP);
    assert!(
        text.starts_with("certificate signed by an unknown CA"),
        "{text}"
    );
}

#[test]
fn the_ca_as_an_extra_root_is_trusted_and_http_1_1_negotiated() {
    let pki = Pki::new();
    let config = client_config(pki.certs("ca"), false).expect("a configuration");
    let client = handshake(config, pki.serve("server"), "localhost").expect("a handshake");
    assert_eq!(client.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let pki = Pki::new();
    let config = client_config(pki.certs("ca"), false).expect("a configuration");
    let err = handshake(config, pki.serve("server"), "wrong.example")
        .expect_err("another name")
        .client();
    assert_eq!(
        reason(&err, "wrong.example", SKIP),
        "certificate not valid for name 'wrong.example'"
    );
}

#[test]
fn insecure_accepts_a_self_signed_certificate_for_any_name() {
    let pki = Pki::new();
    let verified = client_config(vec![], false).expect("a configuration");
    handshake(verified, pki.serve("self-signed"), "localhost")
        .expect_err("a self-signed certificate, verified");
    for name in ["localhost", "wrong.example"] {
        let insecure = client_config(vec![], true).expect("a configuration");
        handshake(insecure, pki.serve("self-signed"), name).expect("accepted when insecure");
    }
}

/// `insecure` skips the certificate's checks, not the proof that the server holds its key.
#[test]
fn insecure_still_checks_the_handshake_signature() {
    let pki = Pki::new();
    for versions in [&version::TLS13, &version::TLS12] {
        // The server presents its certificate but signs with the self-signed one's key.
        let server = pki.server("server", "self-signed", &[versions]);
        let insecure = client_config(vec![], true).expect("a configuration");
        let err = handshake(insecure, server, "localhost")
            .expect_err("a signature by another key")
            .client();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(CertificateError::BadSignature)
            ),
            "{versions:?}: {err:?}"
        );
        // The same server with its own key passes.
        let insecure = client_config(vec![], true).expect("a configuration");
        handshake(
            insecure,
            pki.server("server", "server", &[versions]),
            "localhost",
        )
        .expect("its own key");
    }
}
