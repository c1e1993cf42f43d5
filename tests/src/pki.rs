//! A private PKI made with the `openssl` command for TLS tests: two CAs, server certificates
//! for localhost and 127.0.0.1 signed by each, one for the wrong name, a client certificate,
//! and self-signed ones on demand.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A CA and certificates signed by it, in a temporary folder.
pub struct Pki {
    dir: TempDir,
}

impl Pki {
    /// Makes the CAs and certificates (with `openssl`) in a new temporary folder.
    pub fn create() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki { dir };
        pki.ca("ca", "assay-test-ca");
        pki.ca("ca2", "assay-other-ca");
        let local = "DNS:localhost,IP:127.0.0.1";
        pki.issue("server", "localhost", local, "serverAuth", "ca");
        pki.issue("other", "localhost", local, "serverAuth", "ca2");
        let wrong = "DNS:wrong.example";
        pki.issue("wrong", "wrong.example", wrong, "serverAuth", "ca");
        let client = "DNS:client.example";
        pki.issue("client", "assay-test-client", client, "clientAuth", "ca");
        pki
    }

    /// A self-signed CA: `<name>.pem` and `<name>.key`.
    pub fn ca(&self, name: &str, cn: &str) {
        self.openssl(&format!(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
             -keyout {name}.key -out {name}.pem -subj /CN={cn} \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ));
    }

    /// A self-signed certificate for localhost (`<name>.pem`, `<name>.key`) as `openssl req
    /// -x509` makes one for a server: with `ca`, marked as a CA (basicConstraints CA:TRUE, what
    /// OpenSSL's default configuration writes), else as an end entity (CA:FALSE).
    pub fn self_signed(&self, name: &str, ca: bool) {
        let constraints = if ca { "CA:TRUE" } else { "CA:FALSE" };
        self.openssl(&format!(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
             -keyout {name}.key -out {name}.pem -subj /CN=localhost \
             -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
             -addext basicConstraints=critical,{constraints}"
        ));
    }

    /// The folder holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn text(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A key and a certificate for `cn` (`<name>.key`, `<name>.pem`), signed by the CA `ca`.
    pub fn issue(&self, name: &str, cn: &str, san: &str, usage: &str, ca: &str) {
        let ext = format!(
            "subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
        );
        std::fs::write(self.path(&format!("{name}.ext")), ext).expect("write ext");
        self.openssl(&format!(
            "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
             -keyout {name}.key -out {name}.csr -subj /CN={cn}"
        ));
        self.openssl(&format!(
            "x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -days 2 \
             -out {name}.pem -extfile {name}.ext"
        ));
    }

    /// Runs `openssl` with the words of `command_line` in the PKI's folder.
    pub fn openssl(&self, command_line: &str) {
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
