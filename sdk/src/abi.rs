//! The frozen ABI between the host and a plugin. Everything here crosses a `dlopen` boundary
//! between two separately compiled copies of Rust, so every type is `#[repr(C)]` or
//! `#[repr(u8)]`, derives `StableAbi` (abi_stable checks the layouts when the plugin loads), and
//! every function pointer is `extern "C"`.
//!
//! **Frozen.** Changing any type in this module makes every plugin built before the change
//! unloadable. New capabilities are added as new named entries returned by
//! [`PluginModule::extension`], each with its own layout-checked type; existing types never
//! change. [`crate::ABI_VERSION`] moves only if this freeze has to be broken.
//!
//! Plugin authors never touch this module; the host (`core/src/plugin/`) does.

use std::ffi::c_void;

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec};
use abi_stable::type_layout::TypeLayout;
use abi_stable::{StableAbi, declare_root_module_statics, package_version_strings};
use async_ffi::FfiFuture;

use crate::callback::Callback;
use crate::value::Value;

/// What a call returns: its results, or an error message for Lua.
pub type CallResult = RResult<RVec<Value>, RString>;

/// What an async call returns: a future polled by the host, completed by the plugin's runtime.
pub type CallFuture = FfiFuture<CallResult>;

/// The root module every plugin library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// [`crate::ABI_VERSION`] of the SDK the plugin was built with.
    pub abi_version: u32,
    /// The plugin's name and version (from its Cargo package), to match its manifest.
    pub name: RStr<'static>,
    pub version: RStr<'static>,
    /// Builds the plugin's globals and functions; called once per process.
    pub register: extern "C" fn() -> RResult<Registration, RString>,
    /// Optional entries by name ([`HOST_SERVICES_V1`], [`HOST_SERVICES_V2`]); a null pointer
    /// when absent.
    #[sabi(last_prefix_field)]
    pub extension: extern "C" fn(name: RStr<'_>) -> *const c_void,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "assay_plugin";
    const NAME: &'static str = "assay_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The globals a plugin provides.
#[repr(C)]
#[derive(StableAbi)]
pub struct Registration {
    pub globals: RVec<GlobalEntry>,
}

/// One global table (`crypto`) and its functions.
#[repr(C)]
#[derive(StableAbi)]
pub struct GlobalEntry {
    pub name: RString,
    pub functions: RVec<FunctionEntry>,
}

/// A named function of a global, or a method of an object class.
#[repr(C)]
#[derive(StableAbi)]
pub struct FunctionEntry {
    pub name: RString,
    pub callable: Callable,
}

/// The code behind a function. `data` is the plugin's closure; `this` is the object for a
/// method and null for a free function. Neither call ever unwinds: panics come back as errors.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy)]
pub enum Callable {
    Sync {
        data: *const c_void,
        call: extern "C" fn(
            data: *const c_void,
            this: *const c_void,
            args: RVec<Value>,
        ) -> CallResult,
    },
    Async {
        data: *const c_void,
        call: extern "C" fn(
            data: *const c_void,
            this: *const c_void,
            args: RVec<Value>,
        ) -> CallFuture,
    },
}

// SAFETY: `data` points at a closure the SDK requires to be `Send + Sync`, leaked for the life
// of the process (plugins are never unloaded).
unsafe impl Send for Callable {}
unsafe impl Sync for Callable {}

/// A plugin object: a reference-counted value of the plugin plus the class describing it.
#[repr(C)]
#[derive(StableAbi)]
pub struct RawObject {
    pub this: *const c_void,
    pub class: &'static ObjectClass,
}

/// What the host needs to know about one object type. Built once per type and leaked.
#[repr(C)]
#[derive(StableAbi)]
pub struct ObjectClass {
    pub type_name: RStr<'static>,
    pub methods: RSlice<'static, FunctionEntry>,
    /// A field read (`conn.protocol`); `Nil` when the object has no such field.
    pub field: extern "C" fn(this: *const c_void, name: RStr<'_>) -> RResult<Value, RString>,
    /// `tostring(obj)`.
    pub describe: extern "C" fn(this: *const c_void) -> RString,
    /// Adds a reference (clone) or drops one; the last drop runs the object's drop hook.
    pub retain: extern "C" fn(this: *const c_void),
    pub release: extern "C" fn(this: *const c_void),
}

/// A Lua function handed to a plugin, implemented by the host.
#[repr(C)]
#[derive(StableAbi)]
pub struct RawCallback {
    pub data: *const c_void,
    pub vtable: &'static CallbackVTable,
}

#[repr(C)]
#[derive(StableAbi)]
pub struct CallbackVTable {
    /// Queues a call on the Lua thread; the future completes with the function's results.
    pub call: extern "C" fn(data: *const c_void, args: RVec<Value>) -> CallFuture,
    /// The host's identity of the Lua function, so a callback handed back becomes that function.
    pub id: extern "C" fn(data: *const c_void) -> u64,
    pub retain: extern "C" fn(data: *const c_void),
    pub release: extern "C" fn(data: *const c_void),
}

/// The name of the host-services extension, version 1. After registering a plugin, the host
/// asks [`PluginModule::extension`] for this name; a plugin that knows it returns a
/// [`HostHookV1`], which the host calls once with its [`HostServicesV1`]. A plugin built before
/// the extension existed returns null and simply goes without.
pub const HOST_SERVICES_V1: &str = "assay.host.v1";

/// What a plugin returns for [`HOST_SERVICES_V1`].
#[repr(C)]
#[derive(StableAbi)]
pub struct HostHookV1 {
    pub set_services: extern "C" fn(services: &'static HostServicesV1),
}

/// Services the host offers plugins.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostServicesV1 {
    /// A hold on the run of the VM making the current call (to be called on the Lua thread,
    /// inside a plugin call): the program does not end while it is held. `data` is null when
    /// there is no such call.
    pub hold: extern "C" fn() -> RawHold,
}

/// A hold from [`HostServicesV1::hold`]; `release` (from any thread, once) gives it back.
#[repr(C)]
#[derive(StableAbi)]
pub struct RawHold {
    pub data: *const c_void,
    pub release: extern "C" fn(data: *const c_void),
}

/// The name of the host-services extension, version 2 (added beside version 1, which stays as
/// it is: a host offers both, a plugin answers the names it knows). A plugin that knows it
/// returns a [`HostHookV2`]; the host checks the plugin's view of [`HostServicesV2`] against
/// its own layout and, when they agree, calls `set_services` once. A plugin built before the
/// extension existed, or facing a host without it, goes without (and falls back on doing the
/// work itself).
pub const HOST_SERVICES_V2: &str = "assay.host.v2";

/// What a plugin returns for [`HOST_SERVICES_V2`].
#[repr(C)]
#[derive(StableAbi)]
pub struct HostHookV2 {
    /// The layout of [`HostServicesV2`] as the plugin was compiled with it; the host refuses
    /// to hand over services whose layout differs (abi_stable's checker, as at load).
    pub services_layout: &'static TypeLayout,
    pub set_services: extern "C" fn(services: &'static HostServicesV2),
}

/// Services of version 2: what a plugin needs to keep the script's data inside the script's
/// memory limit. Both are to be called on the Lua thread, inside a plugin call (a function or
/// method, before its first `.await`), where the host knows which VM is calling; elsewhere
/// they return `RNone`.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostServicesV2 {
    /// The calling VM's memory limit in bytes; `RSome(0)` when it has none.
    pub memory_limit: extern "C" fn() -> ROption<u64>,
    /// The host's `json` method for request and response tables (`resp:json()`), one Lua
    /// function per VM: it decodes `self.body` with the core's JSON decoder straight into Lua
    /// tables, under the VM's memory limit. Handed back to the host inside a value, the
    /// callback becomes that Lua function again.
    pub json_method: extern "C" fn() -> ROption<Callback>,
    /// Whether the calling VM is sandboxed (`--sandbox`, check scripts): a plugin function
    /// the sandbox keeps must then read no file a script names (`http.client`'s `ca_cert`
    /// takes PEM text only there).
    pub sandboxed: extern "C" fn() -> ROption<bool>,
}

/// The name of the host-services extension, version 3 (beside versions 1 and 2, unchanged).
/// Handed over as version 2 is: the host checks the plugin's view of [`HostServicesV3`]
/// against its own layout first.
pub const HOST_SERVICES_V3: &str = "assay.host.v3";

/// What a plugin returns for [`HOST_SERVICES_V3`].
#[repr(C)]
#[derive(StableAbi)]
pub struct HostHookV3 {
    /// The layout of [`HostServicesV3`] as the plugin was compiled with it.
    pub services_layout: &'static TypeLayout,
    pub set_services: extern "C" fn(services: &'static HostServicesV3),
}

/// Services of version 3: Lua glue. Values cross the boundary as copies, so a plugin cannot
/// see what a Lua function does to a table it was given; a few lines of Lua on the host's
/// side can (`after(req, resp)` middleware that changes `resp` in place). To be called on the
/// Lua thread, inside a plugin call; elsewhere it returns `RNone`.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostServicesV3 {
    /// Compiles `source`, a Lua chunk that returns a function, in the calling VM (named
    /// `name` in tracebacks), runs it once and hands back the function it returned, as a
    /// callback (made once per VM and source; later calls return the same function). The
    /// chunk sees only Lua's pure base functions and the `string`, `table` and `math`
    /// libraries, not the script's globals. `RErr` says why the chunk failed.
    pub lua_function:
        extern "C" fn(name: RStr<'_>, source: RStr<'_>) -> ROption<RResult<Callback, RString>>,
}

/// The name of the reactor extension, version 1. A plugin that asked to run its I/O on the
/// Lua thread ([`crate::Plugin::io_on_lua_thread`]) answers it with a [`ReactorHookV1`]; the
/// host checks the plugin's view of [`ReactorV1`] against its own layout before using it.
pub const REACTOR_V1: &str = "assay.reactor.v1";

/// What a plugin returns for [`REACTOR_V1`].
#[repr(C)]
#[derive(StableAbi)]
pub struct ReactorHookV1 {
    /// The layout of [`ReactorV1`] as the plugin was compiled with it.
    pub reactor_layout: &'static TypeLayout,
    pub reactor: &'static ReactorV1,
}

/// A plugin's I/O driven by the host's thread: while a thread is bound, what the plugin starts
/// from it (servers, connections, timers) runs on a reactor of that thread, which advances
/// only inside `drive`, called by the host on that thread when its own work is done. A request
/// that reaches a server then runs its Lua handler on the same thread, without a hop.
#[repr(C)]
#[derive(StableAbi)]
pub struct ReactorV1 {
    /// Binds the calling thread (the host calls it on a VM's thread when a run starts or the
    /// plugin loads during one) and returns the token `wake` takes for this thread.
    pub bind: extern "C" fn() -> *const c_void,
    /// Unbinds the calling thread (its run ended): what the plugin starts from it afterwards
    /// runs on the plugin's own threads; what runs on the thread's reactor waits for the next
    /// bind and drive.
    pub unbind: extern "C" fn(),
    /// Runs the calling thread's reactor until `timeout_ns` nanoseconds have passed or `wake`
    /// is called with its token. Returns 0 at once when the thread has no reactor yet (the
    /// plugin has started nothing on it), else 1.
    pub drive: extern "C" fn(timeout_ns: u64) -> u8,
    /// Ends the current (or next) `drive` of the token's thread; callable from any thread.
    pub wake: extern "C" fn(token: *const c_void),
}
