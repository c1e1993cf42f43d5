//! Keeping the script's program alive while a plugin has work that will call back into Lua
//! (a listening server, a subscription): like a Node handle that is `ref`'d.
//!
//! Without a hold, a run ends when the script and its tasks are done, even if the plugin
//! would call a Lua function later.

use std::sync::OnceLock;

use crate::abi::{HostHookV1, HostServicesV1, RawHold};
use crate::error::{Error, Result};

static SERVICES: OnceLock<&'static HostServicesV1> = OnceLock::new();

extern "C" fn set_services(services: &'static HostServicesV1) {
    let _ = SERVICES.set(services);
}

/// The plugin's answer to [`crate::abi::HOST_SERVICES_V1`] (see [`crate::host`]).
pub(crate) static HOOK: HostHookV1 = HostHookV1 { set_services };

/// Keeps the calling script's program running until dropped (from any thread).
///
/// ```ignore
/// http.function("server", |args| {
///     let alive = assay_sdk::KeepAlive::acquire()?; // the program lives while serving
///     // ... move `alive` into the serving task; drop it when the server stops
/// });
/// ```
pub struct KeepAlive(RawHold);

// SAFETY: the host's contract: a hold may be released from any thread.
unsafe impl Send for KeepAlive {}
unsafe impl Sync for KeepAlive {}

impl KeepAlive {
    /// A hold on the run of the script making the current call. Call it inside a plugin
    /// function or method, on the thread the host called it on (before any `.await`).
    pub fn acquire() -> Result<KeepAlive> {
        let services = SERVICES
            .get()
            .ok_or_else(|| Error::new("this Assay host cannot keep a program alive"))?;
        let hold = (services.hold)();
        if hold.data.is_null() {
            return Err(Error::new(
                "KeepAlive::acquire must be called inside a plugin call, on the Lua thread",
            ));
        }
        Ok(KeepAlive(hold))
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        (self.0.release)(self.0.data);
    }
}
