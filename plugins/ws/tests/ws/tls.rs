//! wss against the peer serving certificates of a private CA: trusted through `ca_cert`,
//! refused without it, for the wrong name, and self-signed unless `insecure`; each failure in
//! the same words as the http client's for the same server.

use assay_tests::pki::Pki;

use crate::peer::Peer;
use crate::{lua, succeeded};

fn serve(pki: &Pki, name: &str) -> Peer {
    let cert = pki.text(&format!("{name}.pem"));
    let key = pki.text(&format!("{name}.key"));
    Peer::start(Some((&cert, &key)))
}

#[test]
fn wss_verified_like_the_http_client() {
    let pki = Pki::create();
    pki.self_signed("selfsigned", false);
    let trusted = serve(&pki, "server");
    let wrong = serve(&pki, "wrong");
    let selfsigned = serve(&pki, "selfsigned");
    let run = lua(
        "tls.lua",
        &[
            &trusted.url("wss"),
            &wrong.url("wss"),
            &selfsigned.url("wss"),
            &pki.text("ca.pem"),
            &pki.text("selfsigned.pem"),
        ],
    );
    succeeded(&run);
    trusted.assert_no_close_wait();
}
