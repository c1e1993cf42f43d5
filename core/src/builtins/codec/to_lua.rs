//! Parser events straight into Lua values as mlua `Value`s: the decoder of TOML documents,
//! whose datetimes come as private one-entry maps and are remembered per collection. JSON,
//! where speed matters most, builds its values on the Lua stack instead (`to_stack`).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use mlua::{Lua, Value};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Budget, Markers, null};

/// TOML hands its datetimes to `deserialize_any` as a one-entry map with this key.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// Builds one Lua value from a deserializer.
///
/// A Lua failure (out of memory) cannot travel through serde's error type intact, so it is
/// parked in `failure`; callers check it first when deserialization fails.
#[derive(Clone, Copy)]
pub struct LuaSeed<'a> {
    pub lua: &'a Lua,
    pub markers: &'a Markers,
    pub failure: &'a Cell<Option<mlua::Error>>,
    pub budget: &'a Budget<'a>,
    /// Set when the value just built was a TOML datetime (a string in Lua): the collection
    /// holding it records its key, so `toml.encode` writes it back as a datetime.
    pub datetime: &'a Cell<bool>,
}

impl LuaSeed<'_> {
    fn lua_err<E: de::Error>(&self, e: mlua::Error) -> E {
        let message = e.to_string();
        self.failure.set(Some(e));
        E::custom(message)
    }

    fn string<E: de::Error>(&self, bytes: &[u8]) -> Result<Value, E> {
        self.budget
            .string(bytes.len())
            .map_err(|e| self.lua_err(e))?;
        self.lua
            .create_string(bytes)
            .map(Value::String)
            .map_err(|e| self.lua_err(e))
    }
}

impl<'de> DeserializeSeed<'de> for LuaSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LuaSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Number(v as f64), Value::Integer))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Number(v as f64), Value::Integer))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Number(v as f64), Value::Integer))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.string(v.as_bytes())
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        self.string(v)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(null())
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(null())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let capacity = seq.size_hint().unwrap_or(0).min(4096);
        let table = self
            .lua
            .create_table_with_capacity(capacity, 0)
            .map_err(|e| self.lua_err(e))?;
        let mut index = 0;
        let mut datetimes = Datetimes::default();
        while let Some(item) = seq.next_element_seed(self)? {
            index += 1;
            self.budget.tick().map_err(|e| self.lua_err(e))?;
            table.raw_seti(index, item).map_err(|e| self.lua_err(e))?;
            datetimes
                .note(&self, || Ok(Value::Integer(index as i64)))
                .map_err(|e| self.lua_err(e))?;
        }
        datetimes
            .record(&self, &table)
            .map_err(|e| self.lua_err(e))?;
        table
            .set_metatable(Some(self.markers.array.clone()))
            .map_err(|e| self.lua_err(e))?;
        Ok(Value::Table(table))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let capacity = map.size_hint().unwrap_or(0).min(4096);
        let table = self
            .lua
            .create_table_with_capacity(0, capacity)
            .map_err(|e| self.lua_err(e))?;
        let mut datetimes = Datetimes::default();
        let mut next = map.next_key_seed(KeySeed(self))?;
        // The toml crate hands a datetime over as a map of one entry under a private key.
        if let Some(Key::Str(k)) = &next
            && k == TOML_DATETIME_KEY
        {
            let value = map.next_value_seed(self)?;
            next = map.next_key_seed(KeySeed(self))?;
            if next.is_none() {
                self.datetime.set(true);
                return Ok(value);
            }
            self.budget.tick().map_err(|e| self.lua_err(e))?;
            table
                .raw_set(TOML_DATETIME_KEY, value)
                .map_err(|e| self.lua_err(e))?;
        }
        while let Some(key) = next {
            let value = map.next_value_seed(self)?;
            self.budget.tick().map_err(|e| self.lua_err(e))?;
            let stored = match &key {
                Key::Str(k) => table.raw_set(k.as_ref(), value),
                Key::Value(k) => table.raw_set(k, value),
            };
            stored.map_err(|e| self.lua_err(e))?;
            datetimes
                .note(&self, || match key {
                    Key::Str(k) => self.lua.create_string(k.as_ref()).map(Value::String),
                    Key::Value(k) => Ok(k),
                })
                .map_err(|e| self.lua_err(e))?;
            next = map.next_key_seed(KeySeed(self))?;
        }
        datetimes
            .record(&self, &table)
            .map_err(|e| self.lua_err(e))?;
        Ok(Value::Table(table))
    }
}

/// A map key: borrowed text when the parser allows it (no allocation, no Lua reference).
enum Key<'de> {
    Str(Cow<'de, str>),
    Value(Value),
}

struct KeySeed<'a>(LuaSeed<'a>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Str(Cow::Owned(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key<'de>, E> {
        self.0.visit_bool(v).map(Key::Value)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key<'de>, E> {
        self.0.visit_i64(v).map(Key::Value)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key<'de>, E> {
        self.0.visit_u64(v).map(Key::Value)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key<'de>, E> {
        self.0.visit_f64(v).map(Key::Value)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key<'de>, E> {
        self.0.visit_bytes(v).map(Key::Value)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key<'de>, E> {
        self.0.visit_unit().map(Key::Value)
    }

    fn visit_none<E: de::Error>(self) -> Result<Key<'de>, E> {
        self.0.visit_none().map(Key::Value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Key<'de>, A::Error> {
        self.0.visit_seq(seq).map(Key::Value)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Key<'de>, A::Error> {
        self.0.visit_map(map).map(Key::Value)
    }
}

/// The keys of one collection that held TOML datetimes, recorded in `Markers::datetimes`.
#[derive(Default)]
struct Datetimes(Option<mlua::Table>);

impl Datetimes {
    /// Notes `key` if the value just stored under it was a datetime.
    fn note(
        &mut self,
        seed: &LuaSeed<'_>,
        key: impl FnOnce() -> mlua::Result<Value>,
    ) -> mlua::Result<()> {
        if !seed.datetime.take() {
            return Ok(());
        }
        let set = match &self.0 {
            Some(set) => set,
            None => self.0.insert(seed.lua.create_table()?),
        };
        set.raw_set(key()?, true)
    }

    fn record(self, seed: &LuaSeed<'_>, table: &mlua::Table) -> mlua::Result<()> {
        match self.0 {
            Some(set) => seed.markers.datetimes.raw_set(table, set),
            None => Ok(()),
        }
    }
}
