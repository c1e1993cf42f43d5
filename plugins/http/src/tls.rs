//! rustls set-up shared by the client and the server.
//!
//! Each plugin library carries its own copy of rustls, so a process-wide default provider
//! installed by another plugin (or the host) is invisible here: install ring in this copy before
//! the first TLS object is built.

use std::sync::Once;

/// Makes ring this library's rustls default provider (once; later calls do nothing).
pub(crate) fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed in this copy of rustls, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
