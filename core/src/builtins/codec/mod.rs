//! The bridge between Lua values and data formats (JSON, YAML, TOML), shared by all three.
//!
//! Decoding goes straight from the parser into Lua tables (a serde `DeserializeSeed`, no
//! intermediate tree; JSON's pushes onto the Lua stack, see `to_stack`); encoding walks Lua tables through serde's `Serialize`. Conventions:
//! - `null` decodes to the sentinel [`null`] (`json.null`, `tostring` gives "json.null"),
//!   which encodes back to `null`;
//! - decoded sequences carry a marker metatable, so `[]` encodes back as `[]`;
//!   `json.array(t)` / `json.object(t)` set the markers by hand. A marked array is written up
//!   to its largest key, a hole as null (`t[2] = nil` in `{1, 2, 3}` gives `[1,null,3]`); a key
//!   other than 1, 2, 3, ... in it is an error naming the key: no value is dropped silently;
//! - an unmarked table is an array when its keys are exactly `1..n` (n ≥ 1), else an object
//!   whose keys are written as strings (a sparse `{[1] = "a", [3] = "c"}` is
//!   `{"1":"a","3":"c"}`, which keeps every value); an empty unmarked table is an object (`{}`);
//! - formats whose documents people edit by hand (YAML, TOML) remember the key order of the
//!   objects they decode, so a round trip keeps a manifest's `apiVersion` and `kind` first
//!   (see [`order`]).

mod from_lua;
pub mod order;
mod to_lua;
mod to_stack;

pub use from_lua::{EncodeOptions, Encoder, Limited, MAX_DEPTH, is_too_sparse};
pub use to_lua::LuaSeed;

use std::cell::Cell;

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
    /// Decoded object -> the list of its keys in document order (weak keys: an entry goes
    /// with its object).
    pub order: Table,
    /// Decoded TOML table or array -> the set of its keys that held datetimes (weak keys).
    pub datetimes: Table,
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
    // `tostring(json.null)` says what it is. Light userdata share one metatable, so any other
    // keeps Lua's usual text; the metatable is protected (`getmetatable` gives its name).
    let light = lua.create_table()?;
    let name = lua.create_function(|_, ud: LightUserData| {
        Ok(match ud.0.is_null() {
            true => "json.null".to_owned(),
            false => format!("userdata: {:p}", ud.0),
        })
    })?;
    light.raw_set("__tostring", name)?;
    light.raw_set("__metatable", "json.null")?;
    lua.set_type_metatable::<LightUserData>(Some(light));
    let weak_keys = lua.create_table()?;
    weak_keys.raw_set("__mode", "k")?;
    let order = lua.create_table()?;
    order.set_metatable(Some(weak_keys.clone()))?;
    let datetimes = lua.create_table()?;
    datetimes.set_metatable(Some(weak_keys))?;
    lua.set_app_data(Markers {
        array,
        object,
        order,
        datetimes,
    });
    Ok(())
}

pub fn markers(lua: &Lua) -> mlua::Result<Markers> {
    lua.app_data_ref::<Markers>()
        .map(|m| m.clone())
        .ok_or_else(|| mlua::Error::runtime("assay: codec used before the VM was set up"))
}

/// The VM's memory limit, enforced by the decoder itself while it builds a large value.
///
/// With a memory limit set, mlua runs every table insertion under a protected call (any
/// allocation could fail), which halves decoding speed. While a document is decoded the limit
/// is lifted and this budget checks the VM's usage every [`Budget::EVERY`] values instead, and
/// before every string of [`Budget::CHECKED_STRING`] bytes or more, so the limit still holds,
/// overshot by at most about a MiB (1,024 small strings), and the decode fails cleanly with
/// "not enough memory". The limit is restored on every exit path.
pub struct Budget<'a> {
    lua: &'a Lua,
    limit: usize,
    ticks: Cell<u32>,
}

impl Budget<'_> {
    const EVERY: u32 = 1024;
    /// Strings this long are checked one by one: a thousand of them unchecked would be a
    /// thousand times their size past the limit.
    pub const CHECKED_STRING: usize = 1024;

    /// Counts a string of `len` bytes about to be created; a memory error if it does not fit.
    #[inline]
    pub fn string(&self, len: usize) -> mlua::Result<()> {
        if self.limit > 0 && len >= Self::CHECKED_STRING && self.over(len) {
            return Err(crate::vm::memory::out_of_memory());
        }
        self.tick()
    }

    /// Counts one value; past the limit it is a memory error.
    #[inline]
    pub fn tick(&self) -> mlua::Result<()> {
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if self.limit > 0 && ticks.is_multiple_of(Self::EVERY) && self.over(0) {
            return Err(crate::vm::memory::out_of_memory());
        }
        Ok(())
    }

    /// Whether `extra` more bytes pass the limit even once the garbage is collected (Lua's
    /// allocator collects before it fails; with the limit lifted, this is where it happens).
    fn over(&self, extra: usize) -> bool {
        let over = |lua: &Lua| lua.used_memory().saturating_add(extra) > self.limit;
        if !over(self.lua) {
            return false;
        }
        crate::vm::memory::reclaim(self.lua);
        over(self.lua)
    }
}

impl Drop for Budget<'_> {
    fn drop(&mut self) {
        if self.limit > 0 {
            let _ = self.lua.set_memory_limit(self.limit);
        }
    }
}

/// Runs a bulk decode of `lua` values under a [`Budget`].
pub fn with_budget<R>(lua: &Lua, decode: impl FnOnce(&Budget<'_>) -> R) -> R {
    let limit = lua.set_memory_limit(0).unwrap_or(0);
    let budget = Budget {
        lua,
        limit,
        ticks: Cell::new(0),
    };
    decode(&budget)
}

/// Decodes JSON text onto the Lua stack (see [`to_stack`]): the value, or serde_json's error
/// for text that is not JSON; Lua failures (memory) are errors of their own.
pub fn decode_json(lua: &Lua, text: &[u8]) -> mlua::Result<Result<Value, serde_json::Error>> {
    let markers = markers(lua)?;
    with_budget(lua, |budget| {
        to_stack::decode_json(lua, &markers.array, budget, text)
    })
}

/// Decodes one TOML document straight into Lua: `deserialize` drives a parser with the seed
/// it is given; parser errors become messages through `describe`, Lua failures (memory) stay
/// errors. Its datetimes are recognized and remembered.
pub fn decode_toml<E>(
    lua: &Lua,
    deserialize: impl FnOnce(LuaSeed<'_>) -> Result<Value, E>,
    describe: impl FnOnce(E) -> crate::builtins::function::Raise,
) -> crate::builtins::function::BuiltinResult<Value> {
    let markers = markers(lua)?;
    let failure = Cell::new(None);
    let datetime = Cell::new(false);
    with_budget(lua, |budget| {
        let seed = LuaSeed {
            lua,
            markers: &markers,
            failure: &failure,
            budget,
            datetime: &datetime,
        };
        deserialize(seed).map_err(|e| match failure.take() {
            Some(lua_error) => crate::builtins::function::Raise::Lua(lua_error),
            None => describe(e),
        })
    })
}
