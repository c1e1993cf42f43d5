//! `SSL_CERT_FILE`, checked before the TLS library reads the system's roots from it.

use std::path::Path;

use crate::pem::io_reason;
use crate::{Error, Result, files};

/// `SSL_CERT_FILE` may name the system's bundle, or a larger one with a company's CAs added.
pub const MAX_SSL_CERT_FILE_BYTES: u64 = 4 << 20;

/// `SSL_CERT_FILE`, when set, names the bundle the system roots are read from (by the TLS
/// library, which would read a device or a FIFO forever): it must be a regular file of at most
/// [`MAX_SSL_CERT_FILE_BYTES`]. Checked without reading it; the TLS library reads it next.
pub fn check_ssl_cert_file() -> Result<()> {
    let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = Path::new(&path);
    let refuse = |why: String| {
        Error::new(format!(
            "SSL_CERT_FILE: cannot read {}: {why}",
            path.display()
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| refuse(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(refuse("it is not a regular file".to_owned()));
    }
    if meta.len() > MAX_SSL_CERT_FILE_BYTES {
        return Err(refuse(format!(
            "larger than {}",
            files::describe_size(MAX_SSL_CERT_FILE_BYTES)
        )));
    }
    Ok(())
}
