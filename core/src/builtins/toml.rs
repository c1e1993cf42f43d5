//! `toml`: TOML 1.0 via the `toml` crate. Datetimes decode to their RFC 3339 text.
//! `toml.encode` takes a table (a TOML document is always a table) and sorts keys.
//! `toml.parse` refuses text longer than 1/80 of the memory left (see [`TREE_FACTOR`]).

use mlua::{Lua, Table, Value};
use serde::de::DeserializeSeed;

use super::args::Args;
use super::codec::{self, EncodeOptions, Encoder};
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, toml: &Table) -> mlua::Result<()> {
    toml.raw_set("parse", function(lua, "toml.parse", parse)?)?;
    toml.raw_set("encode", function(lua, "toml.encode", encode)?)?;
    Ok(())
}

/// The `toml` crate builds the whole document in Rust before it reaches Lua, at up to about
/// 70 times the text's size (an array of small numbers): text longer than this fraction of
/// the memory left is refused as "not enough memory" rather than built outside the limit.
const TREE_FACTOR: usize = 80;

fn parse(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    let text = args.string(1, "text")?;
    crate::vm::memory::ensure_room(lua, text.len().saturating_mul(TREE_FACTOR))?;
    let invalid =
        |e: toml::de::Error| Raise::Message(format!("invalid TOML: {}", e.to_string().trim_end()));
    let de = toml::Deserializer::parse(&text).map_err(invalid)?;
    codec::decode(lua, |seed| seed.deserialize(de), invalid)
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let table = args.table(1, "t")?;
    let markers = codec::markers(lua)?;
    let encoder = Encoder::new(
        &markers,
        EncodeOptions {
            sort_keys: true,
            ..EncodeOptions::default()
        },
    );
    let text = encoder.run(lua, &Value::Table(table), |node| toml::to_string(node))?;
    Ok(lua.create_string(text)?)
}
