//! `json`: strict RFC 8259 parsing straight into Lua tables, and encoding back.
//!
//! - Integers stay integers (`1` vs `1.0`); integers beyond 64 bits and all other numbers become
//!   floats (nearest double, correctly rounded).
//! - `null` is `json.null`; decoded arrays remember they were arrays; `{}` and `[]` round-trip.
//! - Errors name the byte offset (0-based), line and column.
//! - Nesting is limited to 128 levels when parsing (a guard against stack exhaustion on hostile
//!   input) and 1000 when encoding.
//! - Object keys encode in table order unless `sort_keys = true`; `pretty = true` indents by two.

use mlua::{Lua, Table, Value};

use super::args::Args;
use super::codec::{self, EncodeOptions, Encoder, Limited, Shape};
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, json: &Table) -> mlua::Result<()> {
    json.raw_set("parse", function(lua, "json.parse", parse)?)?;
    json.raw_set("encode", function(lua, "json.encode", encode)?)?;
    json.raw_set("null", codec::null())?;
    json.raw_set(
        "array",
        function(lua, "json.array", |lua, args| mark(lua, args, Shape::Array))?,
    )?;
    json.raw_set(
        "object",
        function(lua, "json.object", |lua, args| {
            mark(lua, args, Shape::Object)
        })?,
    )?;
    Ok(())
}

fn parse(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    // Extra arguments are ignored, as Lua's own functions ignore them: a parser is fed by
    // readers that return more than the text (`conn:recv()` gives the message and its kind).
    let text = args.bytes(1, "text")?;
    decode(lua, &text.as_bytes())
}

/// JSON text straight into Lua, with `json.parse`'s rules and errors (also the http plugin's
/// `r:json()`, through the plugin host).
pub(crate) fn decode(lua: &Lua, bytes: &[u8]) -> BuiltinResult<Value> {
    codec::decode_json(lua, bytes)?.map_err(|e| Raise::Message(describe(&e, bytes)))
}

/// serde_json reports line and column; users of a byte string want the offset too.
fn describe(e: &serde_json::Error, input: &[u8]) -> String {
    let full = e.to_string();
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(r, _)| r);
    let line_start: usize = input
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    let offset = (line_start + e.column().saturating_sub(1)).min(input.len());
    format!(
        "invalid JSON: {reason} at byte {offset} (line {}, column {})",
        e.line(),
        e.column()
    )
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(2)?;
    let value = args.value(1);
    let opts = args.options(2)?;
    opts.only(&["pretty", "sort_keys"])?;
    let pretty = opts.bool("pretty", false)?;
    let options = EncodeOptions {
        sort_keys: opts.bool("sort_keys", false)?,
        ..EncodeOptions::default()
    };
    let markers = codec::markers(lua)?;
    let mut out = take_buffer(lua);
    // Measured once per attempt: output that outgrows the free memory is retried once after
    // the garbage is collected.
    let written = crate::vm::memory::with_reclaim(lua, Raise::is_out_of_memory, || {
        out.clear();
        // A fresh encoder per attempt: its estimate of the output starts from nothing.
        let encoder = Encoder::new(&markers, options);
        let mut limited = Limited::new(&mut out, crate::vm::memory::available(lua));
        let written = encoder.run(lua, &value, |node| {
            if pretty {
                serde_json::to_writer_pretty(&mut limited, node)
            } else {
                serde_json::to_writer(&mut limited, node)
            }
        });
        match limited.exceeded() {
            true => Err(Raise::Lua(crate::vm::memory::out_of_memory())),
            false => written,
        }
    });
    let result = written.and_then(|()| Ok(lua.create_string(&out)?));
    give_back_buffer(lua, out);
    result
}

/// The output buffer, kept between calls so repeated encodes (a server's responses) do not
/// grow a new one from nothing each time; buffers above [`KEPT_BUFFER`] are not kept.
#[derive(Default)]
struct EncodeBuffer(std::cell::RefCell<Vec<u8>>);

const KEPT_BUFFER: usize = 4 << 20;

fn take_buffer(lua: &Lua) -> Vec<u8> {
    match lua.app_data_ref::<EncodeBuffer>() {
        Some(buffer) => std::mem::take(&mut *buffer.0.borrow_mut()),
        None => Vec::with_capacity(256),
    }
}

fn give_back_buffer(lua: &Lua, mut out: Vec<u8>) {
    if out.capacity() > KEPT_BUFFER {
        return;
    }
    out.clear();
    match lua.app_data_ref::<EncodeBuffer>() {
        Some(buffer) => *buffer.0.borrow_mut() = out,
        None => {
            lua.set_app_data(EncodeBuffer(std::cell::RefCell::new(out)));
        }
    }
}

/// `json.array(t)` / `json.object(t)`: mark `t` (or a new table) to encode as that shape.
fn mark(lua: &Lua, args: Args, shape: Shape) -> BuiltinResult<Table> {
    let table = match args.value(1) {
        Value::Nil => lua.create_table()?,
        Value::Table(t) => t,
        _ => return Err(args.bad(1, "t", "table or nil")),
    };
    let markers = codec::markers(lua)?;
    let mt = match shape {
        Shape::Array => markers.array,
        _ => markers.object,
    };
    table.set_metatable(Some(mt))?;
    Ok(table)
}
