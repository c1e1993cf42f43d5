//! Arguments and errors the way `lauxlib.c` makes them, so the pattern functions fail with
//! Lua's own words: `bad argument #2 to 'find' (string expected, got nil)`, numbers accepted
//! where strings are expected, strings where integers are.

use mlua::{Integer, IntoLuaMulti, Lua, LuaString, MultiValue, Value};

use super::engine::Stop;
use crate::builtins::function::{BuiltinResult, Raise, error_message};

/// `luaL_argerror`: the message names the function as the caller wrote it (`'find'`, or `'f'`
/// after `local f = string.find`), and does not count `self` in a method call, as Lua does.
pub fn arg_error(lua: &Lua, arg: usize, fname: &str, extramsg: &str) -> Raise {
    // Level 0 is the Rust function, level 1 the glue wrapper the script called.
    let (name, method, tail) = lua
        .inspect_stack(1, |frame| {
            let names = frame.names();
            (
                names.name.map(|n| n.into_owned()),
                names.name_what == Some("method"),
                frame.is_tail_call(),
            )
        })
        .unwrap_or((None, false, false));
    let mut arg = arg;
    if method {
        arg -= 1;
        if arg == 0 {
            let name = name.as_deref().unwrap_or("?");
            return Raise::Positioned(format!("calling '{name}' on bad self ({extramsg})"));
        }
    }
    // Without a name, Lua finds the function in the loaded modules ('string.find') when a C
    // function called it; a tail call (`return s:find(p)`) is named at its call in Lua, but
    // the glue wrapper's tail call drops that frame here, so use the usual name.
    let name = name.unwrap_or_else(|| {
        if tail {
            fname.to_owned()
        } else {
            format!("string.{fname}")
        }
    });
    Raise::Positioned(format!("bad argument #{arg} to '{name}' ({extramsg})"))
}

/// The arguments of one call, owned, so that each is moved out rather than copied.
pub struct Params {
    values: Vec<Value>,
}

impl Params {
    pub fn new(values: MultiValue) -> Self {
        Self {
            values: values.into_vec(),
        }
    }

    /// How many arguments were passed.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The argument at 1-based `arg` (nil when absent), moved out.
    pub fn take(&mut self, arg: usize) -> Value {
        match self.values.get_mut(arg - 1) {
            Some(v) => std::mem::replace(v, Value::Nil),
            None => Value::Nil,
        }
    }
}

/// `luaL_typeerror` for `value`, argument `arg` of `params`.
pub fn type_error(
    lua: &Lua,
    params: &Params,
    arg: usize,
    fname: &str,
    expected: &str,
    value: &Value,
) -> Raise {
    let got = if arg > params.len() {
        "no value".to_owned()
    } else {
        type_arg(value)
    };
    arg_error(lua, arg, fname, &format!("{expected} expected, got {got}"))
}

/// The type a type error names: the `__name` metafield, else Lua's type name.
fn type_arg(value: &Value) -> String {
    let named = match value {
        Value::Table(t) => t
            .metatable()
            .and_then(|mt| mt.raw_get::<Value>("__name").ok()),
        Value::UserData(u) => u
            .metatable()
            .ok()
            .and_then(|mt| mt.get::<Value>("__name").ok()),
        _ => None,
    };
    match named {
        Some(Value::String(s)) => s.to_string_lossy(),
        _ => match value {
            Value::LightUserData(_) => "light userdata".to_owned(),
            v => type_name(v).to_owned(),
        },
    }
}

/// `luaL_typename`.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// `luaL_checklstring`: a string, or a number converted as Lua converts it.
pub fn string(lua: &Lua, params: &mut Params, arg: usize, fname: &str) -> Result<LuaString, Raise> {
    match params.take(arg) {
        Value::String(s) => Ok(s),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s),
            None => Err(type_error(lua, params, arg, fname, "string", &v)),
        },
        v => Err(type_error(lua, params, arg, fname, "string", &v)),
    }
}

/// `luaL_optinteger`: nil or absent gives `default`; a float or string must hold an integer.
pub fn opt_integer(
    lua: &Lua,
    params: &mut Params,
    arg: usize,
    fname: &str,
    default: Integer,
) -> Result<Integer, Raise> {
    match params.take(arg) {
        Value::Nil => Ok(default),
        Value::Integer(n) => Ok(n),
        v @ (Value::Number(_) | Value::String(_)) => {
            if let Some(n) = lua.coerce_integer(v.clone())? {
                Ok(n)
            } else if lua.coerce_number(v.clone())?.is_some() {
                Err(arg_error(
                    lua,
                    arg,
                    fname,
                    "number has no integer representation",
                ))
            } else {
                Err(type_error(lua, params, arg, fname, "number", &v))
            }
        }
        v => Err(type_error(lua, params, arg, fname, "number", &v)),
    }
}

/// `lua_toboolean`.
pub fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Nil | Value::Boolean(false))
}

/// `posrelatI`: a 1-based start position, negative from the end, clipped to `[1, inf)`.
pub fn start_position(pos: Integer, len: usize) -> usize {
    if pos > 0 {
        usize::try_from(pos).unwrap_or(usize::MAX)
    } else if pos == 0 || pos.unsigned_abs() > len as u64 {
        1
    } else {
        len - pos.unsigned_abs() as usize + 1
    }
}

/// A stopped match as the script sees it: pattern errors at the caller's position, the
/// interrupt's error passed on as it is.
pub fn stopped(stop: Stop) -> Raise {
    match stop {
        Stop::Error(message) => Raise::Positioned(message),
        Stop::Interrupted(e) => passed_on(e),
    }
}

/// An error from Rust to raise unchanged: a memory error stays one, anything else goes to
/// the script as the same error value mlua would raise for it.
pub fn passed_on(e: mlua::Error) -> Raise {
    match e {
        mlua::Error::MemoryError(_) => Raise::Lua(e),
        e if is_memory_error(&e) => Raise::Lua(crate::vm::memory::out_of_memory()),
        e => Raise::Value(Value::Error(Box::new(e))),
    }
}

/// An error value caught by `pcall` (from a replacement function or `__index`), to raise
/// again unchanged. Memory errors stay memory errors: Lua raises its "not enough memory"
/// message as one (`lua_error`), and mlua's error objects keep their kind.
pub fn reraise(value: Value) -> Raise {
    Raise::Value(value)
}

fn is_memory_error(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } => is_memory_error(cause),
        mlua::Error::WithContext { cause, .. } => is_memory_error(cause),
        _ => false,
    }
}

/// Where an error of these functions is raised, as Lua's `luaL_where(L, 1)` says it for a C
/// function: `"file:line: "` of the function that called the wrapper (level 0 is the Rust
/// function, 1 the Lua wrapper), or nothing when that is a C function (`pcall(string.find,
/// s, "%")` reports no position in Lua either).
pub fn position(lua: &Lua) -> String {
    lua.inspect_stack(2, |frame| {
        let line = frame.current_line()?;
        let source = frame.source();
        Some(format!(
            "{}:{line}: ",
            source.short_src.as_deref().unwrap_or("?")
        ))
    })
    .flatten()
    .unwrap_or_default()
}

/// An empty list of results: `true`, which [`deliver`] hands to the wrapper before them
/// (the results go after it, so that no value has to move to make room for it).
pub fn results() -> Vec<Value> {
    let mut values = Vec::with_capacity(4);
    values.push(Value::Boolean(true));
    values
}

/// The results of a call that found nothing: `nil` (Lua's `luaL_pushfail`).
pub fn fail_result() -> Vec<Value> {
    vec![Value::Boolean(true), Value::Nil]
}

/// The builtin protocol's `finish` for these functions (see `WRAP_GLUE`): `(true,
/// results...)`, or `(false, error)` for the glue to raise; memory errors raise directly.
pub fn deliver(lua: &Lua, result: BuiltinResult<Vec<Value>>) -> mlua::Result<MultiValue> {
    let failed = |value: Value| (false, value).into_lua_multi(lua);
    let text =
        |message: String| -> mlua::Result<Value> { Ok(Value::String(lua.create_string(message)?)) };
    match result {
        Ok(values) => Ok(MultiValue::from_vec(values)),
        Err(Raise::Positioned(m) | Raise::Message(m)) => {
            failed(text(format!("{}{m}", position(lua)))?)
        }
        Err(Raise::Value(value)) => failed(value),
        // The plain "not enough memory" Lua's allocator raises (a short string, already
        // interned: making it allocates nothing).
        Err(Raise::Lua(e @ mlua::Error::MemoryError(_))) => {
            match lua.create_string("not enough memory") {
                Ok(message) => failed(Value::String(message)),
                Err(_) => Err(e),
            }
        }
        Err(Raise::Lua(e)) => failed(text(format!("{}{}", position(lua), error_message(&e)))?),
    }
}
