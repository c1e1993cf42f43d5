//! TLS for every plugin that makes connections through rustls (the http client, the db plugin,
//! WebSocket clients):
//!
//! - [`install_ring`]: ring as this library's rustls default provider. Each plugin library
//!   carries its own copy of rustls (and of this SDK), so a process-wide default installed by
//!   another plugin or the host is invisible to it; a library that lets another crate pick the
//!   provider (reqwest, sqlx) calls this before it builds its first TLS object.
//! - [`check_ssl_cert_file`]: `SSL_CERT_FILE`, when set, must name a regular file of a sane
//!   size before the system's roots are read from it.
//! - [`client_config`]: the rustls client configuration a plugin that drives rustls itself
//!   (tokio-rustls) uses, verifying servers exactly as the http client does.
//! - [`reason`] and its helpers ([`chain`], [`find`], [`root_cause`], [`one_line`]): a failed
//!   handshake said plainly, the same words from every plugin.

mod client;
mod reason;
mod ssl_cert_file;

use std::sync::Once;

pub use client::{ClientConfigError, client_config};
pub use reason::{chain, find, one_line, reason, root_cause};
pub use ssl_cert_file::{MAX_SSL_CERT_FILE_BYTES, check_ssl_cert_file};

/// Makes ring the rustls default provider of the library this SDK is linked into (once; later
/// calls do nothing). [`client_config`] names its provider itself and does not need it.
pub fn install_ring() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed in this copy of rustls, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
