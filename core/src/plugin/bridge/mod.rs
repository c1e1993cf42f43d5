//! Lua values <-> plugin [`Value`]s.
//!
//! Lua -> Value: strings stay bytes; integers and floats keep their subtype; `json.null` is
//! [`Value::Null`]; a table marked by `json.array`/`json.object` (or decoded from JSON/YAML)
//! keeps its shape; otherwise a table whose keys are exactly `1..n` is an array and any other
//! table (the empty one included) a map. Plugin objects and functions pass as handles.
//! Value -> Lua: arrays come back marked as arrays, so `json.encode` keeps `[]`.
//!
//! Both ways stay inside the VM's memory limit. Lua -> Value copies every string into the
//! plugin, outside Lua's accounting, and a table may hold one large string many times: the
//! bytes copied in one call are bounded by the limit ([`StringBytes`]). Value -> Lua
//! ([`to_lua`]) allocates through Lua, whose allocator enforces the limit.

mod to_lua;

use std::cell::OnceCell;

use abi_stable::std_types::RVec;
use assay_sdk::{Bytes, List, Map, Value};
use mlua::{Lua, Table};

use super::callback;
use super::object::PluginObject;
use crate::builtins::codec::{self, Markers};

/// Deeper tables than this are refused (and cycles end here instead of recursing forever).
const MAX_DEPTH: usize = 100;

/// At most this many values cross in one conversion: a table that shares sub-tables (a DAG)
/// may unfold to far more values than Lua holds, outside Lua's memory limit.
const MAX_VALUES: usize = 1 << 22;

/// The marker metatables, fetched on the first table (most calls pass none), the count of
/// values converted so far and the string bytes copied.
struct LazyMarkers<'a> {
    lua: &'a Lua,
    markers: OnceCell<Markers>,
    values: std::cell::Cell<usize>,
    bytes: StringBytes,
}

/// The string bytes one conversion to the plugin has copied, bounded by the VM's memory limit
/// (fetched on the first string): the copies live outside Lua's accounting, and a table that
/// holds one 4 MiB string a thousand times would otherwise copy 4 GB. The limit, not the room
/// left, is the bound: a script near its limit may still pass a large string it holds once.
struct StringBytes {
    copied: std::cell::Cell<usize>,
    limit: OnceCell<Option<usize>>,
}

impl StringBytes {
    fn count(&self, lua: &Lua, len: usize) -> Result<(), String> {
        let copied = self.copied.get().saturating_add(len);
        self.copied.set(copied);
        match *self.limit.get_or_init(|| crate::vm::memory::limit(lua)) {
            Some(limit) if copied > limit => Err(format!(
                "the strings to copy to the plugin add up to more than the script's memory \
                 limit of {} (a table that holds a string many times copies it each time)",
                crate::vm::memory::format_size(limit)
            )),
            _ => Ok(()),
        }
    }
}

impl LazyMarkers<'_> {
    fn get(&self) -> mlua::Result<&Markers> {
        if let Some(m) = self.markers.get() {
            return Ok(m);
        }
        let markers = codec::markers(self.lua)?;
        Ok(self.markers.get_or_init(|| markers))
    }
}

fn lazy(lua: &Lua) -> LazyMarkers<'_> {
    LazyMarkers {
        lua,
        markers: OnceCell::new(),
        values: std::cell::Cell::new(0),
        bytes: StringBytes {
            copied: std::cell::Cell::new(0),
            limit: OnceCell::new(),
        },
    }
}

/// Converts call arguments (or results, `what` saying which); the error names the position.
pub fn to_values(lua: &Lua, args: &[mlua::Value], what: &str) -> Result<RVec<Value>, String> {
    let markers = lazy(lua);
    let mut out = RVec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let value =
            to_value(lua, &markers, arg, 0).map_err(|why| format!("{what} #{} ({why})", i + 1))?;
        out.push(value);
    }
    Ok(out)
}

fn to_value(
    lua: &Lua,
    markers: &LazyMarkers,
    v: &mlua::Value,
    depth: usize,
) -> Result<Value, String> {
    Ok(match v {
        mlua::Value::Nil => Value::Nil,
        mlua::Value::Boolean(b) => Value::Bool(*b),
        mlua::Value::Integer(i) => Value::Int(*i),
        mlua::Value::Number(n) => Value::Float(*n),
        mlua::Value::String(s) => {
            let bytes = s.as_bytes();
            markers.bytes.count(lua, bytes.len())?;
            Value::Str(Bytes::from(&bytes[..]))
        }
        mlua::Value::Table(t) => table(lua, markers, t, depth)?,
        mlua::Value::Function(f) => {
            Value::Function(callback::wrap(lua, f.clone()).map_err(|e| e.to_string())?)
        }
        mlua::Value::UserData(ud) => match ud.borrow::<PluginObject>() {
            Ok(obj) => Value::Object(obj.get().map_err(|e| e.to_string())?.clone()),
            Err(_) => return Err("userdata cannot be passed to a plugin".into()),
        },
        other if codec::is_null(other) => Value::Null,
        // An error raised from Rust (mlua's error value): its text, as `tostring` gives it, so
        // a caught error can be logged or returned in a response like any message.
        mlua::Value::Error(e) => {
            let text = crate::builtins::function::error_message(e);
            markers.bytes.count(lua, text.len())?;
            Value::Str(Bytes::from(text.as_bytes()))
        }
        other => {
            return Err(format!(
                "a {} cannot be passed to a plugin",
                other.type_name()
            ));
        }
    })
}

fn table(lua: &Lua, markers: &LazyMarkers, t: &Table, depth: usize) -> Result<Value, String> {
    if depth >= MAX_DEPTH {
        return Err(format!(
            "table nested more than {MAX_DEPTH} levels deep (or cyclic)"
        ));
    }
    let markers_ref = markers.get().map_err(|e| e.to_string())?;
    let shape = match t.metatable() {
        Some(mt) if mt.to_pointer() == markers_ref.array.to_pointer() => Some(true),
        Some(mt) if mt.to_pointer() == markers_ref.object.to_pointer() => Some(false),
        _ => None,
    };
    let (is_array, len) = match shape {
        // Marked (decoded, or `json.array`): up to its largest key, a hole passed as nil; a
        // key that cannot be an index is an error, never dropped (as `json.encode`).
        Some(true) => (true, marked_array_len(t)?),
        Some(false) => (false, 0),
        // A sequence: its keys are exactly 1..len (`raw_len` alone can be fooled by holes).
        None => {
            let len = t.raw_len();
            let sequence = len > 0
                && t.pairs::<mlua::Value, mlua::Value>().all(|pair| {
                    matches!(pair, Ok((mlua::Value::Integer(k), _)) if k >= 1 && k as usize <= len)
                })
                && t.pairs::<mlua::Value, mlua::Value>().count() == len;
            (sequence, len)
        }
    };
    let seen = markers.values.get() + len.max(t.raw_len()).max(1);
    if seen > MAX_VALUES {
        return Err(format!(
            "table too large to pass (more than {MAX_VALUES} values)"
        ));
    }
    markers.values.set(seen);
    if is_array {
        let mut list = List::with_capacity(len);
        for i in 1..=len {
            let item: mlua::Value = t.raw_get(i).map_err(|e| e.to_string())?;
            list.push(to_value(lua, markers, &item, depth + 1)?);
        }
        return Ok(Value::Array(list));
    }
    let mut map = Map::new();
    for pair in t.pairs::<mlua::Value, mlua::Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        // Every entry counts: a table shared many times is copied each time.
        let seen = markers.values.get() + 1;
        if seen > MAX_VALUES {
            return Err(format!(
                "table too large to pass (more than {MAX_VALUES} values)"
            ));
        }
        markers.values.set(seen);
        let key = to_value(lua, markers, &k, depth + 1)?;
        map.push(key, to_value(lua, markers, &v, depth + 1)?);
    }
    Ok(Value::Map(map))
}

/// The length of a table marked as an array: its largest key, every key a positive integer,
/// not too sparse (as `json.encode`).
fn marked_array_len(t: &mlua::Table) -> Result<usize, String> {
    let (mut len, mut count) = (0, 0);
    for pair in t.pairs::<mlua::Value, mlua::Value>() {
        let (key, _) = pair.map_err(|e| e.to_string())?;
        count += 1;
        match key {
            mlua::Value::Integer(k) if k >= 1 => len = len.max(k as usize),
            other => {
                let shown = match &other {
                    mlua::Value::String(s) => format!("{:?}", s.to_string_lossy()),
                    mlua::Value::Integer(k) => k.to_string(),
                    mlua::Value::Number(n) => n.to_string(),
                    _ => format!("a {}", other.type_name()),
                };
                return Err(format!(
                    "a table marked as an array has the key {shown} (only 1, 2, 3, ... can be \
                     passed as an array)"
                ));
            }
        }
    }
    if crate::builtins::codec::is_too_sparse(len, count) {
        return Err(format!(
            "a table marked as an array has {count} value(s) but its largest key is {len}: too \
             sparse to pass as an array (mark it json.object)"
        ));
    }
    Ok(len)
}

pub use to_lua::{to_lua, to_lua_values};

#[cfg(test)]
mod tests {
    use super::*;

    /// An error value raised from Rust reaches a plugin as its text, not as a refusal ("a
    /// error cannot be passed to a plugin"), so a caught error can be returned in a response.
    #[test]
    fn error_values_cross_as_their_text() {
        let rt = crate::Runtime::builder().build().expect("runtime");
        let lua = rt.lua();
        let error = mlua::Value::Error(Box::new(mlua::Error::runtime("boom at line 3")));
        let converted = to_values(lua, &[error], "bad argument").expect("converted");
        assert_eq!(converted.as_slice(), &[Value::from("boom at line 3")]);
        let thread = mlua::Value::Thread(
            lua.create_thread(lua.create_function(|_, ()| Ok(())).expect("f"))
                .expect("thread"),
        );
        let refused = to_values(lua, &[thread], "bad argument").expect_err("refused");
        assert_eq!(
            refused,
            "bad argument #1 (a thread cannot be passed to a plugin)"
        );
    }
}
