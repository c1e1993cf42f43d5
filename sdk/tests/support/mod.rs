//! What the TLS tests share: the tests' PKI (certificates made with the `openssl` command,
//! `assay_tests::pki`), servers using them, and handshakes between a client and a server
//! pumped through memory, no socket.

use std::ops::DerefMut;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::ResolvesServerCert;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection};
use rustls::{SupportedProtocolVersion, version};

/// The tests' PKI (`assay_tests::pki`: a CA `ca` and a server certificate for localhost it
/// signed, `server`, among others) plus a self-signed certificate for localhost as `openssl req
/// -x509` makes one (`self-signed`, a CA certificate), each as `<name>.pem` and `<name>.key`.
pub struct Pki {
    inner: assay_tests::pki::Pki,
}

impl Pki {
    pub fn new() -> Pki {
        let inner = assay_tests::pki::Pki::create();
        inner.self_signed("self-signed", true);
        Pki { inner }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.inner.path(name)
    }

    /// The certificates of `<name>.pem`.
    pub fn certs(&self, name: &str) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_file_iter(self.path(&format!("{name}.pem")))
            .expect("open the certificate")
            .collect::<Result<_, _>>()
            .expect("parse the certificate")
    }

    /// A server presenting `<cert>.pem` and signing its handshakes with `<key>.key` (the key of
    /// another certificate, for a server that cannot prove it holds its certificate's), over
    /// `versions`, offering ALPN `h2` and `http/1.1`.
    pub fn server(
        &self,
        cert: &str,
        key: &str,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::from_pem_file(self.path(&format!("{key}.key"))).expect("key");
        let signer = provider
            .key_provider
            .load_private_key(key)
            .expect("load the key");
        // Not `with_single_cert`, which refuses a key that does not match the certificate.
        let resolver: Arc<dyn ResolvesServerCert> = Arc::new(SingleCertAndKey::from(
            CertifiedKey::new(self.certs(cert), signer),
        ));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A server presenting `<name>.pem` with its own key, over TLS 1.3 and 1.2.
    pub fn serve(&self, name: &str) -> Arc<ServerConfig> {
        self.server(name, name, &[&version::TLS13, &version::TLS12])
    }
}

/// Which side of a handshake failed, and why.
#[derive(Debug)]
pub enum Failure {
    Client(rustls::Error),
    Server(rustls::Error),
}

impl Failure {
    /// The client's error; a failure on the server's side fails the test.
    pub fn client(self) -> rustls::Error {
        match self {
            Failure::Client(e) => e,
            Failure::Server(e) => panic!("the server failed first: {e}"),
        }
    }
}

/// A full handshake of a client made from `client` connecting to `name` with a server made from
/// `server`, the bytes going each way through memory; the client's connection once done.
pub fn handshake(
    client: ClientConfig,
    server: Arc<ServerConfig>,
    name: &str,
) -> Result<ClientConnection, Failure> {
    let name = ServerName::try_from(name.to_owned()).expect("a server name");
    let mut client = ClientConnection::new(Arc::new(client), name).map_err(Failure::Client)?;
    let mut server = ServerConnection::new(server).map_err(Failure::Server)?;
    // TLS 1.2 takes two round trips, 1.3 one and a half.
    for _ in 0..8 {
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(client);
        }
        pump(&mut client, &mut server).map_err(Failure::Server)?;
        pump(&mut server, &mut client).map_err(Failure::Client)?;
    }
    panic!("the handshake did not finish");
}

/// Moves what `from` has to send to `to`, which processes it: `to`'s error if it fails.
fn pump<A, B, DA, DB>(from: &mut A, to: &mut B) -> Result<(), rustls::Error>
where
    A: DerefMut<Target = ConnectionCommon<DA>>,
    B: DerefMut<Target = ConnectionCommon<DB>>,
{
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).expect("write to memory");
    }
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).expect("read from memory");
        to.process_new_packets()?;
    }
    Ok(())
}
