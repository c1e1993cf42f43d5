//! `toml`: TOML 1.0 via the `toml` crate.
//!
//! - Datetimes (offset, local, date-only, time-only) decode to their text; the decoded table
//!   remembers which keys held them (invisibly, `codec::Markers::datetimes`), so `toml.encode`
//!   writes them back as datetimes, not quoted strings. A string set later under such a key is
//!   written as a datetime when it is one.
//! - `inf`, `-inf` and `nan` decode to `math.huge`, `-math.huge` and NaN, and encode back.
//! - `toml.encode` takes what `toml.parse` returns: a table (a TOML document is always one);
//!   keys are sorted. What TOML cannot hold is refused in words, with the key's path: null
//!   (`json.null`), a top-level array, functions.
//! - `toml.parse` refuses text longer than 1/80 of the memory left (see [`TREE_FACTOR`]).

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
    // Extra arguments are ignored, as Lua's own functions ignore them: a parser is fed by
    // readers that return more than the text (`conn:recv()` gives the message and its kind).
    let text = args.string(1, "text")?;
    crate::vm::memory::ensure_room(lua, text.len().saturating_mul(TREE_FACTOR))?;
    let invalid =
        |e: toml::de::Error| Raise::Message(format!("invalid TOML: {}", e.to_string().trim_end()));
    let de = toml::Deserializer::parse(&text).map_err(invalid)?;
    codec::decode_toml(lua, |seed| seed.deserialize(de), invalid)
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let table = args.table(1, "t")?;
    let markers = codec::markers(lua)?;
    let marked_array = table
        .metatable()
        .is_some_and(|mt| mt.to_pointer() == markers.array.to_pointer());
    let sequence = table.raw_len() > 0 && table.pairs::<Value, Value>().count() == table.raw_len();
    if marked_array || sequence {
        return Err(Raise::Message(
            "a TOML document is a table of keys, not an array (wrap it: {items = ...})".into(),
        ));
    }
    let options = EncodeOptions {
        sort_keys: true,
        non_finite: true,
        no_null: Some("TOML has no null (json.null): leave the key out"),
        datetimes: true,
        ..EncodeOptions::default()
    };
    let encoder = Encoder::new(&markers, options);
    let text = encoder.run(lua, &Value::Table(table), |node| toml::to_string(node))?;
    Ok(lua.create_string(text)?)
}
