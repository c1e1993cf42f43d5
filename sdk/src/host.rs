//! What the host tells a plugin about the script calling it, so the plugin can keep what it
//! builds for that script inside the script's limits (the `assay.host.v2` extension), and Lua
//! glue run on the host's side ([`lua_function`], `assay.host.v3`).
//!
//! Lua's memory limit only sees what Lua allocates; bytes a plugin buffers on its side (a
//! response body, a parsed document) are outside it. [`memory_limit`] lets a plugin bound such
//! buffers by the script's own limit, and [`json_method`] hands it the host's JSON decoder,
//! which builds Lua tables straight from the text under that limit, instead of a parsed tree
//! on the plugin's side.
//!
//! Both answer only on the thread the host called the plugin on, inside the call (a function
//! or method body, before its first `.await`): that is where the host knows which script is
//! calling. Elsewhere, and with a host older than the extension, they return `None`, and the
//! plugin does without (no bound it can know of; its own decoder).
//!
//! ```ignore
//! http.async_function("get", |args| {
//!     let limit = assay_sdk::host::memory_limit();      // Some(16 << 20) under --memory-limit 16M
//!     let json = assay_sdk::host::json_method();        // attach as `json` to the result table
//!     async move { /* ... */ }
//! });
//! ```

use std::ffi::c_void;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use abi_stable::StableAbi;
use abi_stable::std_types::RStr;

use crate::abi::{
    HOST_SERVICES_V1, HOST_SERVICES_V2, HOST_SERVICES_V3, HostHookV1, HostHookV2, HostHookV3,
    HostServicesV2, HostServicesV3,
};
use crate::callback::Callback;
use crate::error::{Error, Result};

static SERVICES: OnceLock<&'static HostServicesV2> = OnceLock::new();
static SERVICES_V3: OnceLock<&'static HostServicesV3> = OnceLock::new();

extern "C" fn set_services(services: &'static HostServicesV2) {
    let _ = SERVICES.set(services);
}

extern "C" fn set_services_v3(services: &'static HostServicesV3) {
    let _ = SERVICES_V3.set(services);
}

static HOOK_V2: HostHookV2 = HostHookV2 {
    services_layout: <HostServicesV2 as StableAbi>::LAYOUT,
    set_services,
};

static HOOK_V3: HostHookV3 = HostHookV3 {
    services_layout: <HostServicesV3 as StableAbi>::LAYOUT,
    set_services: set_services_v3,
};

/// The plugin's answer to the host's extension look-ups (`PluginModule::extension`).
pub(crate) extern "C" fn extension(name: RStr<'_>) -> *const c_void {
    match name.as_str() {
        HOST_SERVICES_V1 => &crate::keepalive::HOOK as *const HostHookV1 as *const c_void,
        HOST_SERVICES_V2 => &HOOK_V2 as *const HostHookV2 as *const c_void,
        HOST_SERVICES_V3 => &HOOK_V3 as *const HostHookV3 as *const c_void,
        crate::abi::REACTOR_V1 if crate::reactor::WANTED.load(Ordering::Acquire) => {
            &crate::reactor::HOOK as *const crate::abi::ReactorHookV1 as *const c_void
        }
        _ => std::ptr::null(),
    }
}

/// The calling script's memory limit in bytes: `None` when it has none, or when it cannot be
/// known (outside a call on the Lua thread, or a host without the extension).
pub fn memory_limit() -> Option<u64> {
    let services = SERVICES.get()?;
    (services.memory_limit)()
        .into_option()
        .filter(|limit| *limit > 0)
}

/// The host's `json` method for the calling script: a Lua function `function(self)` that
/// decodes `self.body` as JSON straight into Lua tables, under the script's memory limit, with
/// the errors of `json.parse`. Put it in a table the plugin returns (`resp:json()`); it is the
/// same function for every table of that script. `None` outside a call on the Lua thread or
/// with a host without the extension: then use a decoder of the plugin's own.
pub fn json_method() -> Option<Callback> {
    let services = SERVICES.get()?;
    (services.json_method)().into_option()
}

/// Whether the calling script runs in the sandbox, where a plugin function it keeps must read
/// no file the script names. `false` outside a call on the Lua thread or with a host without
/// the extension.
pub fn sandboxed() -> bool {
    SERVICES
        .get()
        .and_then(|services| (services.sandboxed)().into_option())
        .unwrap_or(false)
}

/// A Lua function made by the host from `source`, a chunk that returns it, for glue a plugin
/// cannot do across the boundary: values cross as copies, so only Lua code sees what another
/// Lua function did to a table in place. The chunk runs once per script (named `name` in
/// tracebacks); it sees Lua's pure base functions (`type`, `pairs`, `error`, `select`, ...)
/// and `string`, `table`, `math`, never the script's globals. Call the callback as any other.
///
/// ```ignore
/// // after(req, resp) may change resp in place or return a new one
/// const GLUE: &str = "return function(after, req, resp) \
///     local r = after(req, resp) if r == nil then return resp end return r end";
/// let glue = assay_sdk::host::lua_function("http.after", GLUE).transpose()?;
/// ```
///
/// `None` outside a call on the Lua thread or with a host without the extension (do without:
/// call the function directly); `Some(Err)` when the chunk does not compile or does not
/// return a function (a bug in the plugin).
pub fn lua_function(name: &str, source: &str) -> Option<Result<Callback>> {
    let services = SERVICES_V3.get()?;
    let made = (services.lua_function)(name.into(), source.into()).into_option()?;
    Some(made.into_result().map_err(|e| Error::new(e.into_string())))
}
