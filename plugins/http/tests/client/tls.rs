//! TLS: a private CA made with the `openssl` command, a Python `ssl` server using its
//! certificates, and the client trusting that CA through `ca_cert` (a path or the PEM text),
//! refusing without it, skipping checks with `insecure`, and presenting a client certificate
//! to a server that requires one.

use std::path::Path;

use assay_tests::pki::Pki;

use crate::{Peer, failed_with, lua, succeeded};

/// An HTTPS peer serving `name`'s certificate; with `require_client_cert`, it requires a
/// client certificate signed by the CA.
fn serve(pki: &Pki, name: &str, require_client_cert: bool) -> Peer {
    let cert = pki.text(&format!("{name}.pem"));
    let key = pki.text(&format!("{name}.key"));
    let ca = pki.text("ca.pem");
    let mut args = vec!["--cert", cert.as_str(), "--key", key.as_str()];
    if require_client_cert {
        args.extend(["--client-ca", ca.as_str()]);
    }
    Peer::start("http_peer.py", &args)
}

fn dir_of(pki: &Pki) -> &Path {
    pki.dir()
}

#[test]
fn ca_cert_as_path_or_text_is_trusted_and_nothing_else() {
    let pki = Pki::create();
    let peer = serve(&pki, "server", false);
    let url = peer.url("https");
    let localhost = format!("https://localhost:{}", peer.port);
    let ca = pki.text("ca.pem");
    let run = lua(
        r#"
        local url, localhost, ca = env.get("URL"), env.get("LOCALHOST"), env.get("CA")
        -- a path
        local r = http.client{ca_cert = ca}:get(url .. "/by-path")
        assert.eq(r.status, 200)
        assert.eq(r:json().path, "/by-path")
        -- the PEM text, for the host name as well as the IP address
        assert.eq(http.client{ca_cert = fs.read(ca)}:get(localhost .. "/by-text").status, 200)
        -- a bundle of several certificates
        assert.eq(http.client{ca_cert = fs.read(ca) .. fs.read(ca)}:get(url).status, 200)
        -- skipping verification
        assert.eq(http.client{insecure = true}:get(url).status, 200)
        -- without ca_cert: refused, saying why
        local ok, err = pcall(http.get, url)
        assert.eq(ok, false)
        print(err)
        "#,
        &[("URL", &url), ("LOCALHOST", &localhost), ("CA", &ca)],
    );
    succeeded(&run);
    assert!(
        run.stdout.contains(&format!(
            "http.get: TLS handshake with 127.0.0.1:{} failed: certificate signed by an \
             unknown CA",
            peer.port
        )),
        "{}",
        run.describe()
    );
}

/// `ca_cert` is added to the system's roots (here `SSL_CERT_FILE`, which the platform verifier
/// reads as the system store), not put in their place.
#[test]
fn ca_cert_is_added_to_the_system_roots() {
    let pki = Pki::create();
    let ours = serve(&pki, "server", false);
    let systems = serve(&pki, "other", false);
    let run = lua_env(
        r#"
        local ours, systems, ca = env.get("OURS"), env.get("SYSTEMS"), env.get("CA")
        local c = http.client{ca_cert = ca}
        assert.eq(c:get(ours).status, 200)
        assert.eq(c:get(systems).status, 200, "the system's CA is still trusted")
        assert.eq(http.get(systems).status, 200)
        assert.raises(function() http.get(ours) end, "unknown CA")
        "#,
        &[
            ("OURS", &ours.url("https")),
            ("SYSTEMS", &systems.url("https")),
            ("CA", &pki.text("ca.pem")),
            ("SSL_CERT_FILE", &pki.text("ca2.pem")),
        ],
    );
    succeeded(&run);
}

/// A system without any root certificates (a scratch image) still makes clients: plain HTTP
/// works, and HTTPS to servers whose CA is in `ca_cert`.
#[test]
fn no_system_roots_still_works_with_ca_cert() {
    let pki = Pki::create();
    let tls = serve(&pki, "server", false);
    let plain = Peer::start("http_peer.py", &[]);
    let empty = pki.path("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let run = lua_env(
        r#"
        assert.eq(http.get(env.get("PLAIN")).status, 200)
        assert.eq(http.client{ca_cert = env.get("CA")}:get(env.get("TLS")).status, 200)
        assert.raises(function() http.get(env.get("TLS")) end, "unknown CA")
        "#,
        &[
            ("PLAIN", &plain.url("http")),
            ("TLS", &tls.url("https")),
            ("CA", &pki.text("ca.pem")),
            ("SSL_CERT_FILE", &empty.display().to_string()),
        ],
    );
    succeeded(&run);
}

/// `lua` with SSL_CERT_DIR cleared, so SSL_CERT_FILE alone is the system store.
fn lua_env(code: &str, vars: &[(&str, &str)]) -> assay_tests::Run {
    let mut all = vec![("SSL_CERT_DIR", "")];
    all.extend_from_slice(vars);
    lua(code, &all)
}

#[test]
fn certificate_for_another_name_is_refused() {
    let pki = Pki::create();
    let peer = serve(&pki, "wrong", false);
    let run = lua(
        r#"http.client{ca_cert = env.get("CA")}:get(env.get("URL"))"#,
        &[("URL", &peer.url("https")), ("CA", &pki.text("ca.pem"))],
    );
    failed_with(&run, "certificate not valid for name '127.0.0.1'");
}

#[test]
fn client_certificate_when_the_server_requires_one() {
    let pki = Pki::create();
    let peer = serve(&pki, "server", true);
    let url = peer.url("https");
    let dir = dir_of(&pki).display().to_string();
    let run = lua(
        r#"
        local url, dir = env.get("URL"), env.get("DIR")
        local ca = dir .. "/ca.pem"
        -- cert and key as paths
        local c = http.client{ca_cert = ca, client_cert = dir .. "/client.pem",
                              client_key = dir .. "/client.key"}
        assert.eq(c:get(url .. "/mtls"):json().tls_client, "assay-test-client")
        -- both in one PEM text
        c = http.client{ca_cert = ca,
                        client_cert = fs.read(dir .. "/client.pem") .. fs.read(dir .. "/client.key")}
        assert.eq(c:get(url):json().tls_client, "assay-test-client")
        -- without a client certificate
        local ok, err = pcall(function() return http.client{ca_cert = ca}:get(url) end)
        assert.eq(ok, false)
        print(err)
        "#,
        &[("URL", &url), ("DIR", &dir)],
    );
    succeeded(&run);
    assert!(
        run.stdout
            .contains("failed: the server requires a client certificate"),
        "{}",
        run.describe()
    );
}

#[test]
fn bad_pem_inputs_name_the_option() {
    let pki = Pki::create();
    let dir = dir_of(&pki).display().to_string();
    let run = lua(
        r#"
        local dir = env.get("DIR")
        local function err(opts)
          local ok, e = pcall(http.client, opts)
          assert.eq(ok, false)
          return e
        end
        print(err{ca_cert = dir .. "/ca.key"})
        print(err{ca_cert = dir .. "/missing.pem"})
        print(err{client_cert = dir .. "/client.pem", client_key = dir .. "/client.pem"})
        print(err{client_cert = dir .. "/client.pem"})
        print(err{client_cert = dir .. "/client.pem", client_key = dir .. "/ca.key"})
        "#,
        &[("DIR", &dir)],
    );
    succeeded(&run);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let expected = [
        "http.client: no certificate found in ca_cert".to_owned(),
        format!("http.client: ca_cert: cannot read {dir}/missing.pem: No such file or directory"),
        "http.client: no private key found in client_key".to_owned(),
        "http.client: client_cert holds no private key: pass client_key too".to_owned(),
        "http.client: client_key does not belong to the certificate in client_cert".to_owned(),
    ];
    assert_eq!(lines.len(), expected.len(), "{}", run.describe());
    for (line, want) in lines.iter().zip(&expected) {
        assert!(line.contains(want.as_str()), "{line:?} lacks {want:?}");
    }
}

/// A server whose certificate is self-signed and marked as a CA (as `openssl req -x509` makes
/// them), given as `ca_cert`: rustls' `CaUsedAsEndEntity` becomes what is wrong and what to do.
#[test]
fn self_signed_ca_certificate_as_ca_cert_says_what_to_do() {
    let pki = Pki::create();
    pki.self_signed("selfsigned", true);
    let peer = serve(&pki, "selfsigned", false);
    let run = lua(
        r#"
        local url, cert = env.get("URL"), env.get("CERT")
        for _, source in ipairs({cert, fs.read(cert)}) do
          local ok, err = pcall(function() return http.client{ca_cert = source}:get(url) end)
          assert.eq(ok, false)
          print(err)
        end
        -- what the message offers works
        assert.eq(http.client{insecure = true}:get(url).status, 200)
        "#,
        &[
            ("URL", &peer.url("https")),
            ("CERT", &pki.text("selfsigned.pem")),
        ],
    );
    succeeded(&run);
    let wanted = format!(
        "TLS handshake with 127.0.0.1:{} failed: the server's certificate is a CA \
         certificate (basicConstraints CA:TRUE), which TLS does not accept as a server's own: \
         it is probably self-signed, as `openssl req -x509` makes them by default. Give ca_cert \
         the CA that signed it, or make the self-signed certificate again with \
         `-addext basicConstraints=critical,CA:FALSE` and give it as ca_cert, or pass \
         insecure = true to skip verification",
        peer.port
    );
    assert_eq!(
        run.stdout.matches(wanted.as_str()).count(),
        2,
        "{}",
        run.describe()
    );
    assert!(
        !run.stdout.contains("CaUsedAsEndEntity"),
        "{}",
        run.describe()
    );
}

/// The way out the message above offers: a self-signed certificate made with CA:FALSE, given
/// as `ca_cert`, is trusted (for its own names only).
#[test]
fn self_signed_end_entity_certificate_as_ca_cert_is_trusted() {
    let pki = Pki::create();
    pki.self_signed("selfsigned", false);
    let peer = serve(&pki, "selfsigned", false);
    let run = lua(
        r#"
        local url, cert = env.get("URL"), env.get("CERT")
        assert.eq(http.client{ca_cert = cert}:get(url .. "/x"):json().path, "/x")
        assert.eq(http.client{ca_cert = fs.read(cert)}:get(env.get("LOCALHOST")).status, 200)
        "#,
        &[
            ("URL", &peer.url("https")),
            ("LOCALHOST", &format!("https://localhost:{}", peer.port)),
            ("CERT", &pki.text("selfsigned.pem")),
        ],
    );
    succeeded(&run);
}

/// A `ca_cert` that has the name of the server's CA but another key (of another type) did not
/// sign the server's certificate: rustls' `UnsupportedSignatureAlgorithmForPublicKeyContext`
/// (a dump of OIDs) becomes what it means.
#[test]
fn a_different_ca_of_the_same_name_is_named_as_such() {
    let pki = Pki::create();
    pki.openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 2 -keyout impostor.key -out impostor.pem \
         -subj /CN=assay-test-ca -addext basicConstraints=critical,CA:TRUE \
         -addext keyUsage=critical,keyCertSign,cRLSign",
    );
    let peer = serve(&pki, "server", false);
    let run = lua(
        r#"http.client{ca_cert = env.get("CA")}:get(env.get("URL"))"#,
        &[
            ("URL", &peer.url("https")),
            ("CA", &pki.text("impostor.pem")),
        ],
    );
    failed_with(
        &run,
        "failed: the server's certificate names an issuer whose trusted certificate (in ca_cert \
         or the system roots) has another type of key than the one that signed it: a different \
         CA of the same name; give ca_cert the CA that signed the server's certificate",
    );
}
