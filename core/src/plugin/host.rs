//! Services the host offers plugins, as optional named extensions a plugin that knows them
//! answers right after it registers:
//!
//! - `assay.host.v1` ([`SERVICES`]): `hold`, a keep-alive on the calling script's run;
//! - `assay.host.v2` ([`SERVICES_V2`]): the calling VM's memory limit, whether it is
//!   sandboxed, and the host's JSON body method (`resp:json()`), which decodes straight into Lua under that limit instead of
//!   through a parsed tree on the plugin's side. The plugin's view of the services' layout is
//!   checked against ours first (abi_stable's checker); a plugin that disagrees, or that does
//!   not know the name, goes without and does that work itself;
//! - `assay.host.v3` ([`SERVICES_V3`]): Lua glue, a function compiled from a plugin's source
//!   in the calling VM (see [`lua_function`]), layout-checked as version 2 is.
//!
//! Each service needs to know which VM is calling. Plugin calls happen on the VM's thread, so
//! the call wrapper marks the VM in a thread-local for the length of each call ([`Calling`]).

use std::cell::Cell;
use std::ffi::c_void;

use abi_stable::StableAbi;
use abi_stable::std_types::{RErr, RNone, ROk, ROption, RResult, RSome, RStr, RString};
use assay_sdk::Callback;
use assay_sdk::abi::{
    HOST_SERVICES_V1, HOST_SERVICES_V2, HOST_SERVICES_V3, HostHookV1, HostHookV2, HostHookV3,
    HostServicesV1, HostServicesV2, HostServicesV3, PluginModuleRef, RawHold,
};
use mlua::Lua;

use super::callback;
use crate::builtins::function::{BuiltinResult, Raise};

static SERVICES: HostServicesV1 = HostServicesV1 { hold };

static SERVICES_V2: HostServicesV2 = HostServicesV2 {
    memory_limit,
    json_method,
    sandboxed,
};

static SERVICES_V3: HostServicesV3 = HostServicesV3 { lua_function };

thread_local! {
    /// The VM whose plugin call is running on this thread, if any.
    static CALLING: Cell<*const Lua> = const { Cell::new(std::ptr::null()) };
}

/// Marks `lua` as the caller until dropped (nesting restores the outer caller).
pub struct Calling(*const Lua);

impl Calling {
    pub fn enter(lua: &Lua) -> Calling {
        Calling(CALLING.with(|c| c.replace(lua as *const Lua)))
    }
}

impl Drop for Calling {
    fn drop(&mut self) {
        CALLING.with(|c| c.set(self.0));
    }
}

/// Hands the services to a plugin that knows the extensions.
pub fn offer(module: PluginModuleRef) {
    let hook = (module.extension())(RStr::from_str(HOST_SERVICES_V1));
    if !hook.is_null() {
        // SAFETY: a plugin answering this name returns a `HostHookV1` with static lifetime
        // (the SDK's contract; the ABI types are layout-checked at load).
        let hook = unsafe { &*(hook as *const HostHookV1) };
        (hook.set_services)(&SERVICES);
    }
    let hook = (module.extension())(RStr::from_str(HOST_SERVICES_V2));
    if !hook.is_null() {
        // SAFETY: a plugin answering this name returns a `HostHookV2` with static lifetime
        // (the SDK's contract; the hook's own layout is frozen with the name).
        let hook = unsafe { &*(hook as *const HostHookV2) };
        if services_agree::<HostServicesV2>(hook.services_layout) {
            (hook.set_services)(&SERVICES_V2);
        }
    }
    let hook = (module.extension())(RStr::from_str(HOST_SERVICES_V3));
    if !hook.is_null() {
        // SAFETY: as for version 2.
        let hook = unsafe { &*(hook as *const HostHookV3) };
        if services_agree::<HostServicesV3>(hook.services_layout) {
            (hook.set_services)(&SERVICES_V3);
        }
    }
}

/// Whether a plugin's view of the services `S` (`theirs`) is our layout: a plugin built
/// against another definition (a field more or less, another signature) gets no services and
/// does the work itself, instead of calling through the wrong pointers.
fn services_agree<S: StableAbi>(theirs: &'static abi_stable::type_layout::TypeLayout) -> bool {
    abi_stable::abi_stability::check_layout_compatibility(theirs, S::LAYOUT).is_ok()
}

/// The VM making the plugin call under way on this thread, if any.
fn calling() -> Option<&'static Lua> {
    let lua = CALLING.with(Cell::get);
    // SAFETY: `Calling` keeps the pointer set only while the borrowed VM is inside a call,
    // and the services that read it return before that call does.
    (!lua.is_null()).then(|| unsafe { &*lua })
}

extern "C" fn memory_limit() -> ROption<u64> {
    match calling() {
        Some(lua) => RSome(crate::vm::memory::limit(lua).map_or(0, |l| l as u64)),
        None => RNone,
    }
}

extern "C" fn sandboxed() -> ROption<bool> {
    match calling() {
        Some(lua) => RSome(
            lua.app_data_ref::<crate::builtins::BuiltinOptions>()
                .is_some_and(|o| o.sandbox),
        ),
        None => RNone,
    }
}

extern "C" fn json_method() -> ROption<Callback> {
    let Some(lua) = calling() else {
        return RNone;
    };
    // Nothing may unwind through `extern "C"`; a failure (memory) leaves the plugin to its own
    // decoder.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| json_method_of(lua))) {
        Ok(Ok(method)) => RSome(method),
        _ => RNone,
    }
}

/// The VM's JSON body method, made on first use and kept for the VM's life (so every request
/// and response of the script shares one function, and handing it out is a reference count).
struct JsonMethod(Callback);

fn json_method_of(lua: &Lua) -> mlua::Result<Callback> {
    if let Some(method) = lua.app_data_ref::<JsonMethod>() {
        return Ok(method.0.clone());
    }
    let f = crate::builtins::function::function(lua, "json", decode_body)?;
    let method = callback::wrap(lua, f)?;
    lua.set_app_data(JsonMethod(method.clone()));
    Ok(method)
}

/// `r:json()`: `r.body` decoded by the core's JSON decoder (`json.parse`'s rules and errors),
/// straight from the Lua string's bytes into Lua values, under the VM's memory limit.
fn decode_body(lua: &Lua, args: crate::builtins::args::Args) -> BuiltinResult<mlua::Value> {
    let this = match args.value(1) {
        mlua::Value::Table(this) => this,
        other => {
            return Err(Raise::Message(format!(
                "bad argument #1 'self' (table expected, got {}; call it as r:json())",
                crate::builtins::args::type_name(&other)
            )));
        }
    };
    match this.raw_get::<mlua::Value>("body")? {
        mlua::Value::String(body) => crate::builtins::json::decode(lua, &body.as_bytes()),
        mlua::Value::Nil => crate::builtins::json::decode(lua, b""),
        other => Err(Raise::Message(format!(
            "body is a {}, not a string",
            crate::builtins::args::type_name(&other)
        ))),
    }
}

extern "C" fn lua_function(
    name: RStr<'_>,
    source: RStr<'_>,
) -> ROption<RResult<Callback, RString>> {
    let Some(lua) = calling() else {
        return RNone;
    };
    let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::glue::function(lua, name.as_str(), source.as_str())
    }));
    RSome(match made {
        Ok(Ok(callback)) => ROk(callback),
        Ok(Err(e)) => RErr(RString::from(e.to_string())),
        Err(_) => RErr(RString::from("the host panicked compiling the glue")),
    })
}

extern "C" fn hold() -> RawHold {
    let Some(lua) = calling() else {
        return RawHold {
            data: std::ptr::null(),
            release: release_nothing,
        };
    };
    match callback::hold(lua) {
        Some(handle) => RawHold {
            data: Box::into_raw(Box::new(handle)) as *const c_void,
            release: release_hold,
        },
        None => RawHold {
            data: std::ptr::null(),
            release: release_nothing,
        },
    }
}

extern "C" fn release_hold(data: *const c_void) {
    // SAFETY: made by `hold` from a boxed `RemoteHold`, released once by the SDK's Drop.
    drop(unsafe { Box::from_raw(data as *mut callback::RemoteHold) });
}

extern "C" fn release_nothing(_: *const c_void) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `HostServicesV2` as a plugin built before a field was added would see it.
    #[repr(C)]
    #[derive(StableAbi)]
    struct Shorter {
        memory_limit: extern "C" fn() -> ROption<u64>,
        json_method: extern "C" fn() -> ROption<Callback>,
    }

    /// The same fields, one with another signature.
    #[repr(C)]
    #[derive(StableAbi)]
    struct Retyped {
        memory_limit: extern "C" fn() -> ROption<u32>,
        json_method: extern "C" fn() -> ROption<Callback>,
        sandboxed: extern "C" fn() -> ROption<bool>,
    }

    #[test]
    fn services_go_only_to_plugins_that_agree_on_their_layout() {
        let agree = services_agree::<HostServicesV2>;
        assert!(agree(<HostServicesV2 as StableAbi>::LAYOUT));
        assert!(!agree(<Shorter as StableAbi>::LAYOUT));
        assert!(!agree(<Retyped as StableAbi>::LAYOUT));
        assert!(!agree(<HostServicesV3 as StableAbi>::LAYOUT));
        assert!(services_agree::<HostServicesV3>(
            <HostServicesV3 as StableAbi>::LAYOUT
        ));
    }
}
