//! `yaml`: YAML 1.2 (core schema: only `true`/`false` are booleans) via `serde-saphyr`, a
//! maintained pure-Rust parser with panic-free parsing and budgets against alias bombs.
//! `serde_yml` is deprecated and flagged unsound (RUSTSEC-2025-0068), so it is not used.
//!
//! Values map like JSON's (`null` is `json.null`, sequences remember they were arrays).
//! `yaml.encode` sorts mapping keys so the same table always gives the same text.

use mlua::{Lua, Table, Value};
use serde::de::DeserializeSeed;

use super::args::Args;
use super::codec::{self, Decoded, EncodeOptions, Encoder, Limited, decode_with_thread_lua};
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, yaml: &Table) -> mlua::Result<()> {
    yaml.raw_set("parse", function(lua, "yaml.parse", parse)?)?;
    yaml.raw_set("parse_all", function(lua, "yaml.parse_all", parse_all)?)?;
    yaml.raw_set("encode", function(lua, "yaml.encode", encode)?)?;
    Ok(())
}

/// YAML 1.2 core schema: `yes`, `on`, `y` stay strings (no "Norway problem").
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options
}

fn invalid(e: serde_saphyr::Error) -> Raise {
    Raise::Message(format!("invalid YAML: {e}"))
}

fn parse(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    let text = args.string(1, "text")?;
    if text.trim().is_empty() {
        return Ok(Value::Nil);
    }
    codec::decode(
        lua,
        |seed| {
            serde_saphyr::with_deserializer_from_str_with_options(&text, options(), |de| {
                seed.deserialize(de)
            })
        },
        invalid,
    )
}

fn parse_all(lua: &Lua, args: Args) -> BuiltinResult<mlua::Table> {
    let text = args.string(1, "text")?;
    let markers = codec::markers(lua)?;
    let (documents, failure) = decode_with_thread_lua(lua, &markers, || {
        serde_saphyr::from_multiple_with_options::<Decoded>(&text, options())
    });
    if let Some(lua_error) = failure {
        return Err(Raise::Lua(lua_error));
    }
    let documents = documents.map_err(invalid)?;
    let list = lua.create_table_with_capacity(documents.len(), 0)?;
    for (i, Decoded(doc)) in documents.into_iter().enumerate() {
        list.raw_seti(i + 1, doc)?;
    }
    list.set_metatable(Some(markers.array))?;
    Ok(list)
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let value = args.value(1);
    let markers = codec::markers(lua)?;
    let mut text = String::new();
    // Output that outgrows the free memory is retried once after the garbage is collected.
    crate::vm::memory::with_reclaim(lua, Raise::is_out_of_memory, || {
        text.clear();
        // A fresh encoder per attempt: its estimate of the output starts from nothing.
        let encoder = Encoder::new(&markers, EncodeOptions { sort_keys: true });
        let mut limited = Limited::new(&mut text, crate::vm::memory::available(lua));
        let written = encoder.run(lua, &value, |node| {
            serde_saphyr::to_fmt_writer(&mut limited, node)
        });
        if limited.exceeded() {
            return Err(Raise::Lua(crate::vm::memory::out_of_memory()));
        }
        written.map(drop)
    })?;
    Ok(lua.create_string(text)?)
}
