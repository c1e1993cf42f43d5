//! Plugin values -> Lua, built on the Lua stack through Lua's C API inside one protected call.
//!
//! Going through mlua's value handles cost a registry slot, a stack move and a drop for every
//! string and table (most of a request handler's conversion, measured at ~20K instructions for
//! a small request). Here a first pass checks the depth and the count and converts the few
//! values that need mlua (plugin objects and functions, marker metatables); the second pass,
//! raw, pushes everything else. It borrows the values and owns nothing that needs dropping, so
//! a Lua error inside it (out of memory: Lua's allocator enforces the VM's limit, collecting
//! first; a NaN key) unwinds cleanly to the protected call and comes back as an error.

use abi_stable::std_types::RVec;
use assay_sdk::Value;
use mlua::ffi;
use mlua::{Lua, MultiValue};

use super::{MAX_DEPTH, MAX_VALUES, callback};
use crate::builtins::codec;

/// Converts results (or a call's arguments) to Lua values. Arrays come back marked as arrays.
pub fn to_lua_values(lua: &Lua, values: RVec<Value>) -> mlua::Result<MultiValue> {
    // No table among them (most plugin calls): one value at a time costs less than the
    // protected call the raw pass needs.
    if !values
        .iter()
        .any(|v| matches!(v, Value::Array(_) | Value::Map(_)))
    {
        return values.into_iter().map(|v| plain(lua, v)).collect();
    }
    let mut handles = Handles::default();
    for v in values.iter() {
        handles.collect(lua, v, 0)?;
    }
    let nargs = 1 + handles.values.len();
    let mut args = MultiValue::with_capacity(nargs);
    args.push_back(match handles.arrays {
        true => mlua::Value::Table(codec::markers(lua)?.array),
        false => mlua::Value::Nil,
    });
    args.extend(handles.values);
    let count = values.len();
    // SAFETY: `build` uses only the C API on `state`, within the stack it checks; it borrows
    // `values` and holds nothing that needs dropping if a Lua error unwinds it.
    let built = unsafe {
        lua.exec_raw::<MultiValue>(args, |state| {
            let nargs = i32::try_from(nargs).unwrap_or(i32::MAX);
            let mut builder = Builder {
                state,
                next_handle: 2,
            };
            for v in values.iter() {
                builder.push(v);
            }
            // Only the results stay: the arguments (marker, handles) go.
            ffi::lua_rotate(state, 1, -nargs);
            ffi::lua_settop(state, i32::try_from(count).unwrap_or(i32::MAX));
        })
    };
    drop(values);
    built
}

/// A value that is not a table.
fn plain(lua: &Lua, v: Value) -> mlua::Result<mlua::Value> {
    Ok(match v {
        Value::Nil => mlua::Value::Nil,
        Value::Null => codec::null(),
        Value::Bool(b) => mlua::Value::Boolean(b),
        Value::Int(i) => mlua::Value::Integer(i),
        Value::Float(f) => mlua::Value::Number(f),
        Value::Str(s) => mlua::Value::String(lua.create_string(s.as_slice())?),
        Value::Object(obj) => mlua::Value::UserData(super::super::object::wrap(lua, obj)?),
        Value::Function(cb) => mlua::Value::Function(callback::unwrap(lua, cb)?),
        Value::Array(_) | Value::Map(_) => {
            let mut values = RVec::with_capacity(1);
            values.push(v);
            return Ok(to_lua_values(lua, values)?
                .pop_front()
                .unwrap_or(mlua::Value::Nil));
        }
    })
}

/// Converts one value to Lua.
pub fn to_lua(lua: &Lua, v: Value) -> mlua::Result<mlua::Value> {
    let mut values = RVec::with_capacity(1);
    values.push(v);
    Ok(to_lua_values(lua, values)?
        .pop_front()
        .unwrap_or(mlua::Value::Nil))
}

/// What the raw pass cannot make itself, in the order it meets them.
#[derive(Default)]
struct Handles {
    values: Vec<mlua::Value>,
    arrays: bool,
    count: usize,
}

impl Handles {
    fn collect(&mut self, lua: &Lua, v: &Value, depth: usize) -> mlua::Result<()> {
        if depth >= MAX_DEPTH {
            return Err(mlua::Error::runtime(format!(
                "the plugin returned a value nested more than {MAX_DEPTH} levels deep"
            )));
        }
        self.count += 1;
        if self.count > MAX_VALUES {
            return Err(mlua::Error::runtime(format!(
                "the plugin returned more than {MAX_VALUES} values"
            )));
        }
        match v {
            Value::Array(list) => {
                self.arrays = true;
                for item in list.iter() {
                    self.collect(lua, item, depth + 1)?;
                }
            }
            Value::Map(map) => {
                for (k, v) in map.iter() {
                    if !matches!(k, Value::Nil) {
                        self.collect(lua, k, depth + 1)?;
                        self.collect(lua, v, depth + 1)?;
                    }
                }
            }
            Value::Object(obj) => {
                let ud = super::super::object::wrap(lua, obj.clone())?;
                self.values.push(mlua::Value::UserData(ud));
            }
            Value::Function(cb) => {
                let f = callback::unwrap(lua, cb.clone())?;
                self.values.push(mlua::Value::Function(f));
            }
            _ => {}
        }
        Ok(())
    }
}

/// The raw pass: stack slot 1 holds the array marker (or nil), 2.. the handles.
struct Builder {
    state: *mut ffi::lua_State,
    next_handle: i32,
}

impl Builder {
    /// Pushes `v` (one slot).
    ///
    /// # Safety
    /// Inside `exec_raw`'s protected call, with the handles `Handles::collect` gathered for
    /// these values on the stack.
    unsafe fn push(&mut self, v: &Value) {
        let state = self.state;
        // SAFETY: see the function's contract; 3 slots cover a table, a key and a value.
        unsafe {
            ffi::luaL_checkstack(state, 3, std::ptr::null());
            match v {
                Value::Nil => ffi::lua_pushnil(state),
                Value::Null => ffi::lua_pushlightuserdata(state, std::ptr::null_mut()),
                Value::Bool(b) => ffi::lua_pushboolean(state, i32::from(*b)),
                Value::Int(i) => ffi::lua_pushinteger(state, *i),
                Value::Float(f) => ffi::lua_pushnumber(state, *f),
                Value::Str(s) => {
                    let bytes = s.as_slice();
                    ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
                }
                Value::Array(list) => {
                    let len = i32::try_from(list.len()).unwrap_or(i32::MAX);
                    ffi::lua_createtable(state, len, 0);
                    for (i, item) in list.iter().enumerate() {
                        self.push(item);
                        ffi::lua_rawseti(state, -2, i as ffi::lua_Integer + 1);
                    }
                    ffi::lua_pushvalue(state, 1);
                    ffi::lua_setmetatable(state, -2);
                }
                Value::Map(map) => {
                    let len = i32::try_from(map.len()).unwrap_or(i32::MAX);
                    ffi::lua_createtable(state, 0, len);
                    for (k, v) in map.iter() {
                        if matches!(k, Value::Nil) {
                            continue;
                        }
                        self.push(k);
                        self.push(v);
                        ffi::lua_rawset(state, -3);
                    }
                }
                Value::Object(_) | Value::Function(_) => {
                    ffi::lua_pushvalue(state, self.next_handle);
                    self.next_handle += 1;
                }
            }
        }
    }
}
