//! What the TLS tests share: certificates made with the `openssl` command (as the http
//! plugin's TLS tests and scripts/db-servers make theirs) in a temporary folder, servers using
//! them, and handshakes between a client and a server pumped through memory, no socket.

use std::ops::DerefMut;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::ResolvesServerCert;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection};
use rustls::{SupportedProtocolVersion, version};
use tempfile::TempDir;

/// A CA (`ca`), a server certificate for `localhost` it signed (`server`), and a self-signed
/// certificate for `localhost` as `openssl req -x509` makes one (`self-signed`, a CA
/// certificate), each as `<name>.pem` and `<name>.key`.
pub struct Pki {
    dir: TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        pki.openssl(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
             -keyout ca.key -out ca.pem -subj /CN=assay-sdk-test-ca \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign",
        );
        std::fs::write(
            pki.path("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write server.ext");
        pki.openssl(
            "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
             -keyout server.key -out server.csr -subj /CN=localhost",
        );
        pki.openssl(
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
             -out server.pem -extfile server.ext",
        );
        pki.openssl(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
             -keyout self-signed.key -out self-signed.pem -subj /CN=localhost \
             -addext subjectAltName=DNS:localhost",
        );
        pki
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
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

    /// Runs `openssl` with the words of `command_line` in the folder.
    fn openssl(&self, command_line: &str) {
        let args: Vec<&str> = command_line.split_whitespace().collect();
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("the openssl command is required for the TLS tests: {e}"));
        assert!(
            out.status.success(),
            "openssl {command_line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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
