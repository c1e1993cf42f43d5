//! A plugin's function or method as a Lua function, built on the builtins' calling protocol so
//! its errors read `x.lua:3: crypto.hash: bad argument #1 'data' (...)` like any builtin's.

use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use abi_stable::std_types::RResult;
use assay_sdk::abi::{Callable, ObjectClass};
use mlua::{Function, Lua, MultiValue};

use super::bridge;
use super::host::Calling;
use super::object::PluginObject;
use crate::builtins::args::Args;
use crate::builtins::function::{BuiltinResult, Raise, Started, function, ready_or_async_function};

/// What a call is made on: nothing (a free function) or an object of `class`.
#[derive(Clone, Copy)]
pub enum Receiver {
    None,
    Object(&'static ObjectClass),
}

/// Creates the Lua function `name` calling `callable`.
pub fn lua_function(
    lua: &Lua,
    name: &'static str,
    callable: Callable,
    receiver: Receiver,
) -> mlua::Result<Function> {
    match callable {
        Callable::Sync { data, call } => {
            function(lua, name, move |lua, args| -> BuiltinResult<MultiValue> {
                let (this, values) = prepare(lua, &args, receiver)?;
                let result = {
                    let _calling = Calling::enter(lua);
                    call(data, this.pointer(), values)
                };
                drop(this);
                finish(lua, result)
            })
        }
        // The plugin's async functions complete at once more often than not (the SDK runs
        // one on this thread up to its first pending await): those cost a plain call.
        Callable::Async { data, call } => ready_or_async_function(lua, name, move |lua, args| {
            // The plugin takes its own reference to the object before `call` returns, so the
            // userdata may be collected while the future runs.
            let (this, values) = prepare(lua, &args, receiver)?;
            let mut future = {
                let _calling = Calling::enter(lua);
                call(data, this.pointer(), values)
            };
            drop(this);
            let mut cx = Context::from_waker(Waker::noop());
            match Pin::new(&mut future).poll(&mut cx) {
                Poll::Ready(result) => Ok(Started::Ready(finish(lua, result)?)),
                Poll::Pending => {
                    let lua = lua.clone();
                    Ok(Started::Pending(async move { finish(&lua, future.await) }))
                }
            }
        }),
    }
}

/// The receiver, with a reference of its own for the duration of the call: whatever Lua does
/// meanwhile (`<close>`, a finalizer), the pointer handed to the plugin stays valid.
enum This {
    None,
    Object(assay_sdk::Object),
}

impl This {
    fn pointer(&self) -> *const c_void {
        match self {
            This::None => std::ptr::null(),
            This::Object(obj) => obj.raw().this,
        }
    }
}

fn prepare(
    lua: &Lua,
    args: &Args,
    receiver: Receiver,
) -> BuiltinResult<(This, abi_stable::std_types::RVec<assay_sdk::Value>)> {
    let (this, rest) = match receiver {
        Receiver::None => (This::None, 1),
        Receiver::Object(class) => {
            let expected = class.type_name.as_str();
            let obj = match args.value(1) {
                mlua::Value::UserData(ud) => ud.borrow::<PluginObject>().ok(),
                _ => None,
            }
            .filter(|o| std::ptr::eq(o.class(), class))
            .ok_or_else(|| {
                Raise::msg(format!(
                    "bad argument #1 'self' ({expected} expected; call it as obj:method(...))"
                ))
            })?;
            let held = obj.get().map_err(Raise::Message)?.clone();
            (This::Object(held), 2)
        }
    };
    let values: Vec<mlua::Value> = (rest..=args.len()).map(|i| args.value(i)).collect();
    let converted = bridge::to_values(lua, &values, "bad argument").map_err(Raise::Message)?;
    Ok((this, converted))
}

fn finish(lua: &Lua, result: assay_sdk::abi::CallResult) -> BuiltinResult<MultiValue> {
    match result {
        RResult::ROk(values) => Ok(bridge::to_lua_values(lua, values)?),
        RResult::RErr(message) => match super::passed_back::take(lua, &message) {
            Some(value) => Err(Raise::Value(value)),
            None => Err(Raise::Message(message.into_string())),
        },
    }
}
