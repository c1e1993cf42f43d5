//! Services the host offers plugins (the `assay.host.v1` extension): a plugin that asks gets
//! [`SERVICES`] right after it registers.
//!
//! `hold` needs to know which VM is calling. Plugin calls happen on the VM's thread, so the
//! call wrapper marks the VM in a thread-local for the length of each call ([`Calling`]).

use std::cell::Cell;
use std::ffi::c_void;

use abi_stable::std_types::RStr;
use assay_sdk::abi::{HOST_SERVICES_V1, HostHookV1, HostServicesV1, PluginModuleRef, RawHold};
use mlua::Lua;

use super::callback;

static SERVICES: HostServicesV1 = HostServicesV1 { hold };

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

/// Hands the services to a plugin that knows the extension.
pub fn offer(module: PluginModuleRef) {
    let hook = (module.extension())(RStr::from_str(HOST_SERVICES_V1));
    if !hook.is_null() {
        // SAFETY: a plugin answering this name returns a `HostHookV1` with static lifetime
        // (the SDK's contract; the ABI types are layout-checked at load).
        let hook = unsafe { &*(hook as *const HostHookV1) };
        (hook.set_services)(&SERVICES);
    }
}

extern "C" fn hold() -> RawHold {
    let lua = CALLING.with(Cell::get);
    if lua.is_null() {
        return RawHold {
            data: std::ptr::null(),
            release: release_nothing,
        };
    }
    // SAFETY: `Calling` keeps the pointer set only while the borrowed VM is inside a call.
    let lua = unsafe { &*lua };
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
