//! The bridge between Lua values and data formats (JSON, YAML, TOML), shared by all three.
//!
//! Decoding goes straight from the parser into Lua tables (a serde `DeserializeSeed`, no
//! intermediate tree); encoding walks Lua tables through serde's `Serialize`. Conventions:
//! - `null` decodes to the sentinel [`null`] (`json.null`), which encodes back to `null`;
//! - decoded sequences carry a marker metatable, so `[]` encodes back as `[]`;
//!   `json.array(t)` / `json.object(t)` set the markers by hand;
//! - an unmarked table is an array when its keys are exactly `1..n` (n ≥ 1), else an object;
//!   an empty unmarked table is an object (`{}`).

mod from_lua;
mod to_lua;

pub use from_lua::{EncodeOptions, Encoder};
pub use to_lua::{Decoded, LuaSeed, decode_with_thread_lua};

use mlua::{LightUserData, Lua, Table, Value};

/// The shape a table was marked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Array,
    Object,
    Unmarked,
}

/// Marker metatables, created once per VM.
#[derive(Clone)]
pub struct Markers {
    pub array: Table,
    pub object: Table,
}

/// The `null` sentinel: a NULL light userdata, like lua-cjson's `cjson.null`.
pub fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

pub fn is_null(value: &Value) -> bool {
    matches!(value, Value::LightUserData(ud) if ud.0.is_null())
}

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let array = lua.create_table()?;
    array.raw_set("__name", "json.array")?;
    let object = lua.create_table()?;
    object.raw_set("__name", "json.object")?;
    lua.set_app_data(Markers { array, object });
    Ok(())
}

pub fn markers(lua: &Lua) -> mlua::Result<Markers> {
    lua.app_data_ref::<Markers>()
        .map(|m| m.clone())
        .ok_or_else(|| mlua::Error::runtime("assay: codec used before the VM was set up"))
}

pub fn shape(markers: &Markers, table: &Table) -> Shape {
    match table.metatable() {
        Some(mt) if mt == markers.array => Shape::Array,
        Some(mt) if mt == markers.object => Shape::Object,
        _ => Shape::Unmarked,
    }
}
