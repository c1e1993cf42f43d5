//! `assay_sdk::tls::client_config` on a system without root certificates (a scratch image:
//! `SSL_CERT_FILE` an empty file), where the platform verifier refuses to start: as the http
//! client, it still builds, trusting only the extra roots. And `SSL_CERT_FILE` naming what is
//! not a regular file is refused before anything reads it.
//!
//! One test in its own process: it changes the environment.

mod support;

use assay_sdk::tls::{ClientConfigError, client_config, reason};
use support::{Pki, handshake};

#[test]
fn without_system_roots_only_the_extra_roots_are_trusted() {
    let pki = Pki::new();
    let empty = pki.path("empty.pem");
    std::fs::write(&empty, "").expect("write");
    // SAFETY: the only test of this process: no other thread reads the environment.
    unsafe {
        std::env::remove_var("SSL_CERT_DIR");
        std::env::set_var("SSL_CERT_FILE", &empty);
    }
    let config = client_config(vec![], false).expect("a configuration without any root");
    let err = handshake(config, pki.serve("server"), "localhost")
        .expect_err("no root at all")
        .client();
    let text = reason(&err, "localhost", "");
    assert!(
        text.starts_with("certificate signed by an unknown CA"),
        "{text}"
    );

    let config = client_config(pki.certs("ca"), false).expect("a configuration");
    handshake(config, pki.serve("server"), "localhost").expect("the extra root is trusted");

    // SAFETY: as above.
    unsafe { std::env::set_var("SSL_CERT_FILE", pki.path("")) };
    let err = client_config(vec![], false).expect_err("a folder as SSL_CERT_FILE");
    assert!(matches!(err, ClientConfigError::SslCertFile(_)), "{err:?}");
    assert!(
        err.to_string().ends_with(": it is not a regular file"),
        "{err}"
    );
}
