//! PEM options of plugins (`ca_cert`, `client_cert`, `client_key` of the http client, the db
//! plugin's `ca_cert`): each is a file path or the PEM text itself. Text containing
//! `-----BEGIN` is PEM (no path looks like that); anything else is read as a path. Parsed
//! when the option is given, so a mistake names the option ("no certificate found in
//! ca_cert") instead of surfacing later as a handshake failure.

use std::path::Path;

pub use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{self, PemObject};

use crate::{Error, Result, files};

/// PEM files larger than this are refused: a certificate, a key or a CA bundle is a few KiB
/// to a few hundred (Debian's whole bundle is about 220 KiB), and the bytes are read outside
/// the Lua memory limit.
pub const MAX_PEM_BYTES: u64 = 1 << 20;

/// Whether an option's value is the PEM text itself rather than a path.
pub fn is_pem_text(source: &str) -> bool {
    source.contains("-----BEGIN")
}

/// The PEM bytes an option names: the text itself, or the contents of the regular file it
/// names (a device, a FIFO or a file over [`MAX_PEM_BYTES`] is an error naming it).
pub fn source(option: &str, source: &str) -> Result<Vec<u8>> {
    if is_pem_text(source) {
        return Ok(source.as_bytes().to_vec());
    }
    files::read_regular(Path::new(source), MAX_PEM_BYTES)
        .map_err(|e| Error::new(format!("{option}: {}", read_reason(&e))))
}

/// The certificates in `bytes`; none is an error naming `option`.
pub fn certificates(option: &str, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let ders = CertificateDer::pem_slice_iter(bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::new(format!("{option}: bad PEM: {}", reason(&e))))?;
    if ders.is_empty() {
        return Err(Error::new(format!(
            "no certificate found in {option} (expected a -----BEGIN CERTIFICATE----- block)"
        )));
    }
    Ok(ders)
}

/// A PEM parse error in a few words.
pub fn reason(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a section has no end line {}",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed section start {}", String::from_utf8_lossy(line))
        }
        pem::Error::Base64Decode(why) => format!("invalid base64 ({why})"),
        other => other.to_string(),
    }
}

/// A read error as one line naming the file, without the "(os error N)" suffix std adds.
fn read_reason(e: &files::ReadError) -> String {
    match e {
        files::ReadError::Io { path, source } => {
            format!("cannot read {}: {}", path.display(), io_reason(source))
        }
        other => other.to_string(),
    }
}

/// An I/O error's text without the "(os error N)" suffix std adds.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_pem_header_is_a_path() {
        let err = source("ca_cert", "/nonexistent/ca.pem").expect_err("missing file");
        assert_eq!(
            err.message(),
            "ca_cert: cannot read /nonexistent/ca.pem: No such file or directory"
        );
    }

    #[test]
    fn devices_fifos_and_large_files_are_refused() {
        let err = source("ca_cert", "/dev/zero").expect_err("a device");
        assert_eq!(
            err.message(),
            "ca_cert: cannot read /dev/zero: it is a character device, not a regular file"
        );
        let big = std::env::temp_dir().join(format!("assay-sdk-pem-{}.pem", std::process::id()));
        std::fs::File::create(&big)
            .and_then(|f| f.set_len(MAX_PEM_BYTES + 1))
            .expect("a sparse file");
        let err = source("client_key", big.to_str().expect("utf-8")).expect_err("too large");
        let _ = std::fs::remove_file(&big);
        assert!(err.message().ends_with(".pem: larger than 1 MiB"), "{err}");
    }

    #[test]
    fn pem_without_certificates_is_refused() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let err = certificates("ca_cert", pem).expect_err("no certificate");
        assert!(
            err.message().starts_with("no certificate found in ca_cert"),
            "{err}"
        );
    }
}
