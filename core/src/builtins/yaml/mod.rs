//! `yaml`: YAML read as Kubernetes reads it, written so that Kubernetes reads it back the same.
//!
//! - Plain scalars mean what they mean to gopkg.in/yaml.v2, the decoder under `sigs.k8s.io/yaml`
//!   (YAML 1.1 style: `0644` is 420, `yes`/`on` are true, `1.20` is the float 1.2); see
//!   [`resolve`] for the whole schema and `tests/conformance/yaml-reference/` for the recorded
//!   answers it is checked against. Integers stay integers; `.inf`/`.nan` are `math.huge`/NaN.
//! - Mapping keys are strings (their text), duplicate keys are errors, merge keys and anchors
//!   work, aliases share their value; see [`compose`].
//! - `null` is `json.null`; sequences remember they were arrays (`[]` stays `[]`); mappings
//!   remember their key order, so `yaml.encode` of a decoded manifest keeps `apiVersion` and
//!   `kind` first. Tables built in Lua are written with sorted keys (stable output).
//! - `yaml.parse` returns nil for a text with no document (empty, or comments only), the value
//!   for one document (`json.null` for an empty one, `---` alone) and refuses several (use
//!   `yaml.parse_all`, which returns them all, empty ones as `json.null`, as PyYAML does).
//! - Nesting is bounded the same way both ways ([`compose::MAX_DEPTH`] levels), and a stream
//!   holds at most [`compose::MAX_DOCUMENTS`] documents.
//! - Writing: serde-saphyr's emitter, which quotes every string a YAML 1.1 reader would take
//!   for something else (`"yes"`, `"0644"`, `"1.20"`, `"2024-01-01"`), so text written here
//!   reads back unchanged by Kubernetes, PyYAML and us.
//!
//! The parser is granit-parser (the maintained fork of saphyr-parser under serde-saphyr):
//! pure Rust, panic-free, with bounded nesting. `serde_yml` is deprecated and flagged unsound
//! (RUSTSEC-2025-0068), so it is not used.

mod compose;
pub(crate) mod resolve;

use mlua::{Lua, Table, Value};

use super::args::Args;
use super::codec::{self, EncodeOptions, Encoder, Limited};
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, yaml: &Table) -> mlua::Result<()> {
    yaml.raw_set("parse", function(lua, "yaml.parse", parse)?)?;
    yaml.raw_set("parse_all", function(lua, "yaml.parse_all", parse_all)?)?;
    yaml.raw_set("encode", function(lua, "yaml.encode", encode)?)?;
    Ok(())
}

fn documents(lua: &Lua, text: &str) -> BuiltinResult<Vec<Value>> {
    let markers = codec::markers(lua)?;
    codec::with_budget(lua, |budget| {
        compose::documents(lua, &markers, budget, text)
    })
}

fn parse(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    // Extra arguments are ignored, as Lua's own functions ignore them: a parser is fed by
    // readers that return more than the text (`conn:recv()` gives the message and its kind).
    let text = args.string(1, "text")?;
    let mut documents = documents(lua, &text)?;
    match documents.len() {
        0 => Ok(Value::Nil),
        1 => Ok(documents.remove(0)),
        n => Err(Raise::Message(format!(
            "the text holds {n} documents; use yaml.parse_all"
        ))),
    }
}

fn parse_all(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    // Extra arguments are ignored, as Lua's own functions ignore them: a parser is fed by
    // readers that return more than the text (`conn:recv()` gives the message and its kind).
    let text = args.string(1, "text")?;
    let documents = documents(lua, &text)?;
    let markers = codec::markers(lua)?;
    let list = lua.create_table_with_capacity(documents.len(), 0)?;
    for (i, document) in documents.into_iter().enumerate() {
        list.raw_seti(i + 1, document)?;
    }
    list.set_metatable(Some(markers.array))?;
    Ok(list)
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let value = args.value(1);
    let markers = codec::markers(lua)?;
    let options = EncodeOptions {
        sort_keys: true,
        keep_order: true,
        max_depth: compose::MAX_DEPTH,
        non_finite: true,
        ..EncodeOptions::default()
    };
    let mut text = String::new();
    // Output that outgrows the free memory is retried once after the garbage is collected.
    crate::vm::memory::with_reclaim(lua, Raise::is_out_of_memory, || {
        text.clear();
        // A fresh encoder per attempt: its estimate of the output starts from nothing.
        let encoder = Encoder::new(&markers, options);
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
